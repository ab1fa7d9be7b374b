//! A minimal HTTP/1.1 client for the tests: one request per connection (`Connection: close`),
//! chunked bodies decoded, and server-sent events read incrementally.

use serde_json::Value;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `error` line of an error answer.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_else(|| panic!("no error field: {}", self.body)).to_string()
    }
}

/// A request being built.
pub struct Request {
    addr: SocketAddr,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

/// Sends requests as a well-behaved same-origin client would, unless told otherwise.
#[derive(Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub token: Option<String>,
}

impl Client {
    pub fn new(addr: SocketAddr, token: Option<String>) -> Client {
        Client { addr, token }
    }

    pub fn request(&self, method: &str, path: &str) -> Request {
        let mut headers = vec![("Host".to_string(), self.addr.to_string())];
        if let Some(t) = &self.token {
            headers.push(("Authorization".to_string(), format!("Bearer {t}")));
        }
        Request { addr: self.addr, method: method.into(), path: path.into(), headers, body: None }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request("GET", path).send().await
    }

    /// A JSON mutation.
    pub async fn send_json(&self, method: &str, path: &str, body: Value) -> Response {
        self.request(method, path).json(body).send().await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.send_json("POST", path, body).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.send_json("PATCH", path, body).await
    }
}

impl Request {
    /// Sets a header, replacing one of the same name.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn without(mut self, name: &str) -> Request {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self
    }

    pub fn json(self, body: Value) -> Request {
        self.body(&body.to_string(), "application/json")
    }

    pub fn body(mut self, body: &str, content_type: &str) -> Request {
        self.body = Some(body.to_string());
        self.header("Content-Type", content_type)
    }

    fn head(&self, close: bool) -> String {
        let mut text = format!("{} {} HTTP/1.1\r\n", self.method, self.path);
        for (k, v) in &self.headers {
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = &self.body {
            text.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        if close {
            text.push_str("Connection: close\r\n");
        }
        text.push_str("\r\n");
        if let Some(b) = &self.body {
            text.push_str(b);
        }
        text
    }

    pub async fn send(self) -> Response {
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        stream.write_all(self.head(true).as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        let split = find(&raw, b"\r\n\r\n").expect("a complete head");
        let (status, headers) = parse_head(&raw[..split]);
        let rest = &raw[split + 4..];
        let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
        let body = if chunked { decode_all(rest) } else { rest.to_vec() };
        Response { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
    }

    /// Opens an event stream; the answer's head is read, events are read with [`Events::next`].
    pub async fn events(self) -> Events {
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        stream.write_all(self.head(false).as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        let split = loop {
            if let Some(i) = find(&raw, b"\r\n\r\n") {
                break i;
            }
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before the head");
            raw.extend_from_slice(&buf[..n]);
        };
        let (status, headers) = parse_head(&raw[..split]);
        let rest = raw[split + 4..].to_vec();
        Events { stream, status, headers, raw: rest, text: String::new(), ended: false }
    }
}

/// One server-sent event.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

impl Event {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.data))
    }
}

/// An open event stream.
pub struct Events {
    stream: TcpStream,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Undecoded chunked bytes.
    raw: Vec<u8>,
    /// Decoded text not yet parsed into events.
    text: String,
    ended: bool,
}

impl Events {
    /// The next event (comments skipped), or `None` when the server ended the stream.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let mut event = Event { event: "message".into(), ..Event::default() };
                let mut any = false;
                for line in block.lines() {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "event" => event.event = value.to_string(),
                        "id" => event.id = Some(value.to_string()),
                        "data" => {
                            if any {
                                event.data.push('\n');
                            }
                            event.data.push_str(value);
                            any = true;
                        }
                        _ => {}
                    }
                }
                if any {
                    return Some(event);
                }
                continue;
            }
            if self.ended {
                return None;
            }
            self.fill().await;
        }
    }

    /// Reads the next event of a kind, skipping others.
    pub async fn next_of(&mut self, kind: &str) -> Option<Event> {
        loop {
            let e = self.next().await?;
            if e.event == kind {
                return Some(e);
            }
        }
    }

    async fn fill(&mut self) {
        loop {
            // Decode the next chunk if it is complete; otherwise read more.
            if let Some(line_end) = find(&self.raw, b"\r\n") {
                let size_text = String::from_utf8_lossy(&self.raw[..line_end]).to_string();
                let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                    .unwrap_or_else(|_| panic!("bad chunk size {size_text:?}"));
                if size == 0 {
                    self.ended = true;
                    return;
                }
                if self.raw.len() >= line_end + 2 + size + 2 {
                    let data = self.raw[line_end + 2..line_end + 2 + size].to_vec();
                    self.raw.drain(..line_end + 2 + size + 2);
                    self.text.push_str(&String::from_utf8_lossy(&data));
                    return;
                }
            }
            let mut buf = [0u8; 4096];
            let n = self.stream.read(&mut buf).await.expect("read");
            if n == 0 {
                self.ended = true;
                return;
            }
            self.raw.extend_from_slice(&buf[..n]);
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(head: &[u8]) -> (u16, Vec<(String, String)>) {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers)
}

fn decode_all(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = find(raw, b"\r\n") {
        let size_text = String::from_utf8_lossy(&raw[..line_end]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[line_end + 2..line_end + 2 + size]);
        raw = &raw[line_end + 2 + size + 2..];
    }
    out
}
