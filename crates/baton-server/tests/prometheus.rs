//! `/metrics` read by Prometheus itself: the exposition passes `promtool check metrics`, and a
//! real Prometheus server scrapes it (with the API token) and answers a query for a counter the
//! test caused. Needs Debian's `prometheus` package (scripts/test installs it).

mod common;

use baton_core::JobType;
use common::{claim, create, http::Client, succeed, within, TestServer};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "metrics-token-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Prometheus"]
async fn prometheus_validates_and_scrapes_the_metrics() {
    let (prometheus, promtool) = baton_testkit::prometheus();
    let server = TestServer::start(Some(TOKEN)).await;
    let store = server.store.clone();
    create(store.as_ref(), "measure me", Some(JobType::Implement)).await;
    let c = claim(store.as_ref()).await;
    succeed(store.as_ref(), &c).await;

    // Without the token it is refused, like the API.
    assert_eq!(Client::new(server.addr, None).get("/metrics").await.status, 401);
    let response = server.client().get("/metrics").await;
    assert_eq!(response.status, 200, "{}", response.body);
    let text = response.body;
    for expected in [
        "baton_jobs{",
        "baton_lost_leases_total",
        "baton_attempts_total{",
        "baton_tokens_total{",
        "baton_cost_usd_total{",
        "baton_pickup_latency_seconds_bucket{",
        "baton_runners_alive{",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }

    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    check.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("promtool reads");
    let checked = check.wait_with_output().expect("promtool ends");
    assert!(
        checked.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    // A real Prometheus scrapes it every 200 ms, presenting the token.
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 200ms\nscrape_configs:\n  - job_name: baton\n    metrics_path: /metrics\n    \
             authorization:\n      credentials: {TOKEN}\n    static_configs:\n      - targets: ['{}']\n",
            server.addr
        ),
    )
    .expect("config written");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let mut child = Command::new(&prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let prometheus_addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let api = Client::new(prometheus_addr, None);
    let query = "/api/v1/query?query=baton_attempts_total%7Boutcome%3D%22complete%22%7D";
    // Wait for the scraped sample: Prometheus exposes no event for it, so ask until it answers.
    let deadline = Instant::now() + Duration::from_secs(18);
    let value = within(async {
        loop {
            let listening = tokio::net::TcpStream::connect(prometheus_addr).await.is_ok();
            let answer =
                if listening { tokio::time::timeout(Duration::from_secs(2), api.get(query)).await.ok() } else { None };
            if let Some(r) = answer {
                if r.status == 200 {
                    let v = r.json();
                    if let Some(value) = v["data"]["result"][0]["value"][1].as_str() {
                        return value.to_string();
                    }
                }
            }
            assert!(Instant::now() < deadline, "Prometheus never scraped baton_attempts_total");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(value, "1");
    server.stop().await.expect("server stops");
}
