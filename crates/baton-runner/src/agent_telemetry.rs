//! The agent CLIs' own OpenTelemetry switches (`[telemetry] otlp_endpoint`), and the resource
//! attributes that tie every export to the assignment, job and job type that produced it.
//!
//! claude and gemini export through environment variables; codex reads its exporter from its
//! config (`[otel] exporter`), which baton sets with a `-c` override on its command line. All
//! three take the resource attributes from `OTEL_RESOURCE_ATTRIBUTES`.

use baton_core::config::Telemetry;
use baton_harness::Format;

/// The standard OpenTelemetry variable carrying resource attributes, `key=value,key=value`.
pub const RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";

/// What every export of one attempt is labelled with.
#[derive(Debug, Clone, Copy)]
pub struct Labels<'a> {
    pub assignment: &'a str,
    pub job: &'a str,
    pub job_type: &'a str,
}

/// Variables to add to the agent's environment, given what it already gets (`env`: the
/// harness's configured env; `inherited`: the runner's own `OTEL_RESOURCE_ATTRIBUTES`). A
/// variable the person set in `[harness.NAME] env` is left as they set it, except the resource
/// attributes, which are merged.
pub fn variables(
    t: &Telemetry,
    labels: &Labels<'_>,
    format: Format,
    env: &[(String, String)],
    inherited: Option<&str>,
) -> Vec<(String, String)> {
    let Some(endpoint) = t.otlp_endpoint.as_deref() else {
        return Vec::new();
    };
    let interval = t.export_interval_ms.to_string();
    let switches: Vec<(&str, &str)> = match format {
        Format::Claude => vec![
            ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
            ("OTEL_METRICS_EXPORTER", "otlp"),
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", t.otlp_protocol.as_str()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_METRIC_EXPORT_INTERVAL", interval.as_str()),
            ("OTEL_LOGS_EXPORT_INTERVAL", interval.as_str()),
        ],
        Format::Gemini => vec![
            ("GEMINI_TELEMETRY_ENABLED", "true"),
            ("GEMINI_TELEMETRY_TARGET", "local"),
            ("GEMINI_TELEMETRY_OTLP_ENDPOINT", endpoint),
            // gemini names its transports `grpc` and `http`.
            ("GEMINI_TELEMETRY_OTLP_PROTOCOL", if t.otlp_protocol == "grpc" { "grpc" } else { "http" }),
        ],
        Format::Codex | Format::Text => Vec::new(),
    };
    let person_set = |key: &str| env.iter().any(|(k, _)| k == key);
    let mut out: Vec<(String, String)> =
        switches.into_iter().filter(|(k, _)| !person_set(k)).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let theirs = env.iter().rev().find(|(k, _)| k == RESOURCE_ATTRIBUTES).map(|(_, v)| v.as_str()).or(inherited);
    out.push((RESOURCE_ATTRIBUTES.to_string(), resource_attributes(theirs, labels)));
    out
}

/// `theirs` with baton's three attributes appended; a `baton.*` key of theirs is replaced, so
/// an export never carries two different jobs.
pub fn resource_attributes(theirs: Option<&str>, labels: &Labels<'_>) -> String {
    let ours =
        [("baton.assignment", labels.assignment), ("baton.job", labels.job), ("baton.job_type", labels.job_type)];
    let mut parts: Vec<String> = theirs
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .filter(|p| !ours.iter().any(|(k, _)| p.split('=').next().map(str::trim) == Some(*k)))
        .map(str::to_string)
        .collect();
    parts.extend(ours.iter().map(|(k, v)| format!("{k}={}", encode(v))));
    parts.join(",")
}

/// codex's `-c` settings that switch its exporter on (`[otel] exporter` in its config). codex
/// exports its log events; its OTLP/HTTP endpoint is the signal's own URL, so `/v1/logs` is
/// appended to the collector's base address as the OpenTelemetry variables would. A person's own
/// `-c otel.exporter=…` in the harness's `args` comes later on the command line and wins.
pub fn codex_config(t: &Telemetry) -> Vec<String> {
    let Some(endpoint) = t.otlp_endpoint.as_deref() else {
        return Vec::new();
    };
    let endpoint = endpoint.trim_end_matches('/');
    let exporter = match t.otlp_protocol.as_str() {
        "grpc" => format!("{{otlp-grpc={{endpoint={}}}}}", toml_string(endpoint)),
        protocol => {
            let encoding = if protocol == "http/json" { "json" } else { "binary" };
            format!(
                "{{otlp-http={{endpoint={}, protocol=\"{encoding}\"}}}}",
                toml_string(&format!("{endpoint}/v1/logs"))
            )
        }
    };
    vec![format!("otel.exporter={exporter}")]
}

