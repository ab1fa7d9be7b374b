//! The guards around the API, which can make agents with shell rights run jobs: a remote-code-
//! execution surface.
//!
//! - Off loopback a token is mandatory ([`check_bind`]); when set, every `/api/` request (and `/metrics`) must
//!   present it (`Authorization: Bearer`, or the dashboard's cookie), compared in constant time.
//! - `Host` must name the bound address (or `localhost` on loopback): a DNS-rebinding page gets
//!   its own name in `Host` and is refused.
//! - `Origin`, when a browser sends one, must be this server's own origin: no cross-site calls.
//! - Mutations take only `Content-Type: application/json`, which a cross-site `<form>` cannot send.
//!
//! Every response also carries headers that keep the dashboard out of frames and sniffers.

use crate::state::Ctx;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};

/// The shortest token `serve` accepts: guessing 16 random characters over the network is hopeless.
pub const MIN_TOKEN_LEN: usize = 16;

/// Whether `serve` may listen on `addr` with this token: loopback needs none, any other address
/// needs one; a token given must be at least [`MIN_TOKEN_LEN`] printable characters.
/// The error is one line that says what to do.
pub fn check_bind(addr: SocketAddr, token: Option<&str>) -> Result<(), String> {
    match token {
        Some(t) if t.chars().any(|c| !c.is_ascii_graphic()) => {
            Err("the token must be printable ASCII without spaces (it travels in an HTTP header)".to_string())
        }
        Some(t) if t.len() < MIN_TOKEN_LEN => Err(format!(
            "the token is too short ({} characters); use at least {MIN_TOKEN_LEN} random characters, e.g. the output of `openssl rand -hex 16`",
            t.len()
        )),
        Some(_) => Ok(()),
        None if addr.ip().is_loopback() => Ok(()),
        None => Err(format!(
            "refusing to listen on {addr} without a token: the API queues jobs that agents run with shell rights, so anyone who can reach it could run commands here; pass --token (or set BATON_TOKEN) with at least {MIN_TOKEN_LEN} random characters, or bind to 127.0.0.1"
        )),
    }
}

/// The address to open the dashboard at, as `baton serve` prints it: with `?token=…` when a
/// token is set, which the page trades for its cookie.
pub fn dashboard_url(addr: SocketAddr, token: Option<&str>) -> String {
    let base = format!("http://{addr}/");
    match token.filter(|t| !t.is_empty()) {
        Some(t) => {
            let encoded: String = t
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{base}?token={encoded}")
        }
        None => base,
    }
}

/// The cookie that carries the token for the dashboard. Cookies ignore ports, so the name has the
/// port in it: two servers on one machine do not overwrite each other's.
pub(crate) fn cookie_name(bound: SocketAddr) -> String {
    format!("baton_token_{}", bound.port())
}

/// Compares a presented token with the secret in time that depends only on the secret's length.
pub(crate) fn token_matches(presented: &str, secret: &str) -> bool {
    let (p, s) = (presented.as_bytes(), secret.as_bytes());
    let mut diff = u8::from(p.len() != s.len());
    for (i, byte) in s.iter().enumerate() {
        diff |= byte ^ p.get(i).copied().unwrap_or(0);
    }
    // black_box keeps the optimiser from turning the loop into an early-exit comparison.
    std::hint::black_box(diff) == 0
}

/// The middleware in front of every route.
pub(crate) async fn guard(State(ctx): State<Ctx>, req: Request, next: Next) -> Response {
    // `/metrics` is read by machines like the API: same token rules, plain-text refusals.
    let api = req.uri().path().starts_with("/api/") || req.uri().path() == "/metrics";
    let verdict = check_request(&ctx, req.method(), req.headers(), api);
    let mut response = match verdict {
        Ok(()) => next.run(req).await,
        Err((status, message)) => refusal(status, &message, api),
    };
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

type Refusal = (StatusCode, String);

fn check_request(ctx: &Ctx, method: &Method, headers: &HeaderMap, api: bool) -> Result<(), Refusal> {
    let bound = ctx.app.bound;
    let host = header_str(headers, header::HOST).unwrap_or_default();
    if !allowed_host(host, bound) {
        return Err((
            StatusCode::FORBIDDEN,
            format!(
                "refused: Host `{host}` is not this server's address (requests for other names are refused against DNS rebinding); open http://{bound}/"
            ),
        ));
    }
    if let Some(origin) = header_str(headers, header::ORIGIN) {
        if !origin.eq_ignore_ascii_case(&format!("http://{host}")) {
            return Err((
                StatusCode::FORBIDDEN,
                format!(
                    "refused: a page from {origin} may not call this server (cross-site requests are refused); use the dashboard at http://{host}/"
                ),
            ));
        }
    }
    if !api {
        return Ok(());
    }
    if let Some(secret) = ctx.app.token.as_deref() {
        check_token(headers, secret, bound)?;
    }
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let content_type = header_str(headers, header::CONTENT_TYPE).unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            let got = if content_type.is_empty() { "none".to_string() } else { format!("`{content_type}`") };
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("changes take a JSON body: send `Content-Type: application/json` (got {got}; form posts are refused)"),
            ));
        }
    }
    Ok(())
}

