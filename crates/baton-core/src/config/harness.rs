//! Harness settings: the three built-in agent CLIs and any `[harness.NAME]` a user defines.

use super::file::HarnessFile;
use crate::error::{Error, Result};
pub use baton_harness::Format;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::path::Path;

/// The agent CLIs baton knows out of the box; each name is also its output format.
pub const BUILTIN_HARNESSES: &[Format] = &[Format::Claude, Format::Codex, Format::Gemini];

/// How to run one harness, after merging config layers.
#[derive(Debug, Clone, PartialEq)]
pub struct HarnessConfig {
    /// How its stdout is parsed (`format = "claude" | "codex" | "gemini" | "text"`), read once
    /// when the config is loaded.
    pub format: Format,
    /// Replaces the built-in command line (required for `text`).
    pub command: Option<Vec<String>>,
    /// Extra arguments appended to the command line.
    pub args: Vec<String>,
    pub model: Option<String>,
    /// Extra environment for the agent process.
    pub env: BTreeMap<String, String>,
    /// Overrides the global `timeout_ms` for this harness.
    pub timeout_ms: Option<u64>,
    /// The `--effort` values it accepts; `None` = its format's own list.
    pub efforts: Option<Vec<String>>,
    /// When not empty, the only models (besides `model`) a PM may pick with `--model`.
    pub models: Vec<String>,
    /// Folders the agent may write inside the sandbox besides its worktree (`~/` is the home).
    pub writable: Vec<String>,
    /// Whether the agent has network inside the sandbox (it needs its model's API).
    pub network: bool,
}

impl HarnessConfig {
    /// A harness of `format` with nothing else set.
    pub fn new(format: Format) -> HarnessConfig {
        HarnessConfig {
            format,
            command: None,
            args: Vec::new(),
            model: None,
            env: BTreeMap::new(),
            timeout_ms: None,
            efforts: None,
            models: Vec::new(),
            writable: Vec::new(),
            network: true,
        }
    }
}

pub(super) fn builtins() -> BTreeMap<String, HarnessConfig> {
    BUILTIN_HARNESSES.iter().map(|f| (f.as_str().to_string(), HarnessConfig::new(*f))).collect()
}

/// The valid `format` values, for messages.
fn formats() -> String {
    Format::ALL.map(Format::as_str).join(", ")
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
    // Spelled exactly as documented: the config is the one place a format is read.
    let format = match &table.format {
        Some(text) => Some(Format::ALL.into_iter().find(|f| f.as_str() == text).ok_or_else(|| {
            fail(format!("[harness.{name}] format = \"{text}\" is not a known format; valid values: {}", formats()))
        })?),
        None => None,
    };
    let entry = match (harnesses.entry(name.to_string()), format) {
        (Entry::Occupied(known), format) => {
            let entry = known.into_mut();
            if let Some(format) = format {
                entry.format = format;
            }
            entry
        }
        (Entry::Vacant(new), Some(format)) => new.insert(HarnessConfig::new(format)),
        (Entry::Vacant(_), None) => {
            return Err(fail(format!("[harness.{name}] needs `format` (one of {}) and `command`", formats())));
        }
    };
    if let Some(command) = &table.command {
        if command.is_empty() || command[0].trim().is_empty() {
            return Err(fail(format!("[harness.{name}] command must name a program, e.g. [\"cargo\", \"test\"]")));
        }
        entry.command = Some(command.clone());
    }
    if entry.format == Format::Text && entry.command.is_none() {
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
    if let Some(efforts) = &table.efforts {
        if efforts.iter().any(|e| e.trim().is_empty()) {
            return Err(fail(format!("[harness.{name}] efforts must not hold an empty value")));
        }
        entry.efforts = Some(efforts.clone());
    }
    if let Some(models) = &table.models {
        entry.models = models.clone();
    }
    if let Some(writable) = &table.writable {
        if let Some(bad) = writable.iter().find(|w| !(w.starts_with('/') || w.starts_with("~/"))) {
            return Err(fail(format!(
                "[harness.{name}] writable = \"{bad}\" is not an absolute path; write it as /path or ~/path"
            )));
        }
        entry.writable = writable.clone();
    }
    if let Some(network) = table.network {
        entry.network = network;
    }
    if let Some(timeout) = table.timeout_ms {
        let timeout =
            super::ranges::TIMEOUT_MS.check_as(&format!("[harness.{name}] timeout_ms"), timeout).map_err(fail)?;
        entry.timeout_ms = Some(timeout);
    }
    Ok(())
}
