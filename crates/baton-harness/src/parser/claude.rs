//! Parser for Claude Code `-p --output-format stream-json --verbose`
//! (README §1). Also accepts `--output-format json`, whose single line is
//! the same `result` object.
//!
//! Success rule: the `result` event has `subtype == "success"` AND
//! `is_error == false` AND the process exited 0. API failures arrive as
//! `subtype: "success"` with `is_error: true`, so the subtype alone proves
//! nothing.
//!
//! Tokens: `tokens_in = input_tokens + cache_creation_input_tokens +
//! cache_read_input_tokens` (everything the model read; cache reads are
//! cheaper but still context), `tokens_out = output_tokens`, both from
//! `result.usage`; `cache_read_tokens` and `cache_write_tokens` are the cache parts of
//! `tokens_in`. A run stopped before its `result` (a timeout, a kill) still reports what its
//! assistant messages used: each message's `usage`, counted once per message id (every content
//! block of a message repeats it), summed over the messages.

use serde_json::Value;

use super::{decode, missing_terminal, raw, Decoded, StreamStats};
use crate::event::{Event, TEXT_CAP, TOOL_INPUT_STRING_CAP, TOOL_OUTPUT_CAP};
use crate::lines::Line;
use crate::outcome::{classify_text, clean_detail, problem_for_status, ExitInfo, FailureClass, Outcome, Problem};
use crate::util::{cap, cap_with_marker, shorten_json, str_field, u64_field};

/// Exact stderr text of the root + bypassPermissions refusal.
const ROOT_REFUSAL: &str = "cannot be used with root/sudo privileges";

const ROOT_MESSAGE: &str = "claude refuses --permission-mode bypassPermissions as root: set IS_SANDBOX=1 in the runner's environment if this is a sandbox, or set [harness.claude] args/command with other permission flags";

#[derive(Debug, Default)]
pub(crate) struct ClaudeParser {
    session_id: Option<String>,
    /// Text of the last top-level (non-subagent, non-synthetic) assistant
    /// message: the fallback final text when `result.result` is missing.
    last_text: Option<String>,
    last_msg_id: Option<String>,
    /// `assistant.error` kind and text of the last synthetic error message.
    api_error: Option<(String, String)>,
    /// Usage of the assistant messages seen so far, for a run that ends without a `result`.
    streamed: Box<StreamedUsage>,
    result: Option<ResultInfo>,
    stats: StreamStats,
}

#[derive(Debug)]
struct ResultInfo {
    ok: bool,
    text: Option<String>,
    /// Class and message when `ok` is false.
    failure: Option<(FailureClass, String)>,
    session_id: Option<String>,
    tokens: Tokens,
    cost_usd: Option<f64>,
    num_turns: Option<u64>,
}

/// Token counts of one `usage` object.
#[derive(Debug, Default, Clone, Copy)]
struct Tokens {
    tokens_in: Option<u64>,
    tokens_out: Option<u64>,
    cache_read: Option<u64>,
    cache_write: Option<u64>,
}

impl Tokens {
    fn of(usage: &Value) -> Tokens {
        let cache_read = u64_field(usage, "cache_read_input_tokens");
        let cache_write = u64_field(usage, "cache_creation_input_tokens");
        Tokens {
            tokens_in: sum_opt(&[u64_field(usage, "input_tokens"), cache_write, cache_read]),
            tokens_out: u64_field(usage, "output_tokens"),
            cache_read,
            cache_write,
        }
    }

    fn add(self, other: Tokens) -> Tokens {
        let add = |a: Option<u64>, b: Option<u64>| sum_opt(&[a, b]);
        Tokens {
            tokens_in: add(self.tokens_in, other.tokens_in),
            tokens_out: add(self.tokens_out, other.tokens_out),
            cache_read: add(self.cache_read, other.cache_read),
            cache_write: add(self.cache_write, other.cache_write),
        }
    }

    fn fill(self, out: &mut Outcome) {
        out.tokens_in = self.tokens_in;
        out.tokens_out = self.tokens_out;
        out.cache_read_tokens = self.cache_read;
        out.cache_write_tokens = self.cache_write;
    }
}