/// A TOML basic string; collector addresses are URLs, so only quotes and backslashes need care.
fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Percent-encodes what the attribute syntax reserves (`,`, `=`, `%`, spaces…); baton's ids are
/// plain already, so this only guards against surprises.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: Labels<'static> = Labels { assignment: "a1", job: "j2", job_type: "implement" };

    fn on(protocol: &str) -> Telemetry {
        Telemetry {
            otlp_endpoint: Some("http://127.0.0.1:4318".into()),
            otlp_protocol: protocol.into(),
            export_interval_ms: 1000,
        }
    }

    fn get<'a>(vars: &'a [(String, String)], key: &str) -> Option<&'a str> {
        vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn off_without_an_endpoint() {
        assert!(variables(&Telemetry::default(), &LABELS, Format::Claude, &[], Some("x=1")).is_empty());
    }

    #[test]
    fn claude_gets_its_switches_and_the_job() {
        let vars = variables(&on("http/json"), &LABELS, Format::Claude, &[], None);
        assert_eq!(get(&vars, "CLAUDE_CODE_ENABLE_TELEMETRY"), Some("1"));
        assert_eq!(get(&vars, "OTEL_METRICS_EXPORTER"), Some("otlp"));
        assert_eq!(get(&vars, "OTEL_LOGS_EXPORTER"), Some("otlp"));
        assert_eq!(get(&vars, "OTEL_EXPORTER_OTLP_PROTOCOL"), Some("http/json"));
        assert_eq!(get(&vars, "OTEL_EXPORTER_OTLP_ENDPOINT"), Some("http://127.0.0.1:4318"));
        assert_eq!(get(&vars, "OTEL_METRIC_EXPORT_INTERVAL"), Some("1000"));
        assert_eq!(get(&vars, "OTEL_LOGS_EXPORT_INTERVAL"), Some("1000"));
        assert_eq!(get(&vars, RESOURCE_ATTRIBUTES), Some("baton.assignment=a1,baton.job=j2,baton.job_type=implement"));
    }

    #[test]
    fn the_persons_attributes_are_kept_and_their_baton_keys_replaced() {
        let env = vec![
            (RESOURCE_ATTRIBUTES.to_string(), "team=web, baton.job=old".to_string()),
            ("OTEL_METRICS_EXPORTER".to_string(), "console".to_string()),
        ];
        let vars = variables(&on("grpc"), &LABELS, Format::Claude, &env, Some("ignored=1"));
        assert_eq!(
            get(&vars, RESOURCE_ATTRIBUTES),
            Some("team=web,baton.assignment=a1,baton.job=j2,baton.job_type=implement")
        );
        assert_eq!(get(&vars, "OTEL_METRICS_EXPORTER"), None, "the person's own exporter stays");
        let vars = variables(&on("grpc"), &LABELS, Format::Claude, &[], Some("host=x"));
        assert!(get(&vars, RESOURCE_ATTRIBUTES).unwrap().starts_with("host=x,baton.assignment=a1"));
    }

    #[test]
    fn gemini_gets_its_own_switches_and_codex_the_attributes_in_its_environment() {
        let vars = variables(&on("http/protobuf"), &LABELS, Format::Gemini, &[], None);
        assert_eq!(get(&vars, "GEMINI_TELEMETRY_ENABLED"), Some("true"));
        assert_eq!(get(&vars, "GEMINI_TELEMETRY_OTLP_PROTOCOL"), Some("http"));
        assert_eq!(get(&vars, "GEMINI_TELEMETRY_OTLP_ENDPOINT"), Some("http://127.0.0.1:4318"));
        let vars = variables(&on("grpc"), &LABELS, Format::Codex, &[], None);
        assert_eq!(vars.len(), 1);
        assert!(get(&vars, RESOURCE_ATTRIBUTES).unwrap().contains("baton.job=j2"));
    }

    #[test]
    fn codex_gets_its_exporter_on_the_command_line() {
        assert!(codex_config(&Telemetry::default()).is_empty());
        assert_eq!(
            codex_config(&on("http/protobuf")),
            [r#"otel.exporter={otlp-http={endpoint="http://127.0.0.1:4318/v1/logs", protocol="binary"}}"#]
        );
        assert_eq!(
            codex_config(&on("http/json")),
            [r#"otel.exporter={otlp-http={endpoint="http://127.0.0.1:4318/v1/logs", protocol="json"}}"#]
        );
        assert_eq!(codex_config(&on("grpc")), [r#"otel.exporter={otlp-grpc={endpoint="http://127.0.0.1:4318"}}"#]);
    }

    #[test]
    fn reserved_characters_are_encoded() {
        let labels = Labels { assignment: "a,b", job: "j=1", job_type: "plan" };
        assert_eq!(resource_attributes(None, &labels), "baton.assignment=a%2Cb,baton.job=j%3D1,baton.job_type=plan");
    }
}
