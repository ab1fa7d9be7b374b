//! The on-disk shape of a config file, parsed strictly: an unknown key or a wrong type is an error
//! that names the file, the line and the key.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

use crate::error::Error;

/// One config file, every key optional (a missing key falls through to the next layer).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub database_url: Option<String>,
    pub namespace: Option<String>,
    pub timeout_ms: Option<u64>,
    pub max_attempts: Option<u32>,
    pub retry_base_ms: Option<u64>,
    pub retry_on_timeout: Option<bool>,
    pub lease_ms: Option<u64>,
    pub max_jobs_per_assignment: Option<u32>,
    pub max_lost_leases: Option<u32>,
    pub host_gone_ms: Option<u64>,
    pub host: Option<String>,
    pub isolation: Option<String>,
    pub worktree_dir: Option<String>,
    pub worktree_setup: Option<String>,
    pub commit: Option<String>,
    pub commit_exclude: Option<Vec<String>>,
    pub commit_max_file_bytes: Option<u64>,
    pub containment: Option<String>,
    pub sandbox: Option<String>,
    pub agent_interface: Option<String>,
    pub agent_env_remove: Option<Vec<String>>,
    pub notify: Option<NotifyFile>,
    pub harness_defaults: Option<HarnessDefaultsFile>,
    #[serde(default)]
    pub harness: BTreeMap<String, HarnessFile>,
    /// `[prices."<model>"]`: one price, or `[[prices."<model>"]]`: prices over time.
    #[serde(default)]
    pub prices: BTreeMap<String, PricesFile>,
    pub retention: Option<RetentionFile>,
    pub sync: Option<SyncFile>,
    pub budget: Option<BudgetFile>,
    pub telemetry: Option<TelemetryFile>,
}

/// `[telemetry]`: the agents' own OpenTelemetry exports.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryFile {
    /// `http(s)://HOST:PORT` of an OTLP collector; unset: the agents export nothing.
    pub otlp_endpoint: Option<String>,
    /// `http/protobuf` (default), `http/json` or `grpc`.
    pub otlp_protocol: Option<String>,
    /// How often the agents export metrics and events, in milliseconds (default 10000).
    pub export_interval_ms: Option<u64>,
}

/// `[sync]`: sharing assignments' branches through a git remote, for runners on several hosts.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncFile {
    /// A git remote name or URL; baton pushes only `baton/<assignment>` branches there.
    pub remote: Option<String>,
}

/// `[budget]`: caps over a whole namespace.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetFile {
    /// Dollars the namespace may spend per UTC day; once reached, no new job starts that day.
    pub daily_usd: Option<f64>,
}

/// `[prices."<model>"]`: USD per million tokens.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceFile {
    pub input: f64,
    pub output: f64,
    pub cache_read: Option<f64>,
    pub cache_write: Option<f64>,
    /// `YYYY-MM-DD` (UTC): the first day this price applies.
    pub since: Option<String>,
}

/// One model's prices: a table, or an array of tables each with its `since`.
#[derive(Debug, Clone)]
pub struct PricesFile(pub Vec<PriceFile>);

impl<'de> Deserialize<'de> for PricesFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Not `#[serde(untagged)]`: its error would hide which key is wrong.
        use serde::de::Error as _;
        match toml::Value::deserialize(d)? {
            toml::Value::Array(items) => items
                .into_iter()
                .map(|v| PriceFile::deserialize(v).map_err(D::Error::custom))
                .collect::<Result<_, _>>()
                .map(PricesFile),
            v @ toml::Value::Table(_) => {
                PriceFile::deserialize(v).map(|p| PricesFile(vec![p])).map_err(D::Error::custom)
            }
            _ => Err(D::Error::custom("a price is a table: { input = …, output = … } (USD per million tokens)")),
        }
    }
}

/// `[retention]`: how long finished work is kept; every key off unless set.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionFile {
    /// `"merged"`: a finished assignment's worktree goes once its branch is merged into its base.
    pub worktrees: Option<String>,
    /// Finished assignments' worktrees that are clean and merged (or empty) are removed after this.
    pub finished_after: Option<String>,
    /// The earlier name of `finished_after`, still read so existing configs keep working.
    pub worktrees_after: Option<String>,
    /// Finished jobs' transcript events and prompt texts are dropped after this.
    pub transcripts_after: Option<String>,
    /// The agent CLIs' own session files of finished assignments are removed after this.
    pub agent_sessions_after: Option<String>,
    /// `baton queue` warns when this host's measured worktrees exceed this many GiB (default 20).
    pub warn_worktrees_gib: Option<f64>,
}

