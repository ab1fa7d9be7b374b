//! [`Outcome`] (the verdict on a finished run), [`FailureClass`] (retry or
//! not), [`ExitInfo`], and the classification helpers the parsers share.
//!
//! Retry policy rationale: every CLI already
//! retries transient API errors internally, so a failure that reaches us has
//! used those retries up. Transient = retrying the whole run later can
//! succeed without anyone changing anything (rate limits, 5xx, overload,
//! network, an API request that timed out, subscription windows that reset).
//! Permanent = a person must change something first (auth, billing/quota,
//! bad flags, invalid request, turn/budget limits, a failing deterministic
//! gate).
//!
//! A run that baton stopped for exceeding its own time limit (`timeout_ms`)
//! is not classified here: the runner records it as a `timeout`, and
//! `baton_core::retry` alone decides whether it is retried (only with
//! `retry_on_timeout`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::util::{cap, one_line};

/// Longest [`Outcome::error`] message.
pub const ERROR_MESSAGE_CAP: usize = 300;

/// Whether a failed run is worth retrying as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// Retrying later, unchanged, can succeed.
    Transient,
    /// Retrying without a human changing something will fail again.
    Permanent,
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureClass::Transient => "transient",
            FailureClass::Permanent => "permanent",
        })
    }
}

/// How the child process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExitInfo {
    /// Exit code, if it exited normally.
    pub code: Option<i32>,
    /// Terminating signal number, if it was killed by one (Unix).
    pub signal: Option<i32>,
}

impl ExitInfo {
    /// Exited normally with `code`.
    pub fn code(code: i32) -> ExitInfo {
        ExitInfo { code: Some(code), signal: None }
    }

    /// Killed by signal `signal`.
    pub fn signal(signal: i32) -> ExitInfo {
        ExitInfo { code: None, signal: Some(signal) }
    }

    /// Exited with code 0.
    pub fn is_success(&self) -> bool {
        self.code == Some(0) && self.signal.is_none()
    }

    /// "code 1", "signal 9 (SIGKILL)", "an unknown status".
    pub fn describe(&self) -> String {
        match (self.code, self.signal) {
            (_, Some(sig)) => match signal_name(sig) {
                Some(name) => format!("signal {sig} ({name})"),
                None => format!("signal {sig}"),
            },
            (Some(code), None) => format!("code {code}"),
            (None, None) => "an unknown status".to_owned(),
        }
    }
}

fn signal_name(sig: i32) -> Option<&'static str> {
    Some(match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return None,
    })
}

/// The verdict on a finished run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Outcome {
    /// The run did what was asked, per the format's success rule.
    pub success: bool,
    /// Final text of the agent (or the stdout tail for `text` harnesses).
    /// On failure this may hold partial output.
    pub result: Option<String>,
    /// One or two sentences a person understands; `None` on success.
    pub error: Option<String>,
    /// `None` on success.
    pub failure: Option<FailureClass>,
    /// Id to resume the agent session with.
    pub session_id: Option<String>,
    /// Input tokens as reported by the CLI (see each parser for what is
    /// included).
    pub tokens_in: Option<u64>,
    /// Output tokens as reported by the CLI.
    pub tokens_out: Option<u64>,
    /// The part of `tokens_in` read from the provider's prompt cache, when the CLI reports it.
    pub cache_read_tokens: Option<u64>,
    /// The part of `tokens_in` written to the prompt cache, when the CLI reports it (claude).
    pub cache_write_tokens: Option<u64>,
    /// Cost reported by the CLI; `None` when it reports none (never a
    /// made-up 0).
    pub cost_usd: Option<f64>,
    /// Agent turns, when the CLI reports them (claude only).
    pub num_turns: Option<u64>,
    /// Process exit code (`None` when killed by a signal).
    pub exit_code: Option<i32>,
}

impl Outcome {
    /// Turns this outcome into a failure with `class` and a capped,
    /// single-line `message`.
    pub(crate) fn fail(&mut self, class: FailureClass, message: impl AsRef<str>) {
        self.success = false;
        self.failure = Some(class);
        self.error = Some(error_message(message.as_ref()));
    }

    pub(crate) fn succeed(&mut self) {
        self.success = true;
        self.failure = None;
        self.error = None;
    }
}

/// Normalises an error message: one line, at most [`ERROR_MESSAGE_CAP`]
/// bytes.
pub(crate) fn error_message(s: &str) -> String {
    cap(&one_line(s), ERROR_MESSAGE_CAP)
}

/// What kind of problem an error text describes. Each kind has a fixed
/// retry class and a short human description used as the message prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    RateLimit,
    Overloaded,
    ServerError,
    Connection,
    Timeout,
    Conflict,
    /// Subscription usage windows ("You've hit your limit · resets 3pm"):
    /// they reset by themselves, so retrying later works.
    UsageLimit,
    Auth,
    Billing,
    BadRequest,
    ContextTooLong,
    ModelNotFound,
    NotFound,
}

