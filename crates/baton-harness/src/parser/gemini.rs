//! Parser for Gemini CLI `--output-format stream-json` (README §3).
//!
//! Success rule: `result.status == "success"` and exit 0. The exit code
//! carries the failure kind: 41 auth, 42 bad input, 52 config, 53 turn
//! limit, 130 cancelled, and API errors exit with the HTTP status modulo
//! 256 (400→144, 429→173, 500→244, 503→247).
//!
//! Final text: assistant text arrives as `delta` chunks; the final result is
//! the text written after the last `tool_result` (earlier text is narration
//! between tool calls), falling back to the last non-empty text segment.
//!
//! Tokens: `result.stats.input_tokens` (includes `cached`) and
//! `output_tokens`; `cache_read_tokens = stats.cached`. Gemini reports no cost and no turn count.

use serde_json::Value;

use super::{decode, missing_terminal, raw, Decoded, StreamStats};
use crate::event::{Event, TEXT_CAP, TOOL_INPUT_STRING_CAP, TOOL_OUTPUT_CAP};
use crate::lines::Line;
use crate::outcome::{
    classify_text, clean_detail, find_http_status, problem_for_status, stderr_summary, ExitInfo, FailureClass, Outcome,
    Problem,
};
use crate::util::{cap, cap_with_marker, shorten_json, str_field, u64_field};

#[derive(Debug, Default)]
pub(crate) struct GeminiParser {
    session_id: Option<String>,
    /// Assistant text not yet emitted as an event (deltas are coalesced).
    pending: String,
    /// Assistant text since the last tool_result.
    segment: String,
    /// Last non-empty finished segment.
    last_segment: String,
    result: Option<GeminiResult>,
    stats: StreamStats,
}

#[derive(Debug)]
struct GeminiResult {
    ok: bool,
    error_type: Option<String>,
    error_message: Option<String>,
    tokens_in: Option<u64>,
    tokens_out: Option<u64>,
    cache_read_tokens: Option<u64>,
}

fn push_capped(buf: &mut String, s: &str) {
    if buf.len() < TEXT_CAP {
        buf.push_str(s);
        if buf.len() > TEXT_CAP {
            *buf = cap(buf, TEXT_CAP);
        }
    }
}

impl GeminiParser {
    pub(crate) fn feed(&mut self, line: &Line) -> Vec<Event> {
        let (kind, v) = match decode(line, &mut self.stats) {
            Decoded::Blank => return Vec::new(),
            Decoded::Other(e) => {
                let mut events = self.flush();
                events.push(e);
                return events;
            }
            Decoded::Typed(k, v) => (k, v),
        };
        if kind == "message" && str_field(&v, "role") == Some("assistant") {
            self.stats.recognized += 1;
            let content = str_field(&v, "content").unwrap_or("");
            push_capped(&mut self.segment, content);
            // Bound the buffer: a huge message is emitted in pieces.
            let mut events = if self.pending.len() + content.len() > TEXT_CAP { self.flush() } else { Vec::new() };
            push_capped(&mut self.pending, content);
            events.extend(self.flush_if_complete(&v));
            return events;
        }
        // Any other line ends the current assistant message.
        let mut events = self.flush();
        match kind.as_str() {
            "init" => {
                self.stats.recognized += 1;
                match str_field(&v, "session_id") {
                    Some(id) => {
                        self.session_id = Some(id.to_owned());
                        events.push(Event::SessionStarted {
                            session_id: id.to_owned(),
                            model: str_field(&v, "model").map(str::to_owned),
                        });
                    }
                    None => events.push(raw(v, line.original_len)),
                }
            }
            // The user prompt echo: baton already has the prompt.
            "message" => self.stats.recognized += 1,
            "tool_use" => {
                self.stats.recognized += 1;
                events.push(Event::ToolUse {
                    id: str_field(&v, "tool_id").map(str::to_owned),
                    name: str_field(&v, "tool_name").unwrap_or("tool").to_owned(),
                    input: shorten_json(v.get("parameters").unwrap_or(&Value::Null), TOOL_INPUT_STRING_CAP),
                });
            }
            "tool_result" => {
                self.stats.recognized += 1;
                if !self.segment.trim().is_empty() {
                    self.last_segment = std::mem::take(&mut self.segment);
                } else {
                    self.segment.clear();
                }
                let is_error = str_field(&v, "status") == Some("error");
                let output = str_field(&v, "output")
                    .or_else(|| v.pointer("/error/message").and_then(Value::as_str))
                    .unwrap_or("");
                events.push(Event::ToolResult {
                    id: str_field(&v, "tool_id").map(str::to_owned),
                    output: cap_with_marker(output, TOOL_OUTPUT_CAP),
                    is_error,
                });
            }
            "error" => {
                // Non-fatal per the CLI's protocol, whatever the severity.
                self.stats.recognized += 1;
                let message = str_field(&v, "message").unwrap_or("").to_owned();
                self.stats.notice(&message);
                events.push(if str_field(&v, "severity") == Some("warning") {
                    Event::Warning { message }
                } else {
                    Event::Error { message }
                });
            }
            "result" => {
                self.stats.recognized += 1;
                let ok = str_field(&v, "status") == Some("success");
                let stats = v.get("stats").unwrap_or(&Value::Null);
                let r = GeminiResult {
                    ok,
                    error_type: v.pointer("/error/type").and_then(Value::as_str).map(str::to_owned),
                    error_message: v.pointer("/error/message").and_then(Value::as_str).map(str::to_owned),
                    tokens_in: u64_field(stats, "input_tokens"),
                    tokens_out: u64_field(stats, "output_tokens"),
                    cache_read_tokens: u64_field(stats, "cached"),
                };
                events.push(Event::Usage { tokens_in: r.tokens_in, tokens_out: r.tokens_out, cost_usd: None });
                // The exit code is not known yet; the stream's own verdict
                // uses the text alone.
                let error = if ok { None } else { Some(result_failure(&r, ExitInfo::default()).1) };
                events.push(Event::Result { success: ok, text: if ok { self.final_text() } else { None }, error });
                self.result = Some(r);
            }
            _ => events.push(raw(v, line.original_len)),
        }
        events
    }

