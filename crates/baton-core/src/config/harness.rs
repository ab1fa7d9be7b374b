//! Harness settings: the three built-in agent CLIs and any `[harness.NAME]` a user defines.

use super::file::HarnessFile;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// The agent CLIs baton knows out of the box; each name is also its output format.
pub const BUILTIN_HARNESSES: &[&str] = &["claude", "codex", "gemini"];
/// Output formats a harness may declare.
pub const HARNESS_FORMATS: &[&str] = &["claude", "codex", "gemini", "text"];

/// How to run one harness, after merging config layers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HarnessConfig {
    /// `claude` | `codex` | `gemini` | `text`: how its stdout is parsed.
    pub format: String,
    /// Replaces the built-in command line (required for `text`).
    pub command: Option<Vec<String>>,
    /// Extra arguments appended to the command line.
    pub args: Vec<String>,
    pub model: Option<String>,
    /// Extra environment for the agent process.
    pub env: BTreeMap<String, String>,
    /// Overrides the global `timeout_ms` for this harness.
    pub timeout_ms: Option<u64>,
}

pub(super) fn builtins() -> BTreeMap<String, HarnessConfig> {
    BUILTIN_HARNESSES
        .iter()
        .map(|name| (name.to_string(), HarnessConfig { format: name.to_string(), ..Default::default() }))
        .collect()
}

/// Merges one `[harness.NAME]` table into the known harnesses, field by field.
pub(super) fn merge(
    harnesses: &mut BTreeMap<String, HarnessConfig>,
    name: &str,
    table: &HarnessFile,
    path: &Path,
) -> Result<()> {
    let fail = |message: String| Error::Config { path: path.to_path_buf(), message };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(fail(format!("[harness.{name}]: a harness name uses only letters, digits, - and _")));
    }
    let known = harnesses.contains_key(name);
    let entry = harnesses.entry(name.to_string()).or_default();
    if let Some(format) = &table.format {
        if !HARNESS_FORMATS.contains(&format.as_str()) {
            return Err(fail(format!(
                "[harness.{name}] format = \"{format}\" is not a known format; valid values: {}",
                HARNESS_FORMATS.join(", ")
            )));
        }
        entry.format = format.clone();
    } else if !known {
        return Err(fail(format!(
            "[harness.{name}] needs `format` (one of {}) and `command`",
            HARNESS_FORMATS.join(", ")
        )));
    }
    if let Some(command) = &table.command {
        if command.is_empty() || command[0].trim().is_empty() {
            return Err(fail(format!("[harness.{name}] command must name a program, e.g. [\"cargo\", \"test\"]")));
        }
        entry.command = Some(command.clone());
    }
    if entry.format == "text" && entry.command.is_none() {
        return Err(fail(format!("[harness.{name}] has format \"text\" and so needs `command`")));
    }
    if let Some(args) = &table.args {
        entry.args = args.clone();
    }
    if let Some(model) = &table.model {
        entry.model = Some(model.clone());
    }
    if let Some(env) = &table.env {
        entry.env.extend(env.clone());
    }
    if let Some(timeout) = table.timeout_ms {
        if timeout == 0 {
            return Err(fail(format!("[harness.{name}] timeout_ms must be at least 1")));
        }
        entry.timeout_ms = Some(timeout);
    }
    Ok(())
}