/// The usage of assistant messages, each counted once.
#[derive(Debug, Default)]
struct StreamedUsage {
    /// Messages already counted: one message arrives as several lines repeating its usage.
    counted: std::collections::HashSet<String>,
    total: Tokens,
}

impl StreamedUsage {
    fn record(&mut self, msg: &Value) {
        let (Some(id), Some(usage)) = (str_field(msg, "id"), msg.get("usage")) else { return };
        if self.counted.insert(id.to_owned()) {
            self.total = self.total.add(Tokens::of(usage));
        }
    }
}

impl ClaudeParser {
    /// What the assistant messages seen so far used, each message counted once.
    pub(crate) fn running_usage(&self) -> super::RunningUsage {
        let t = self.streamed.total;
        super::RunningUsage {
            tokens_in: t.tokens_in,
            tokens_out: t.tokens_out,
            cache_read_tokens: t.cache_read,
            cache_write_tokens: t.cache_write,
        }
    }

    pub(crate) fn feed(&mut self, line: &Line) -> Vec<Event> {
        let (kind, v) = match decode(line, &mut self.stats) {
            Decoded::Blank => return Vec::new(),
            Decoded::Other(e) => return vec![e],
            Decoded::Typed(k, v) => (k, v),
        };
        let mut events = Vec::new();
        match kind.as_str() {
            "system" => {
                self.stats.recognized += 1;
                match str_field(&v, "subtype") {
                    Some("init") => match str_field(&v, "session_id") {
                        Some(id) => {
                            self.session_id = Some(id.to_owned());
                            events.push(Event::SessionStarted {
                                session_id: id.to_owned(),
                                model: str_field(&v, "model").map(str::to_owned),
                            });
                        }
                        None => events.push(raw(v, line.original_len)),
                    },
                    Some("api_retry") => {
                        let message = retry_message(&v);
                        self.stats.notice(&message);
                        events.push(Event::Retry {
                            attempt: u64_field(&v, "attempt").and_then(|a| u32::try_from(a).ok()),
                            message,
                        });
                    }
                    // ~40 other subtypes (status, compact_boundary, hooks,
                    // tasks…): kept, not interpreted.
                    _ => events.push(raw(v, line.original_len)),
                }
            }
            "assistant" => {
                self.stats.recognized += 1;
                self.assistant(&v, &mut events);
            }
            "user" => {
                self.stats.recognized += 1;
                user_tool_results(&v, &mut events);
            }
            // Partial-message deltas (--include-partial-messages) duplicate
            // the complete `assistant` line that follows; dropping them keeps
            // the log readable and the store small.
            "stream_event" => self.stats.recognized += 1,
            "result" => {
                self.stats.recognized += 1;
                self.result(&v, &mut events);
            }
            _ => events.push(raw(v, line.original_len)),
        }
        events
    }

