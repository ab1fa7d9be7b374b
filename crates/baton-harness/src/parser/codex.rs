//! Parser for Codex CLI `exec --json` (README §2).
//!
//! Success rule: a `turn.completed` was seen and the process exited 0.
//! `turn.failed` is the failure; top-level `error` events (one per internal
//! retry, "Reconnecting... n/5") and items of type `error` are NOT failures.
//!
//! Tokens: summed over every `turn.completed` of the run. `tokens_in =
//! input_tokens` (it already includes `cached_input_tokens`, OpenAI usage
//! semantics), `tokens_out = output_tokens` (includes reasoning tokens), `cache_read_tokens =
//! cached_input_tokens`, `cache_write_tokens = cache_write_input_tokens` (newer CLIs).
//! Codex reports no cost and no turn count: both stay `None`.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::{decode, missing_terminal, raw, Decoded, StreamStats};
use crate::event::{Event, TEXT_CAP, TOOL_INPUT_STRING_CAP, TOOL_OUTPUT_CAP};
use crate::lines::Line;
use crate::outcome::{classify_text, clean_detail, find_http_status, ExitInfo, FailureClass, Outcome};
use crate::util::{cap, cap_with_marker, shorten_json, str_field, u64_field};

#[derive(Debug, Default)]
pub(crate) struct CodexParser {
    session_id: Option<String>,
    last_agent_message: Option<String>,
    tokens_in: Option<u64>,
    tokens_out: Option<u64>,
    cache_read_tokens: Option<u64>,
    cache_write_tokens: Option<u64>,
    /// Last terminal event: `Ok(())` for turn.completed, `Err(message)` for
    /// turn.failed.
    terminal: Option<Result<(), String>>,
    /// Items whose `item.started` produced a ToolUse, so `item.completed`
    /// does not emit it twice. Entries are removed on completion.
    started: HashSet<String>,
    stats: StreamStats,
}

impl CodexParser {
    pub(crate) fn feed(&mut self, line: &Line) -> Vec<Event> {
        let (kind, v) = match decode(line, &mut self.stats) {
            Decoded::Blank => return Vec::new(),
            Decoded::Other(e) => return vec![e],
            Decoded::Typed(k, v) => (k, v),
        };
        let mut events = Vec::new();
        match kind.as_str() {
            "thread.started" => {
                self.stats.recognized += 1;
                match str_field(&v, "thread_id") {
                    Some(id) => {
                        self.session_id = Some(id.to_owned());
                        events.push(Event::SessionStarted { session_id: id.to_owned(), model: None });
                    }
                    None => events.push(raw(v, line.original_len)),
                }
            }
            "turn.started" => self.stats.recognized += 1,
            "turn.completed" => {
                self.stats.recognized += 1;
                let usage = v.get("usage").unwrap_or(&Value::Null);
                let tin = u64_field(usage, "input_tokens");
                let tout = u64_field(usage, "output_tokens");
                self.tokens_in = add_opt(self.tokens_in, tin);
                self.tokens_out = add_opt(self.tokens_out, tout);
                self.cache_read_tokens = add_opt(self.cache_read_tokens, u64_field(usage, "cached_input_tokens"));
                self.cache_write_tokens =
                    add_opt(self.cache_write_tokens, u64_field(usage, "cache_write_input_tokens"));
                self.terminal = Some(Ok(()));
                events.push(Event::Usage { tokens_in: tin, tokens_out: tout, cost_usd: None });
                events.push(Event::Result { success: true, text: self.last_agent_message.clone(), error: None });
            }
            "turn.failed" => {
                self.stats.recognized += 1;
                let msg = v
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("turn failed without a message")
                    .to_owned();
                let (_, human) = classify_turn_failure(&msg);
                self.terminal = Some(Err(msg));
                events.push(Event::Result { success: false, text: None, error: Some(human) });
            }
            "error" => {
                self.stats.recognized += 1;
                let msg = str_field(&v, "message").unwrap_or("").to_owned();
                self.stats.notice(&msg);
                events.push(match parse_reconnecting(&msg) {
                    Some((attempt, inner)) => Event::Retry { attempt, message: inner },
                    None => Event::Warning { message: msg },
                });
            }
            "item.started" | "item.updated" | "item.completed" => {
                self.stats.recognized += 1;
                let item = v.get("item").unwrap_or(&Value::Null);
                self.item(&kind, item, &v, line.original_len, &mut events);
            }
            _ => events.push(raw(v, line.original_len)),
        }
        events
    }

