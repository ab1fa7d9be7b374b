//! `baton run --metrics ADDR`: a runner with no dashboard serves the namespace's `/metrics`.
//! A taken address or an unguarded bind is refused before anything starts, and a real Prometheus
//! scrapes the runner (with its token) and answers a query for a counter the test caused.

use crate::harness::Bench;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

const TOKEN: &str = "runner-metrics-token-0123";

/// `GET path` on `addr` (with a bearer `token`): the status and the body.
fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

#[test]
fn a_taken_address_or_an_unguarded_bind_is_refused_and_nothing_starts() {
    let bench = Bench::new();
    let (_, jid) = bench.assignment("Wait for a runner", "implement", "");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let out = bench.cmd(&["run", "--until-idle", "--metrics", &addr]).output().expect("baton runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("listening for --metrics on {addr}")), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");

    let out = bench.cmd(&["run", "--until-idle", "--metrics", "0.0.0.0:0"]).env_remove("BATON_TOKEN").output();
    let out = out.expect("baton runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--metrics 0.0.0.0:0: refusing to listen") && err.contains("--metrics-token"), "{err}");

    // Neither runner claimed anything.
    assert_eq!(bench.job(&jid)["status"], "pending");
    assert_eq!(bench.job(&jid)["attempts"], 0);
}

#[test]
#[ignore = "needs Prometheus"]
fn a_real_prometheus_scrapes_the_metrics_of_baton_run() {
    let (prometheus, _) = baton_testkit::prometheus();
    let bench = Bench::new();
    let (aid, _) = bench.assignment("Count me @flow implement", "implement", "");
    let runner_addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let mut runner = bench
        .cmd(&["run", "--metrics", &runner_addr.to_string(), "--metrics-token", TOKEN])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the runner starts");
    bench.wait_for("the assignment to complete", || bench.detail(&aid)["status"] == "complete");
    // Its implement job and the PM job that completed the assignment: two complete attempts.
    bench.wait_for("the runner's metrics", || get(runner_addr, "/metrics", Some(TOKEN)).is_some());
    assert_eq!(get(runner_addr, "/metrics", None).map(|r| r.0), Some(401), "the token guards it");
    assert_eq!(get(runner_addr, "/api/queue", Some(TOKEN)).map(|r| r.0), Some(404), "metrics only");

    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 200ms\nscrape_configs:\n  - job_name: baton-run\n    metrics_path: /metrics\n    \
             authorization:\n      credentials: {TOKEN}\n    static_configs:\n      - targets: ['{runner_addr}']\n"
        ),
    )
    .expect("config written");
    let prometheus_addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let mut server = std::process::Command::new(&prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address={prometheus_addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let query = "/api/v1/query?query=baton_attempts_total%7Boutcome%3D%22complete%22%7D";
    // Prometheus has no event for a scraped sample: ask until it answers.
    let deadline = Instant::now() + Duration::from_secs(30);
    let value = loop {
        let answer = get(prometheus_addr, query, None).filter(|(status, _)| *status == 200);
        let value = answer.and_then(|(_, body)| {
            let v: serde_json::Value = serde_json::from_str(&body).ok()?;
            v["data"]["result"][0]["value"][1].as_str().map(str::to_string)
        });
        if let Some(value) = value {
            break value;
        }
        assert!(Instant::now() < deadline, "Prometheus never scraped baton_attempts_total from baton run");
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = server.kill();
    let _ = server.wait();
    // SAFETY: signalling the runner this test started.
    unsafe { libc::kill(runner.id() as i32, libc::SIGTERM) };
    let status = runner.wait().expect("the runner ends");
    assert!(status.success(), "{status:?}");
    assert_eq!(value, "2");
}