    /// A message without `delta: true` is complete on its own.
    fn flush_if_complete(&mut self, v: &Value) -> Vec<Event> {
        if v.get("delta").and_then(Value::as_bool) == Some(true) {
            Vec::new()
        } else {
            self.flush()
        }
    }

    pub(crate) fn flush(&mut self) -> Vec<Event> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        vec![Event::AssistantText { text: std::mem::take(&mut self.pending) }]
    }

    fn final_text(&self) -> Option<String> {
        let t = if self.segment.trim().is_empty() { &self.last_segment } else { &self.segment };
        if t.trim().is_empty() {
            None
        } else {
            Some(t.clone())
        }
    }

    pub(crate) fn finish(self, exit: ExitInfo, stderr_tail: &str) -> Outcome {
        let mut out = Outcome {
            session_id: self.session_id.clone(),
            result: self.final_text(),
            exit_code: exit.code,
            ..Outcome::default()
        };
        match &self.result {
            Some(r) => {
                out.tokens_in = r.tokens_in;
                out.tokens_out = r.tokens_out;
                out.cache_read_tokens = r.cache_read_tokens;
                if r.ok && exit.is_success() {
                    out.succeed();
                } else if r.ok {
                    out.fail(
                        FailureClass::Transient,
                        format!("gemini reported success but exited with {}", exit.describe()),
                    );
                } else {
                    let (class, msg) = result_failure(r, exit);
                    out.fail(class, msg);
                }
            }
            None => match exit_code_failure(exit, stderr_tail) {
                Some((class, msg)) => out.fail(class, msg),
                None => missing_terminal(&mut out, "gemini", "result event", exit, stderr_tail, &self.stats),
            },
        }
        out
    }
}

/// API errors exit with the HTTP status modulo 256.
fn status_from_exit(exit: ExitInfo) -> Option<u16> {
    match exit.code {
        Some(c @ 144..=255) => u16::try_from(c + 256).ok(),
        _ => None,
    }
}

/// Splits `[API Error: <inner>]\n<advice>` and, when `<inner>` is a Google
/// API error JSON, extracts its message, code and reason.
fn api_error_detail(message: &str) -> (String, Option<u16>) {
    let m = message.trim();
    let inner = match m.strip_prefix("[API Error: ") {
        Some(rest) => match rest.find("]\n") {
            Some(i) => &rest[..i],
            None => rest.strip_suffix(']').unwrap_or(rest),
        },
        None => m,
    };
    if let Ok(v) = serde_json::from_str::<Value>(inner) {
        let err = v.get("error").unwrap_or(&v);
        if let Some(msg) = str_field(err, "message") {
            let code = u64_field(err, "code").and_then(|c| u16::try_from(c).ok());
            let reason = err
                .get("details")
                .and_then(Value::as_array)
                .and_then(|d| d.iter().find_map(|x| str_field(x, "reason")));
            let detail = match reason {
                Some(r) => format!("{msg} ({r})"),
                None => msg.to_owned(),
            };
            return (clean_detail(&detail), code);
        }
    }
    (clean_detail(inner), None)
}