impl Problem {
    pub(crate) fn class(self) -> FailureClass {
        use Problem::*;
        match self {
            RateLimit | Overloaded | ServerError | Connection | Timeout | Conflict | UsageLimit => {
                FailureClass::Transient
            }
            Auth | Billing | BadRequest | ContextTooLong | ModelNotFound | NotFound => FailureClass::Permanent,
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        use Problem::*;
        match self {
            RateLimit => "rate limited by the API",
            Overloaded => "the API is overloaded",
            ServerError => "API server error",
            Connection => "could not reach the API",
            Timeout => "the API request timed out",
            Conflict => "the API reported a conflict",
            UsageLimit => "usage limit reached",
            Auth => "authentication failed",
            Billing => "quota or billing problem",
            BadRequest => "the API rejected the request",
            ContextTooLong => "the prompt is too long for the model",
            ModelNotFound => "model not found",
            NotFound => "API endpoint or resource not found",
        }
    }

    /// `"<description> (HTTP n): <detail>"`, the standard error phrasing.
    pub(crate) fn message(self, status: Option<u16>, detail: &str) -> String {
        let mut m = self.describe().to_owned();
        if let Some(s) = status {
            m.push_str(&format!(" (HTTP {s})"));
        }
        let detail = one_line(detail);
        if !detail.is_empty() {
            m.push_str(": ");
            m.push_str(&detail);
        }
        m
    }
}

/// Classifies an HTTP status code.
pub(crate) fn problem_for_status(status: u16) -> Option<Problem> {
    Some(match status {
        400 | 413 | 422 => Problem::BadRequest,
        401 | 403 => Problem::Auth,
        402 => Problem::Billing,
        404 => Problem::NotFound,
        408 => Problem::Timeout,
        409 => Problem::Conflict,
        429 => Problem::RateLimit,
        503 | 529 => Problem::Overloaded,
        500..=599 => Problem::ServerError,
        400..=499 => Problem::BadRequest,
        _ => return None,
    })
}

fn contains_any(hay: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| hay.contains(n))
}

/// Classifies an error text by well-known phrases, then by an HTTP status
/// found in it. Specific permanent causes are checked first so that, e.g.,
/// "Quota exceeded" is not mistaken for a rate limit, and an auth failure
/// that mentions reconnecting is still an auth failure.
pub(crate) fn classify_text(text: &str) -> Option<Problem> {
    let t = text.to_lowercase().replace('’', "'");
    if contains_any(
        &t,
        &[
            "quota exceeded",
            "insufficient_quota",
            "exceeded your current quota",
            "billing",
            "credit balance",
            "daily quota",
            "exhausted your daily",
        ],
    ) {
        return Some(Problem::Billing);
    }
    if contains_any(&t, &["you've hit your", "you've reached your", "usage limit", "usage_limit_reached"]) {
        return Some(Problem::UsageLimit);
    }
    if contains_any(
        &t,
        &[
            "unauthorized",
            "authentication",
            "invalid api key",
            "incorrect api key",
            "api key not valid",
            "api_key_invalid",
            "invalid x-api-key",
            "not logged in",
            "forbidden",
            "invalid auth method",
        ],
    ) {
        return Some(Problem::Auth);
    }
    if contains_any(&t, &["model_not_found", "model not found", "unknown model"]) {
        return Some(Problem::ModelNotFound);
    }
    if contains_any(&t, &["prompt is too long", "context window", "context_length_exceeded", "maximum context length"])
    {
        return Some(Problem::ContextTooLong);
    }
    if let Some(status) = find_http_status(text) {
        if let Some(p) = problem_for_status(status) {
            return Some(p);
        }
    }
    if contains_any(
        &t,
        &["rate limit", "rate_limit", "too many requests", "resource has been exhausted", "resource_exhausted"],
    ) {
        return Some(Problem::RateLimit);
    }
    if contains_any(&t, &["overloaded", "high demand", "service unavailable"]) {
        return Some(Problem::Overloaded);
    }
    if contains_any(
        &t,
        &[
            "unable to connect",
            "fetch failed",
            "stream disconnected",
            "connection refused",
            "connectionrefused",
            "connection reset",
            "econnreset",
            "econnrefused",
            "etimedout",
            "connection failed",
            "error sending request",
            "waiting for network",
            "failed to lookup address",
            "socket hang up",
            "network error",
            "reconnecting",
        ],
    ) {
        return Some(Problem::Connection);
    }
    if contains_any(&t, &["timed out", "timeout"]) {
        return Some(Problem::Timeout);
    }
    if contains_any(
        &t,
        &["internal server error", "internal error", "server_error", "server error", "bad gateway", "gateway timeout"],
    ) {
        return Some(Problem::ServerError);
    }
    None
}