fn check_token(headers: &HeaderMap, secret: &str, bound: SocketAddr) -> Result<(), Refusal> {
    let mut presented = Vec::new();
    if let Some(auth) = header_str(headers, header::AUTHORIZATION) {
        if let Some((scheme, value)) = auth.split_once(' ') {
            if scheme.eq_ignore_ascii_case("bearer") {
                presented.push(value.trim());
            }
        }
    }
    let name = cookie_name(bound);
    for cookies in headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()) {
        for pair in cookies.split(';') {
            if let Some((key, value)) = pair.trim().split_once('=') {
                if key == name {
                    presented.push(value.trim());
                }
            }
        }
    }
    if presented.is_empty() {
        return Err((
            StatusCode::UNAUTHORIZED,
            "this server needs its token: send `Authorization: Bearer <token>` with the --token or BATON_TOKEN given to `baton serve`, or open the dashboard address it printed".to_string(),
        ));
    }
    // Every candidate is compared, so timing does not tell which one was tried.
    let ok = presented.iter().fold(false, |ok, p| token_matches(p, secret) | ok);
    if ok {
        Ok(())
    } else {
        Err((
            StatusCode::UNAUTHORIZED,
            "the token is wrong: use the --token or BATON_TOKEN given to `baton serve`".to_string(),
        ))
    }
}

/// Is `host` (a `Host` header) this server? The bound address with its port, or `localhost` on
/// loopback. A server bound to every interface (`0.0.0.0`) cannot know all its names: any name with
/// the right port passes there, and the token (mandatory off loopback) is the guard.
pub(crate) fn allowed_host(host: &str, bound: SocketAddr) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let Some((name, port)) = split_host_port(&host) else {
        return false;
    };
    if port != bound.port() {
        return false;
    }
    let ip = bound.ip();
    if ip.is_unspecified() {
        return true;
    }
    if name == "localhost" {
        return ip.is_loopback();
    }
    name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|h| h == ip)
}

/// `name:port`, `[v6]:port`, or a bare name (port 80, as browsers omit it).
fn split_host_port(host: &str) -> Option<(&str, u16)> {
    if host.is_empty() {
        return None;
    }
    let (name, port) = if host.starts_with('[') {
        let end = host.find(']')?;
        let rest = &host[end + 1..];
        (&host[..=end], rest.strip_prefix(':'))
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => 80,
    };
    Some((name, port))
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn refusal(status: StatusCode, message: &str, api: bool) -> Response {
    let mut response = if api {
        crate::api::error::ApiError::new(status, message).into_response()
    } else {
        (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{message}\n")).into_response()
    };
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"baton\""));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn bind_rules() {
        assert!(check_bind(addr("127.0.0.1:7777"), None).is_ok());
        assert!(check_bind(addr("[::1]:7777"), None).is_ok());
        let err = check_bind(addr("0.0.0.0:7777"), None).unwrap_err();
        assert!(err.contains("without a token") && err.contains("BATON_TOKEN"), "{err}");
        assert!(check_bind(addr("192.168.1.5:7777"), Some("short")).unwrap_err().contains("too short"));
        assert!(check_bind(addr("0.0.0.0:7777"), Some("0123456789abcdef")).is_ok());
        assert!(check_bind(addr("127.0.0.1:1"), Some("0123456789abcdef with space")).is_err());
    }

    #[test]
    fn dashboard_urls_carry_the_token_encoded() {
        assert_eq!(dashboard_url(addr("127.0.0.1:7777"), None), "http://127.0.0.1:7777/");
        assert_eq!(
            dashboard_url(addr("[::1]:80"), Some("a+b&c=d_0123456789")),
            "http://[::1]:80/?token=a%2Bb%26c%3Dd_0123456789"
        );
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(token_matches("0123456789abcdef", "0123456789abcdef"));
        assert!(!token_matches("0123456789abcdeg", "0123456789abcdef"));
        assert!(!token_matches("0123456789abcdef0", "0123456789abcdef"));
        assert!(!token_matches("", "0123456789abcdef"));
        assert!(!token_matches("0123456789abcde", "0123456789abcdef"));
    }

    #[test]
    fn hosts() {
        let lo = addr("127.0.0.1:7777");
        assert!(allowed_host("127.0.0.1:7777", lo));
        assert!(allowed_host("LOCALHOST:7777", lo));
        assert!(!allowed_host("localhost:7778", lo));
        assert!(!allowed_host("evil.example:7777", lo));
        assert!(!allowed_host("127.0.0.1", lo));
        assert!(!allowed_host("", lo));
        let v6 = addr("[::1]:80");
        assert!(allowed_host("[::1]", v6));
        assert!(allowed_host("localhost", v6));
        let any = addr("0.0.0.0:7777");
        assert!(allowed_host("box.lan:7777", any));
        assert!(!allowed_host("box.lan:80", any));
        let lan = addr("192.168.1.5:7777");
        assert!(!allowed_host("localhost:7777", lan));
        assert!(allowed_host("192.168.1.5:7777", lan));
    }
}