    fn assistant(&mut self, v: &Value, events: &mut Vec<Event>) {
        let msg = v.get("message").unwrap_or(&Value::Null);
        let synthetic = str_field(msg, "model") == Some("<synthetic>");
        if !synthetic {
            self.streamed.record(msg);
        }
        let error_kind = str_field(v, "error");
        let top_level = v.get("parent_tool_use_id").is_none_or(Value::is_null);
        let mut text = String::new();
        match msg.get("content") {
            Some(Value::String(s)) => text.push_str(s),
            Some(Value::Array(blocks)) => {
                for b in blocks {
                    match str_field(b, "type") {
                        Some("text") => {
                            if let Some(t) = str_field(b, "text") {
                                text.push_str(t);
                            }
                        }
                        Some("tool_use") | Some("server_tool_use") => events.push(Event::ToolUse {
                            id: str_field(b, "id").map(str::to_owned),
                            name: str_field(b, "name").unwrap_or("tool").to_owned(),
                            input: shorten_json(b.get("input").unwrap_or(&Value::Null), TOOL_INPUT_STRING_CAP),
                        }),
                        Some("thinking") => {
                            if let Some(t) = str_field(b, "thinking").filter(|t| !t.trim().is_empty()) {
                                events.push(Event::Reasoning { text: cap(t, TEXT_CAP) });
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        if let Some(kind) = error_kind {
            // The CLI's own error message (model "<synthetic>"): it is the
            // failure's explanation, reported once via the result event,
            // not model output.
            self.api_error = Some((kind.to_owned(), text.clone()));
            if synthetic {
                return;
            }
            events.push(Event::Warning { message: format!("assistant message ended with error `{kind}`") });
        }
        if text.is_empty() {
            return;
        }
        if top_level && !synthetic {
            // Each content block arrives as its own line with the same
            // message id: join the text blocks of one message.
            let id = str_field(msg, "id").map(str::to_owned);
            match (&mut self.last_text, id.is_some() && id == self.last_msg_id) {
                (Some(prev), true) => {
                    prev.push('\n');
                    prev.push_str(&text);
                    *prev = cap(prev, TEXT_CAP);
                }
                _ => self.last_text = Some(cap(&text, TEXT_CAP)),
            }
            self.last_msg_id = id;
        }
        events.push(Event::AssistantText { text: cap(&text, TEXT_CAP) });
    }

    fn result(&mut self, v: &Value, events: &mut Vec<Event>) {
        let subtype = str_field(v, "subtype").unwrap_or("");
        let is_error = v.get("is_error").and_then(Value::as_bool).unwrap_or(subtype != "success");
        let ok = subtype == "success" && !is_error;
        let usage = v.get("usage").unwrap_or(&Value::Null);
        let tokens = Tokens::of(usage);
        let (tokens_in, tokens_out) = (tokens.tokens_in, tokens.tokens_out);
        let cost_usd = v.get("total_cost_usd").and_then(Value::as_f64);
        let text = str_field(v, "result").map(|s| cap(s, TEXT_CAP));
        let failure = if ok { None } else { Some(self.classify(v, subtype, text.as_deref())) };
        events.push(Event::Usage { tokens_in, tokens_out, cost_usd });
        events.push(Event::Result {
            success: ok,
            text: if ok { text.clone() } else { None },
            error: failure.as_ref().map(|(_, m)| m.clone()),
        });
        self.result = Some(ResultInfo {
            ok,
            text,
            failure,
            session_id: str_field(v, "session_id").map(str::to_owned),
            tokens,
            cost_usd,
            num_turns: u64_field(v, "num_turns"),
        });
    }

    /// Class and message for a failed `result`.
    fn classify(&self, v: &Value, subtype: &str, text: Option<&str>) -> (FailureClass, String) {
        let errors: Vec<&str> = v
            .get("errors")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let errors = errors.join("; ");
        let detail = if !errors.is_empty() {
            errors
        } else if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
            t.to_owned()
        } else if let Some((_, t)) = &self.api_error {
            t.clone()
        } else {
            String::new()
        };
        let detail = clean_detail(&detail);
        let or_subtype = |d: &str| if d.is_empty() { subtype.to_owned() } else { d.to_owned() };
        match subtype {
            "error_max_turns" => (
                FailureClass::Permanent,
                format!(
                    "claude hit the turn limit ({}); raise --max-turns or resume the session to continue",
                    or_subtype(&detail)
                ),
            ),
            "error_max_budget_usd" => (
                FailureClass::Permanent,
                format!(
                    "claude hit the budget limit ({}); raise --max-budget-usd or resume the session to continue",
                    or_subtype(&detail)
                ),
            ),
            "error_max_structured_output_retries" => (
                FailureClass::Permanent,
                format!("claude could not produce valid structured output: {}", or_subtype(&detail)),
            ),
            "success" => self.classify_api_error(v, &detail),
            _ => {
                // error_during_execution and unknown subtypes: the known
                // causes (bad resume id, aborted tools) do not go away on a
                // retry unless the text says otherwise.
                let class = classify_text(&detail).map(Problem::class).unwrap_or(FailureClass::Permanent);
                (class, format!("claude failed ({subtype}): {}", or_subtype(&detail)))
            }
        }
    }

    /// `subtype: success` + `is_error: true`: an API failure after the
    /// CLI's own retries.
    fn classify_api_error(&self, v: &Value, detail: &str) -> (FailureClass, String) {
        let status = u64_field(v, "api_error_status").and_then(|s| u16::try_from(s).ok());
        let text_problem = classify_text(detail);
        let kind_problem = self.api_error.as_ref().and_then(|(k, _)| match k.as_str() {
            "authentication_failed" | "oauth_org_not_allowed" => Some(Problem::Auth),
            "billing_error" => Some(Problem::Billing),
            "rate_limit" => Some(Problem::RateLimit),
            "overloaded" => Some(Problem::Overloaded),
            "server_error" => Some(Problem::ServerError),
            "invalid_request" => Some(Problem::BadRequest),
            "model_not_found" => Some(Problem::ModelNotFound),
            _ => None,
        });
        let problem = match text_problem {
            // Phrases more specific than any status or kind.
            Some(p @ (Problem::UsageLimit | Problem::Billing | Problem::ContextTooLong)) => Some(p),
            // "Unable to connect" comes with kind server_error and no status.
            Some(Problem::Connection) if status.is_none() => Some(Problem::Connection),
            _ => status.and_then(problem_for_status).or(kind_problem).or(text_problem),
        };
        match problem {
            Some(p) => (p.class(), p.message(status, detail)),
            None => (FailureClass::Transient, format!("claude reported an API error: {detail}")),
        }
    }

    pub(crate) fn finish(self, exit: ExitInfo, stderr_tail: &str) -> Outcome {
        let mut out = Outcome { session_id: self.session_id, exit_code: exit.code, ..Outcome::default() };
        let Some(r) = self.result else {
            self.streamed.total.fill(&mut out);
            out.result = self.last_text;
            if stderr_tail.contains(ROOT_REFUSAL) {
                out.fail(FailureClass::Permanent, ROOT_MESSAGE);
            } else {
                missing_terminal(&mut out, "claude", "result event", exit, stderr_tail, &self.stats);
            }
            return out;
        };
        if out.session_id.is_none() {
            out.session_id = r.session_id;
        }
        r.tokens.fill(&mut out);
        out.cost_usd = r.cost_usd;
        out.num_turns = r.num_turns;
        if r.ok {
            out.result = r.text.or(self.last_text);
            if exit.is_success() {
                out.succeed();
            } else {
                // The CLI said success but the process did not exit
                // cleanly (crash on shutdown, killed right after): the work
                // may be fine, but we cannot trust it; a retry is cheap.
                out.fail(
                    FailureClass::Transient,
                    format!("claude reported success but exited with {}", exit.describe()),
                );
            }
        } else {
            out.result = self.last_text;
            let (class, message) =
                r.failure.unwrap_or((FailureClass::Transient, "claude reported an error".to_owned()));
            out.fail(class, message);
        }
        out
    }
}

fn sum_opt(parts: &[Option<u64>]) -> Option<u64> {
    parts.iter().flatten().fold(None, |acc: Option<u64>, n| Some(acc.unwrap_or(0).saturating_add(*n)))
}

/// "API request failed (HTTP 429, rate_limit); retrying in 1.0s (max 10 retries)".
fn retry_message(v: &Value) -> String {
    let status = u64_field(v, "error_status");
    let kind = str_field(v, "error").filter(|k| *k != "unknown");
    let what = match (status, kind) {
        (Some(s), Some(k)) => format!("HTTP {s}, {k}"),
        (Some(s), None) => format!("HTTP {s}"),
        (None, Some(k)) => format!("connection error, {k}"),
        (None, None) => "connection error".to_owned(),
    };
    let mut m = format!("API request failed ({what})");
    if let Some(ms) = v.get("retry_delay_ms").and_then(Value::as_f64) {
        m.push_str(&format!("; retrying in {:.1}s", ms / 1000.0));
    }
    if let Some(max) = u64_field(v, "max_retries") {
        m.push_str(&format!(" (max {max} retries)"));
    }
    m
}

/// Tool results inside a `user` line.
fn user_tool_results(v: &Value, events: &mut Vec<Event>) {
    let Some(blocks) = v.pointer("/message/content").and_then(Value::as_array) else {
        return;
    };
    for b in blocks {
        if str_field(b, "type") != Some("tool_result") {
            continue;
        }
        let output = match b.get("content") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| match str_field(p, "type") {
                    Some("text") => str_field(p, "text").map(str::to_owned),
                    Some(other) => Some(format!("[{other}]")),
                    None => None,
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        events.push(Event::ToolResult {
            id: str_field(b, "tool_use_id").map(str::to_owned),
            output: cap_with_marker(&output, TOOL_OUTPUT_CAP),
            is_error: b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
        });
    }
}