/// Class and message for a `result` with `status: "error"`.
fn result_failure(r: &GeminiResult, exit: ExitInfo) -> (FailureClass, String) {
    let raw_msg = r.error_message.as_deref().unwrap_or("");
    let (detail, json_code) = api_error_detail(raw_msg);
    let detail =
        if detail.is_empty() { r.error_type.clone().unwrap_or_else(|| "no error message".to_owned()) } else { detail };
    if r.error_type.as_deref() == Some("FatalTurnLimitedError") || exit.code == Some(53) {
        return (
            FailureClass::Permanent,
            format!("gemini hit the session turn limit ({detail}); raise model.maxSessionTurns or resume the session"),
        );
    }
    if exit.code == Some(130) {
        return (FailureClass::Transient, format!("gemini was cancelled (exit 130): {detail}"));
    }
    if let Some(c @ (42 | 44 | 52 | 54 | 55)) = exit.code {
        // Local problems (input, sandbox, config, tools, trust): a retry
        // meets the same configuration.
        return (FailureClass::Permanent, format!("gemini {} (exit {c}): {detail}", exit_meaning(c)));
    }
    let status = json_code.or_else(|| find_http_status(raw_msg)).or_else(|| status_from_exit(exit));
    let problem = classify_text(raw_msg)
        .or_else(|| status.and_then(problem_for_status))
        .or((exit.code == Some(41)).then_some(Problem::Auth));
    match problem {
        Some(p) => (p.class(), p.message(status, &detail)),
        // An API-side error the CLI already retried: likely to pass later.
        None => (FailureClass::Transient, format!("gemini reported an error: {detail}")),
    }
}

fn exit_meaning(code: i32) -> &'static str {
    match code {
        41 => "authentication failed",
        42 => "rejected its input",
        44 => "sandbox error",
        52 => "configuration error",
        53 => "hit the session turn limit",
        54 => "fatal tool error",
        55 => "refused an untrusted workspace",
        _ => "failed",
    }
}

/// Verdict from the exit code alone, for runs that printed no `result`
/// (auth missing prints nothing on stdout).
fn exit_code_failure(exit: ExitInfo, stderr_tail: &str) -> Option<(FailureClass, String)> {
    let code = exit.code?;
    if exit.signal.is_some() {
        return None;
    }
    // Short enough that the whole message stays under the error cap.
    let detail = stderr_summary(stderr_tail).map(|d| cap(&d, 110));
    let said = detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
    Some(match code {
        41 => (
            FailureClass::Permanent,
            format!(
                "gemini authentication failed (exit 41); set GEMINI_API_KEY in the runner's environment or configure an auth method in ~/.gemini/settings.json{said}"
            ),
        ),
        42 | 44 | 52 | 53 | 54 | 55 => (
            FailureClass::Permanent,
            format!("gemini {} (exit {code}){said}", exit_meaning(code)),
        ),
        130 => (FailureClass::Transient, format!("gemini was cancelled (exit 130){said}")),
        _ => {
            let status = status_from_exit(exit)?;
            let p = detail
                .as_deref()
                .and_then(classify_text)
                .or_else(|| problem_for_status(status))?;
            (p.class(), p.message(Some(status), detail.as_deref().unwrap_or("")))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_detail_extracts_json_message() {
        let m = r#"[API Error: {"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}]"#;
        assert_eq!(api_error_detail(m), ("API key not valid. (API_KEY_INVALID)".to_owned(), Some(400)));
        let m = "[API Error: Resource has been exhausted (e.g. check quota).]\nPlease wait and try again later.";
        assert_eq!(api_error_detail(m), ("Resource has been exhausted (e.g. check quota).".to_owned(), None));
        assert_eq!(api_error_detail("plain"), ("plain".to_owned(), None));
        assert_eq!(api_error_detail(""), (String::new(), None));
    }

    #[test]
    fn exit_status_mapping() {
        assert_eq!(status_from_exit(ExitInfo::code(173)), Some(429));
        assert_eq!(status_from_exit(ExitInfo::code(247)), Some(503));
        assert_eq!(status_from_exit(ExitInfo::code(1)), None);
        assert_eq!(status_from_exit(ExitInfo::code(130)), None);
    }
}