/// Finds an HTTP status (400–599) in an error text, only where the context
/// makes it clearly a status ("status 429", "status: 500", "HTTP 503",
/// "(429)", "\"code\":400", "401 Unauthorized") so request ids and byte
/// counts are not mistaken for one.
pub(crate) fn find_http_status(text: &str) -> Option<u16> {
    const REASONS: &[&str] = &[
        " bad request",
        " unauthorized",
        " forbidden",
        " not found",
        " too many requests",
        " internal server error",
        " bad gateway",
        " service unavailable",
        " gateway timeout",
        " overloaded",
        " payment required",
        " request timeout",
        " conflict",
    ];
    const BEFORE: &[&str] = &["status ", "status: ", "status=", "http ", "code\":", "code: ", "code\": "];
    let lower = text.to_lowercase();
    let b = lower.as_bytes();
    let mut i = 0;
    while i + 3 <= b.len() {
        let is_num = b[i..i + 3].iter().all(u8::is_ascii_digit)
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && (i + 3 == b.len() || !b[i + 3].is_ascii_alphanumeric());
        if is_num {
            let n = u16::from(b[i] - b'0') * 100 + u16::from(b[i + 1] - b'0') * 10 + u16::from(b[i + 2] - b'0');
            if (400..=599).contains(&n) {
                let before = &lower[..i];
                let after = &lower[i + 3..];
                let ctx_before =
                    BEFORE.iter().any(|p| before.ends_with(p)) || (before.ends_with('(') && after.starts_with(')'));
                let ctx_after = REASONS.iter().any(|r| after.starts_with(r));
                if ctx_before || ctx_after {
                    return Some(n);
                }
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    None
}

/// Stderr lines that every run prints and that never explain a failure.
const STDERR_NOISE: &[&str] = &[
    "WARNING: proceeding, even though we could not create PATH aliases",
    "Reading additional input from stdin",
    "YOLO mode is enabled",
    "Approval mode overridden",
    "Warning: 256-color support not detected",
    "Ripgrep is not available",
    "[STARTUP]",
    "Warning: no stdin data received",
    "Stack backtrace:",
];

/// The most useful line of a stderr tail, for an error message: the last
/// line that is not banner noise, a stack frame or a fragment of a
/// pretty-printed object. For a pretty-printed JSON error object (gemini
/// `-o json`), the `"message"` value is used.
pub(crate) fn stderr_summary(stderr_tail: &str) -> Option<String> {
    // The last candidate line that reads like an error ("error: …",
    // "Error: …") wins; otherwise the last candidate at all. This skips
    // trailers such as clap's "For more information, try '--help'.".
    let mut fallback: Option<&str> = None;
    for raw in stderr_tail.lines().rev().take(200) {
        let line = raw.trim();
        if line.is_empty() || STDERR_NOISE.iter().any(|n| line.starts_with(n)) {
            continue;
        }
        if line.starts_with("at ") || is_backtrace_frame(line) {
            continue;
        }
        if line.chars().all(|c| "{}[](),;".contains(c)) {
            continue;
        }
        if let Some(rest) = line.strip_prefix('"') {
            // A `"key": value` line of pretty-printed JSON.
            if let Some((key, value)) = rest.split_once("\":") {
                if key == "message" || key == "error" {
                    let v = value.trim().trim_end_matches(',').trim();
                    let v = serde_json::from_str::<String>(v).unwrap_or_else(|_| v.trim_matches('"').to_owned());
                    if !v.is_empty() {
                        return Some(error_message(&v));
                    }
                }
                continue;
            }
        }
        if raw.starts_with([' ', '\t']) && looks_like_object_field(line) {
            // Node's util.inspect output: `  status: 429`, `cause: {`.
            continue;
        }
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("error") || lower.contains("error:") || lower.starts_with("fatal") {
            return Some(error_message(line));
        }
        fallback.get_or_insert(line);
    }
    fallback.map(error_message)
}

fn is_backtrace_frame(line: &str) -> bool {
    // Rust backtraces: `  0: <unknown>`, `12: std::rt::lang_start`.
    match line.split_once(':') {
        Some((n, _)) => !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

fn looks_like_object_field(line: &str) -> bool {
    match line.split_once(": ") {
        Some((key, _)) => !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        None => line.ends_with('{') || line.ends_with('[') || line.ends_with(','),
    }
}

/// Cleans an error detail coming from a CLI: drops `API Error:` wrappers and
/// trailing `, url: …` / `, request id: …` noise, and keeps one line.
pub(crate) fn clean_detail(s: &str) -> String {
    let mut d = s.trim();
    for prefix in ["API Error: ", "Error: "] {
        if let Some(rest) = d.strip_prefix(prefix) {
            d = rest;
        }
    }
    let mut out = d.to_owned();
    for marker in [", url: ", ", request id: "] {
        if let Some(i) = out.find(marker) {
            out.truncate(i);
        }
    }
    one_line(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_detection_needs_context() {
        assert_eq!(find_http_status("unexpected status 401 Unauthorized: x"), Some(401));
        assert_eq!(find_http_status("exceeded retry limit, last status: 429 Too Many Requests"), Some(429));
        assert_eq!(find_http_status("API Error: Request rejected (429) · x"), Some(429));
        assert_eq!(find_http_status(r#"{"error":{"code":500,"message":"x"}}"#), Some(500));
        assert_eq!(find_http_status("API Error: 529 Overloaded. This is"), Some(529));
        assert_eq!(find_http_status("request id: req_400abc, took 450 ms"), None);
        assert_eq!(find_http_status("wrote 404 files"), None);
        assert_eq!(find_http_status(""), None);
        assert_eq!(find_http_status("4"), None);
    }

    #[test]
    fn text_classification() {
        use Problem::*;
        let cases = [
            ("Quota exceeded. Check your plan and billing details.", Billing),
            ("You have exhausted your daily quota on this model.", Billing),
            ("You've hit your usage limit. Try again at 3pm", UsageLimit),
            ("You’ve hit your limit · resets 5pm", UsageLimit),
            ("unexpected status 401 Unauthorized: Missing bearer", Auth),
            ("Invalid API key · Fix external API key", Auth),
            ("exceeded retry limit, last status: 429 Too Many Requests", RateLimit),
            ("We’re currently experiencing high demand, which may cause temporary errors.", Overloaded),
            ("unexpected status 503 Service Unavailable: overloaded", Overloaded),
            ("stream disconnected before completion: error sending request", Connection),
            ("Reconnecting... waiting for network (Connection failed)", Connection),
            ("[API Error: exception TypeError: fetch failed sending request]", Connection),
            ("API Error: Unable to connect to API (ECONNRESET)", Connection),
            ("[API Error: Resource has been exhausted (e.g. check quota).]", RateLimit),
            ("Prompt is too long · the request is ~250000 tokens", ContextTooLong),
        ];
        for (text, want) in cases {
            assert_eq!(classify_text(text), Some(want), "{text}");
        }
        assert_eq!(classify_text("something odd happened"), None);
    }

    #[test]
    fn stderr_summary_skips_noise() {
        let s = "WARNING: proceeding, even though we could not create PATH aliases: x\n\
                 Error: thread/resume: no rollout found (code -32600)\n\nStack backtrace:\n   0: <unknown>\n   1: <unknown>\n";
        assert_eq!(stderr_summary(s).as_deref(), Some("Error: thread/resume: no rollout found (code -32600)"));
        let json = "YOLO mode is enabled.\n{\n  \"session_id\": \"x\",\n  \"error\": {\n    \"type\": \"Error\",\n    \"message\": \"Please set an Auth method\",\n    \"code\": 41\n  }\n}\n";
        assert_eq!(stderr_summary(json).as_deref(), Some("Please set an Auth method"));
        let node = "Attempt 2 failed: boom. Max attempts reached\n    at foo (x.js:1)\n  status: 500\n}\n";
        assert_eq!(stderr_summary(node).as_deref(), Some("Attempt 2 failed: boom. Max attempts reached"));
        assert_eq!(stderr_summary(""), None);
        assert_eq!(stderr_summary("Reading additional input from stdin...\n"), None);
    }

    #[test]
    fn clean_detail_strips_noise() {
        assert_eq!(
            clean_detail("unexpected status 401 Unauthorized: bad key, url: http://x/v1, request id: req_1"),
            "unexpected status 401 Unauthorized: bad key"
        );
        assert_eq!(clean_detail("API Error: 500 Internal\n server error"), "500 Internal server error");
    }

    #[test]
    fn exit_info_describe() {
        assert_eq!(ExitInfo::code(2).describe(), "code 2");
        assert_eq!(ExitInfo::signal(9).describe(), "signal 9 (SIGKILL)");
        assert_eq!(ExitInfo::default().describe(), "an unknown status");
        assert!(ExitInfo::code(0).is_success());
        assert!(!ExitInfo::signal(15).is_success());
    }

    #[test]
    fn failure_class_serde() {
        assert_eq!(serde_json::to_string(&FailureClass::Transient).unwrap(), "\"transient\"");
        assert_eq!(FailureClass::Permanent.to_string(), "permanent");
    }
}
