//! The common [`Event`] type every harness output is normalised into.
//!
//! Events are stored as JSON in the database and printed by
//! `baton logs --json`, so the serialised shape is a stable contract:
//! internally tagged by `kind` (snake_case), fields added only as
//! `Option`/defaulted so old rows keep deserialising.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest tool output kept in a [`Event::ToolResult`]; the rest is replaced
/// by a marker. Tool outputs are for people skimming logs, the agent already
/// consumed the full text.
pub const TOOL_OUTPUT_CAP: usize = 8 * 1024;

/// Largest string kept inside a [`Event::ToolUse`] input (e.g. the content of
/// a `Write` call); longer strings are capped with a marker.
pub const TOOL_INPUT_STRING_CAP: usize = 4 * 1024;

/// Largest slice of an unparsable line kept in [`Event::Malformed`].
pub const MALFORMED_CAP: usize = 2 * 1024;

/// Largest JSON line kept verbatim in [`Event::Raw`]; bigger unknown events
/// are replaced by a stub saying how big they were.
pub const RAW_CAP: usize = 64 * 1024;

/// Largest assistant/reasoning text kept in one event.
pub const TEXT_CAP: usize = 256 * 1024;

/// Largest line kept in one [`Event::Text`]: text harnesses can print
/// anything (a minified bundle, a binary blob) and each line is stored.
pub const TEXT_LINE_CAP: usize = 16 * 1024;

/// One normalised thing that happened during an agent run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The CLI announced its session (claude/gemini `init`, codex
    /// `thread.started`). `session_id` is what resuming needs.
    SessionStarted {
        session_id: String,
        #[serde(default)]
        model: Option<String>,
    },
    /// Text written by the model for the user. Gemini streams text as many
    /// small deltas; they are coalesced into one event per message so logs
    /// read naturally.
    AssistantText { text: String },
    /// Model "thinking"/reasoning text (claude thinking blocks, codex
    /// `reasoning` items). Informational.
    Reasoning { text: String },
    /// The agent invoked a tool.
    ToolUse {
        #[serde(default)]
        id: Option<String>,
        name: String,
        #[serde(default)]
        input: Value,
    },
    /// A tool finished. `output` is capped at [`TOOL_OUTPUT_CAP`] bytes.
    ToolResult {
        #[serde(default)]
        id: Option<String>,
        output: String,
        #[serde(default)]
        is_error: bool,
    },
    /// The CLI is retrying a request by itself (claude `system/api_retry`,
    /// codex `Reconnecting...`). Informational: not a failure.
    Retry {
        #[serde(default)]
        attempt: Option<u32>,
        message: String,
    },
    /// A non-fatal problem reported by the CLI.
    Warning { message: String },
    /// Token/cost accounting as reported by the CLI. `cost_usd` is `None`
    /// when the CLI does not report a cost.
    Usage {
        #[serde(default)]
        tokens_in: Option<u64>,
        #[serde(default)]
        tokens_out: Option<u64>,
        #[serde(default)]
        cost_usd: Option<f64>,
    },
    /// The CLI's own end-of-run verdict, as seen in the stream (before the
    /// exit code is known; the authoritative verdict is
    /// [`crate::Outcome`]).
    Result {
        success: bool,
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        error: Option<String>,
    },
    /// An error event from the CLI that does not by itself end the run
    /// (e.g. gemini `error` with severity `error`).
    Error { message: String },
    /// A valid JSON event of a type this crate does not know; kept so nothing
    /// is lost, hidden by the renderer.
    Raw { value: Value },
    /// A stdout line that could not be parsed (not JSON, not UTF-8, or cut
    /// by the line-length cap). Recorded and skipped.
    Malformed { line: String, reason: String },
    /// One line of a `text`-format harness, capped at [`TEXT_LINE_CAP`]
    /// bytes with a marker.
    Text { line: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_with_kind_tag() {
        let e = Event::ToolUse { id: Some("t1".into()), name: "Bash".into(), input: json!({"command": "ls"}) };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v, json!({"kind": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}));
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn missing_optional_fields_deserialise() {
        let e: Event = serde_json::from_str(r#"{"kind":"usage"}"#).unwrap();
        assert_eq!(e, Event::Usage { tokens_in: None, tokens_out: None, cost_usd: None });
        let e: Event = serde_json::from_str(r#"{"kind":"session_started","session_id":"s"}"#).unwrap();
        assert_eq!(e, Event::SessionStarted { session_id: "s".into(), model: None });
    }

    #[test]
    fn every_variant_round_trips() {
        let all = vec![
            Event::SessionStarted { session_id: "s".into(), model: Some("m".into()) },
            Event::AssistantText { text: "hi".into() },
            Event::Reasoning { text: "hmm".into() },
            Event::ToolUse { id: None, name: "x".into(), input: Value::Null },
            Event::ToolResult { id: Some("i".into()), output: "o".into(), is_error: true },
            Event::Retry { attempt: Some(2), message: "m".into() },
            Event::Warning { message: "w".into() },
            Event::Usage { tokens_in: Some(1), tokens_out: Some(2), cost_usd: Some(0.5) },
            Event::Result { success: false, text: None, error: Some("e".into()) },
            Event::Error { message: "e".into() },
            Event::Raw { value: json!({"type": "x"}) },
            Event::Malformed { line: "l".into(), reason: "r".into() },
            Event::Text { line: "t".into() },
        ];
        for e in all {
            let s = serde_json::to_string(&e).unwrap();
            let back: Event = serde_json::from_str(&s).unwrap();
            assert_eq!(back, e, "{s}");
        }
    }
}