    fn item(&mut self, kind: &str, item: &Value, whole: &Value, line_len: usize, events: &mut Vec<Event>) {
        let id = str_field(item, "id").map(str::to_owned);
        let completed = kind == "item.completed";
        let started = kind == "item.started";
        match str_field(item, "type").unwrap_or("") {
            "agent_message" if completed => {
                let text = cap(str_field(item, "text").unwrap_or(""), TEXT_CAP);
                self.last_agent_message = Some(text.clone());
                events.push(Event::AssistantText { text });
            }
            "reasoning" if completed => {
                if let Some(t) = str_field(item, "text").filter(|t| !t.trim().is_empty()) {
                    events.push(Event::Reasoning { text: cap(t, TEXT_CAP) });
                }
            }
            "command_execution" => {
                let tool = || Event::ToolUse {
                    id: id.clone(),
                    name: "shell".to_owned(),
                    input: json!({ "command": cap(str_field(item, "command").unwrap_or(""), TOOL_INPUT_STRING_CAP) }),
                };
                if started {
                    self.mark_started(&id);
                    events.push(tool());
                } else if completed {
                    if !self.take_started(&id) {
                        events.push(tool());
                    }
                    let exit_code = item.get("exit_code").and_then(Value::as_i64);
                    let status = str_field(item, "status").unwrap_or("");
                    let mut output = str_field(item, "aggregated_output").unwrap_or("").to_owned();
                    if status == "declined" && output.is_empty() {
                        output = "command declined".to_owned();
                    }
                    events.push(Event::ToolResult {
                        id,
                        output: cap_with_marker(&output, TOOL_OUTPUT_CAP),
                        is_error: matches!(status, "failed" | "declined") || exit_code.is_some_and(|c| c != 0),
                    });
                }
            }
            "file_change" if completed => {
                // The ToolUse lists the changes; a separate result is only
                // worth a line when applying them failed.
                let changes = item.get("changes").cloned().unwrap_or(Value::Null);
                events.push(Event::ToolUse {
                    id: id.clone(),
                    name: "file_change".to_owned(),
                    input: shorten_json(&json!({ "changes": changes }), TOOL_INPUT_STRING_CAP),
                });
                if str_field(item, "status") == Some("failed") {
                    events.push(Event::ToolResult {
                        id,
                        output: "applying the file change failed".to_owned(),
                        is_error: true,
                    });
                }
            }
            "mcp_tool_call" => {
                let name = format!(
                    "{}.{}",
                    str_field(item, "server").unwrap_or("mcp"),
                    str_field(item, "tool").unwrap_or("tool")
                );
                let tool = || Event::ToolUse {
                    id: id.clone(),
                    name: name.clone(),
                    input: shorten_json(item.get("arguments").unwrap_or(&Value::Null), TOOL_INPUT_STRING_CAP),
                };
                if started {
                    self.mark_started(&id);
                    events.push(tool());
                } else if completed {
                    if !self.take_started(&id) {
                        events.push(tool());
                    }
                    let err = item.pointer("/error/message").and_then(Value::as_str);
                    let output = match err {
                        Some(e) => e.to_owned(),
                        None => mcp_result_text(item.get("result").unwrap_or(&Value::Null)),
                    };
                    events.push(Event::ToolResult {
                        id,
                        output: cap_with_marker(&output, TOOL_OUTPUT_CAP),
                        is_error: err.is_some() || str_field(item, "status") == Some("failed"),
                    });
                }
            }
            "web_search" if completed => events.push(Event::ToolUse {
                id,
                name: "web_search".to_owned(),
                input: json!({ "query": cap(str_field(item, "query").unwrap_or(""), TOOL_INPUT_STRING_CAP) }),
            }),
            "error" => {
                // Non-fatal by design (e.g. "Falling back from WebSockets to
                // HTTPS transport", missing model metadata).
                if completed || started {
                    let msg = str_field(item, "message").unwrap_or("").to_owned();
                    self.stats.notice(&msg);
                    events.push(Event::Warning { message: msg });
                }
            }
            // Streaming updates of known items carry nothing we render.
            "agent_message" | "reasoning" | "file_change" | "web_search" => {}
            // todo_list, plan, collab_tool_call and future item types.
            _ => events.push(raw(whole.clone(), line_len)),
        }
    }

