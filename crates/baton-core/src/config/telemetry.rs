//! `[telemetry]`: where the agents' own OpenTelemetry exports go. baton only switches the agent
//! CLIs' exporters on and labels them with the job; it receives nothing itself.

/// The OTLP transports the agent CLIs speak.
pub const OTLP_PROTOCOLS: [&str; 3] = ["http/protobuf", "http/json", "grpc"];

/// The resolved `[telemetry]` table; off unless `otlp_endpoint` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telemetry {
    /// `http(s)://host:port` of an OTLP collector.
    pub otlp_endpoint: Option<String>,
    /// One of [`OTLP_PROTOCOLS`].
    pub otlp_protocol: String,
    /// How often the agents export metrics and events, in milliseconds.
    pub export_interval_ms: u64,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry { otlp_endpoint: None, otlp_protocol: "http/protobuf".to_string(), export_interval_ms: 10_000 }
    }
}

/// Checks an endpoint: an `http://` or `https://` URL with a host, so a typo fails at load time
/// instead of every agent silently dropping its exports.
pub fn check_endpoint(value: &str, key: &str) -> Result<String, String> {
    let v = value.trim();
    let rest = v.strip_prefix("http://").or_else(|| v.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace) => {
            Ok(v.trim_end_matches('/').to_string())
        }
        _ => Err(format!("key `{key}`: `{v}` is not an OTLP endpoint; write http://HOST:PORT or https://HOST:PORT")),
    }
}

/// Checks a protocol against [`OTLP_PROTOCOLS`].
pub fn check_protocol(value: &str, key: &str) -> Result<String, String> {
    let v = value.trim();
    if OTLP_PROTOCOLS.contains(&v) {
        return Ok(v.to_string());
    }
    Err(format!("key `{key}`: `{v}` is not known; valid values: {}", OTLP_PROTOCOLS.join(", ")))
}
