//! The agents' own telemetry: with `BATON_OTLP_ENDPOINT` set, the real claude, codex and gemini
//! CLIs export OpenTelemetry over OTLP/HTTP to a loopback stand-in collector, and the export
//! carries the `baton.job` resource attribute of the job it ran.

use crate::bench::{Cli, RealBench};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the collector waits for an export after the run ended (the CLIs flush on exit).
const EXPORT_PATIENCE: Duration = Duration::from_secs(20);

/// A loopback OTLP/HTTP collector that keeps every request's path and body.
struct Collector {
    port: u16,
    received: Arc<Mutex<Vec<(String, String)>>>,
}

impl Collector {
    fn start() -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port for the collector");
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let store = store.clone();
                std::thread::spawn(move || serve(stream, &store));
            }
        });
        Collector { port, received }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits for a request whose body holds `needle`; returns its path.
    fn wait_for(&self, needle: &str) -> Option<String> {
        let deadline = Instant::now() + EXPORT_PATIENCE;
        loop {
            if let Some((path, _)) = self.received.lock().unwrap().iter().find(|(_, body)| body.contains(needle)) {
                return Some(path.clone());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::park_timeout(Duration::from_millis(50));
        }
    }

    fn summary(&self) -> String {
        let got = self.received.lock().unwrap();
        got.iter().map(|(p, b)| format!("{p}: {}", &b[..b.len().min(300)])).collect::<Vec<_>>().join("\n")
    }
}

/// Answers HTTP/1.1 requests on one connection (the exporter keeps it alive) with `200 {}`.
fn serve(stream: TcpStream, store: &Mutex<Vec<(String, String)>>) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or_default().to_string();
        let mut length = 0usize;
        let mut chunked = false;
        let mut headers = String::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            headers.push_str(header);
            headers.push_str("; ");
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
                if name.eq_ignore_ascii_case("transfer-encoding") && value.trim().eq_ignore_ascii_case("chunked") {
                    chunked = true;
                }
            }
        }
        let body = if chunked { read_chunked(&mut reader) } else { read_exact(&mut reader, length) };
        let Some(body) = body else { return };
        let text = String::from_utf8_lossy(&body).into_owned();
        store.lock().unwrap().push((path, if text.is_empty() { format!("(empty; {headers})") } else { text }));
        let reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

fn read_exact(reader: &mut impl Read, length: usize) -> Option<Vec<u8>> {
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

/// A `Transfer-Encoding: chunked` body: hex sizes, each chunk followed by CRLF, ending at 0.
fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?.trim(), 16).ok()?;
        let chunk = read_exact(reader, size + 2)?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// Runs one job on `cli` with telemetry sent to a fresh collector; checks an export names it.
fn exports_labelled(cli: Cli, protocol: &str) {
    let real = RealBench::start(cli, "ok");
    let collector = Collector::start();
    let (aid, jid) = real.assignment("implement", cli.name());
    let out = real
        .cmd(&["run", "--until-idle"])
        .env("BATON_OTLP_ENDPOINT", collector.url())
        .env("BATON_OTLP_PROTOCOL", protocol)
        .output()
        .unwrap();
    assert!(out.status.success(), "baton run failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(real.job(&jid)["status"], "complete", "{}", real.explain(&jid));
    let path = collector.wait_for(&jid).unwrap_or_else(|| {
        panic!("no OTLP export named job {jid}; the collector got:\n{}\n{}", collector.summary(), real.explain(&jid))
    });
    assert!(path.starts_with("/v1/"), "exported to {path}");
    let body = collector.received.lock().unwrap().iter().find(|(_, b)| b.contains(&jid)).cloned().unwrap().1;
    assert!(body.contains("baton.job") && body.contains(&aid) && body.contains("baton.job_type"), "{body}");
    real.done();
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn claude_exports_its_telemetry_labelled_with_the_job() {
    exports_labelled(Cli::Claude, "http/json");
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn codex_exports_its_telemetry_labelled_with_the_job() {
    exports_labelled(Cli::Codex, "http/protobuf");
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn gemini_exports_its_telemetry_labelled_with_the_job() {
    exports_labelled(Cli::Gemini, "http/json");
}