/// `[harness_defaults]`: which harness runs each job type.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarnessDefaultsFile {
    pub default: Option<String>,
    pub plan: Option<String>,
    pub implement: Option<String>,
    pub review: Option<String>,
    pub uat: Option<String>,
    pub document: Option<String>,
    pub pm: Option<String>,
    pub chat: Option<String>,
}

/// `[notify]`: commands run when a person is needed or something ended.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyFile {
    pub on_blocked: Option<String>,
    pub on_complete: Option<String>,
    pub on_failed_job: Option<String>,
}

/// `[harness.NAME]`: how to run one harness.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarnessFile {
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub format: Option<String>,
    pub model: Option<String>,
    pub env: Option<BTreeMap<String, String>>,
    pub timeout_ms: Option<u64>,
    pub efforts: Option<Vec<String>>,
    pub models: Option<Vec<String>>,
    /// Folders (`~/` allowed) the harness may write inside the sandbox: its caches.
    pub writable: Option<Vec<String>>,
    /// `false`: inside the sandbox the harness runs without network.
    pub network: Option<bool>,
}

impl ConfigFile {
    /// Parses `text` read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self, Error> {
        toml::from_str(text).map_err(|err| Error::Config { path: path.to_path_buf(), message: describe(text, &err) })
    }
}

/// One line: `line N: key `a.b`: what is wrong`.
fn describe(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim().replace('\n', " ");
    let Some(span) = err.span() else {
        return message;
    };
    let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
    match key_at(text, span.start) {
        Some(key) => {
            format!("line {line_no}: key `{key}`: {message}")
        }
        _ => format!("line {line_no}: {message}"),
    }
}

/// The dotted key whose value starts at `offset`: the `[table]` header above plus the key on the line.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
    let line = &text[line_start..line_end];
    let eq = line.find('=')?;
    if offset - line_start <= eq {
        // The error is in the key itself (e.g. an unknown field): the message already names it.
        return None;
    }
    let key = line[..eq].trim();
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    Some(match table {
        Some(table) => format!("{table}.{key}"),
        None => key.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        ConfigFile::parse(text, Path::new("/r/.baton/config.toml")).unwrap_err().to_string()
    }

    #[test]
    fn parses_every_key() {
        let text = r#"
database_url = "sqlite:///tmp/x.db"
namespace = "web"
timeout_ms = 1000
max_attempts = 2
retry_base_ms = 10
retry_on_timeout = true
lease_ms = 5000
max_jobs_per_assignment = 9
max_lost_leases = 2
[harness_defaults]
default = "codex"
pm = "claude"
[harness.tests]
command = ["cargo", "test"]
format = "text"
timeout_ms = 60000
env = { RUST_LOG = "info" }
"#;
        let c = ConfigFile::parse(text, Path::new("c.toml")).unwrap();
        assert_eq!(c.namespace.as_deref(), Some("web"));
        assert_eq!(c.harness["tests"].command.as_ref().unwrap()[0], "cargo");
        assert_eq!(c.harness_defaults.unwrap().pm.as_deref(), Some("claude"));
    }

    #[test]
    fn unknown_key_names_key_file_and_line() {
        let e = err("namespace = \"x\"\ntimeout = 5\n");
        assert!(e.starts_with("/r/.baton/config.toml: line 2:"), "{e}");
        assert!(e.contains("unknown field `timeout`"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn wrong_type_names_the_key() {
        let e = err("[harness.claude]\ntimeout_ms = \"soon\"\n");
        assert!(e.contains("line 2") && e.contains("harness.claude.timeout_ms"), "{e}");
        let e = err("lease_ms = true\n");
        assert!(e.contains("lease_ms"), "{e}");
    }

    #[test]
    fn malformed_toml_is_one_line() {
        let e = err("namespace = \n");
        assert!(e.contains("line 1") && !e.contains('\n'), "{e}");
    }
}