    fn mark_started(&mut self, id: &Option<String>) {
        // Bounded: a well-formed stream completes what it starts; a broken
        // one must not grow the set forever.
        if let Some(id) = id {
            if self.started.len() < 10_000 {
                self.started.insert(id.clone());
            }
        }
    }

    fn take_started(&mut self, id: &Option<String>) -> bool {
        id.as_ref().is_some_and(|id| self.started.remove(id))
    }

    pub(crate) fn finish(self, exit: ExitInfo, stderr_tail: &str) -> Outcome {
        let mut out = Outcome {
            session_id: self.session_id,
            result: self.last_agent_message,
            tokens_in: self.tokens_in,
            tokens_out: self.tokens_out,
            cache_read_tokens: self.cache_read_tokens,
            cache_write_tokens: self.cache_write_tokens,
            exit_code: exit.code,
            ..Outcome::default()
        };
        match self.terminal {
            Some(Ok(())) if exit.is_success() => out.succeed(),
            Some(Ok(())) => out
                .fail(FailureClass::Transient, format!("codex completed the turn but exited with {}", exit.describe())),
            Some(Err(msg)) => {
                let (class, human) = classify_turn_failure(&msg);
                out.fail(class, human);
            }
            None => {
                if let Some(bad) = bad_flags(exit, stderr_tail) {
                    out.fail(FailureClass::Permanent, format!("codex rejected its command line (bad flags): {bad}"));
                } else if stderr_tail.contains("Not inside a trusted directory") {
                    out.fail(
                        FailureClass::Permanent,
                        "codex refused to run outside a git repository (\"Not inside a trusted directory\"); add --skip-git-repo-check or run the job in a git repository",
                    );
                } else {
                    missing_terminal(
                        &mut out,
                        "codex",
                        "turn.completed or turn.failed event",
                        exit,
                        stderr_tail,
                        &self.stats,
                    );
                }
            }
        }
        out
    }
}

fn add_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.saturating_add(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Class and human message for a `turn.failed` message. Unknown causes are
/// transient: turn failures are overwhelmingly API/network trouble (bad
/// configuration shows up before any turn starts).
fn classify_turn_failure(msg: &str) -> (FailureClass, String) {
    let detail = clean_detail(msg);
    match classify_text(msg) {
        Some(p) => (p.class(), p.message(find_http_status(msg), &detail)),
        None => (FailureClass::Transient, format!("codex turn failed: {detail}")),
    }
}

/// `Reconnecting... 2/5 (inner)` → `(Some(2), "inner")`;
/// `Reconnecting... waiting for network (inner)` → `(None, "waiting for network (inner)")`.
fn parse_reconnecting(msg: &str) -> Option<(Option<u32>, String)> {
    let rest = msg.strip_prefix("Reconnecting...")?.trim_start();
    let (first, tail) = rest.split_once(' ').unwrap_or((rest, ""));
    if let Some((n, _max)) = first.split_once('/') {
        if let Ok(n) = n.parse::<u32>() {
            let inner = tail.trim();
            let inner = inner.strip_prefix('(').and_then(|s| s.strip_suffix(')')).unwrap_or(inner);
            return Some((Some(n), clean_detail(inner)));
        }
    }
    Some((None, rest.to_owned()))
}

/// The clap error line when codex rejected its arguments (exit 2).
fn bad_flags(exit: ExitInfo, stderr_tail: &str) -> Option<String> {
    if exit.code != Some(2) {
        return None;
    }
    stderr_tail.lines().map(str::trim).find(|l| l.starts_with("error:")).map(|l| cap(l, 200))
}

fn mcp_result_text(result: &Value) -> String {
    match result.get("content").and_then(Value::as_array) {
        Some(parts) => {
            parts.iter().filter_map(|p| str_field(p, "text").map(str::to_owned)).collect::<Vec<_>>().join("\n")
        }
        None if result.is_null() => String::new(),
        None => result.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnecting_is_parsed() {
        assert_eq!(
            parse_reconnecting("Reconnecting... 2/5 (stream disconnected before completion: x)"),
            Some((Some(2), "stream disconnected before completion: x".to_owned()))
        );
        assert_eq!(
            parse_reconnecting("Reconnecting... waiting for network (Connection failed: e)"),
            Some((None, "waiting for network (Connection failed: e)".to_owned()))
        );
        assert_eq!(parse_reconnecting("Quota exceeded."), None);
        assert_eq!(parse_reconnecting("Reconnecting..."), Some((None, String::new())));
    }
}
