//! [`StreamParser`]: turns a harness's stdout lines into [`Event`]s and,
//! once the process has exited, into an [`Outcome`].
//!
//! Dispatch is a plain enum over the four formats (no trait objects: the set
//! is closed and each parser keeps its own state). This module also holds
//! what the JSON parsers share: line decoding, `Raw` capping, and the
//! verdict for streams that ended without a terminal event.

mod claude;
mod codex;
mod gemini;
mod text;

use serde_json::Value;

use crate::event::{Event, MALFORMED_CAP, RAW_CAP};
use crate::format::Format;
use crate::lines::Line;
use crate::outcome::{classify_text, stderr_summary, ExitInfo, FailureClass, Outcome};
use crate::util::{cap_with_marker, short_line};

/// Incremental parser for one run's stdout.
///
/// Feed every line (including the final unterminated one from
/// [`crate::LineSplitter::finish`]), optionally call [`flush`] at EOF, then
/// call [`finish`] with the exit status and the tail of stderr.
///
/// [`flush`]: StreamParser::flush
/// [`finish`]: StreamParser::finish
#[derive(Debug)]
pub struct StreamParser {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Claude(claude::ClaudeParser),
    Codex(codex::CodexParser),
    Gemini(gemini::GeminiParser),
    Text(text::TextParser),
}

impl StreamParser {
    /// A parser for `format`.
    pub fn new(format: Format) -> StreamParser {
        let inner = match format {
            Format::Claude => Inner::Claude(claude::ClaudeParser::default()),
            Format::Codex => Inner::Codex(codex::CodexParser::default()),
            Format::Gemini => Inner::Gemini(gemini::GeminiParser::default()),
            Format::Text => Inner::Text(text::TextParser::default()),
        };
        StreamParser { inner }
    }

    /// The format this parser reads.
    pub fn format(&self) -> Format {
        match self.inner {
            Inner::Claude(_) => Format::Claude,
            Inner::Codex(_) => Format::Codex,
            Inner::Gemini(_) => Format::Gemini,
            Inner::Text(_) => Format::Text,
        }
    }

    /// Parses one line. Never panics, whatever the bytes.
    pub fn feed(&mut self, line: &Line) -> Vec<Event> {
        match &mut self.inner {
            Inner::Claude(p) => p.feed(line),
            Inner::Codex(p) => p.feed(line),
            Inner::Gemini(p) => p.feed(line),
            Inner::Text(p) => p.feed(line),
        }
    }

    /// The usage streamed so far, where the format carries it while the agent runs: claude's
    /// per-message usage, each message counted once. `None` for codex and gemini (they report
    /// usage only when a turn or the run ends) and for text.
    pub fn running_usage(&self) -> Option<RunningUsage> {
        match &self.inner {
            Inner::Claude(p) => Some(p.running_usage()),
            _ => None,
        }
    }

    /// Returns events still buffered at end of stream. Only gemini buffers
    /// (it coalesces streamed text deltas into one event per message and
    /// emits it when the next non-text event arrives); a stream that ends
    /// in the middle of a message leaves text here. Calling it is optional:
    /// [`finish`](StreamParser::finish) accounts for buffered text anyway.
    pub fn flush(&mut self) -> Vec<Event> {
        match &mut self.inner {
            Inner::Gemini(p) => p.flush(),
            _ => Vec::new(),
        }
    }

    /// The verdict on the run, from everything fed, the exit status and the
    /// tail of stderr (a few KiB are plenty).
    pub fn finish(self, exit: ExitInfo, stderr_tail: &str) -> Outcome {
        match self.inner {
            Inner::Claude(p) => p.finish(exit, stderr_tail),
            Inner::Codex(p) => p.finish(exit, stderr_tail),
            Inner::Gemini(p) => p.finish(exit, stderr_tail),
            Inner::Text(p) => p.finish(exit, stderr_tail),
        }
    }
}

/// Token counts streamed so far (`tokens_in` includes the cache parts, as in [`crate::Outcome`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunningUsage {
    pub tokens_in: Option<u64>,
    pub tokens_out: Option<u64>,
    pub cache_read_tokens: Option<u64>,
    pub cache_write_tokens: Option<u64>,
}

/// Bookkeeping every JSON parser keeps for the "no terminal event" verdict.
#[derive(Debug, Default)]
pub(crate) struct StreamStats {
    /// Lines that were JSON events of a type this format knows.
    pub recognized: usize,
    /// First and last stdout lines that were not JSON (e.g. plain-text
    /// output of a misconfigured command), capped; lines of bare
    /// punctuation (`}`, `],`) are skipped as uninformative.
    pub first_unparsed: Option<String>,
    pub last_unparsed: Option<String>,
    /// Last retry/warning notice from the CLI, capped.
    pub last_notice: Option<String>,
}

impl StreamStats {
    pub(crate) fn notice(&mut self, msg: &str) {
        self.last_notice = Some(short_line(msg, 200));
    }
}

/// Result of decoding one stdout line of a JSON-lines format.
pub(crate) enum Decoded {
    /// Blank line: nothing to report.
    Blank,
    /// A JSON object with a string `type`.
    Typed(String, Value),
    /// Valid JSON without a `type` (kept as `Raw`) or an unparsable line
    /// (`Malformed`).
    Other(Event),
}

/// Decodes a JSON-lines stdout line.
///
/// Invalid UTF-8 inside an otherwise valid JSON line is replaced with U+FFFD
/// and the event is kept: losing a whole `result` event over one stray byte
/// in a tool output would turn a successful run into a failure. A line that
/// still does not parse becomes [`Event::Malformed`].
pub(crate) fn decode(line: &Line, stats: &mut StreamStats) -> Decoded {
    let text = String::from_utf8_lossy(&line.bytes);
    let trimmed = text.trim();
    if trimmed.is_empty() && !line.truncated {
        return Decoded::Blank;
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(value) => match value.get("type").and_then(Value::as_str) {
            Some(t) if value.is_object() => Decoded::Typed(t.to_owned(), value),
            _ => Decoded::Other(raw(value, line.original_len)),
        },
        Err(err) => {
            let reason = if line.truncated {
                format!(
                    "line truncated at {} bytes (it had {} bytes), so it could not be parsed",
                    line.bytes.len(),
                    line.original_len
                )
            } else if std::str::from_utf8(&line.bytes).is_err() {
                format!("not valid UTF-8 and not JSON ({err})")
            } else {
                format!("not valid JSON ({err})")
            };
            if trimmed.chars().any(char::is_alphanumeric) {
                let short = short_line(trimmed, 200);
                stats.first_unparsed.get_or_insert_with(|| short.clone());
                stats.last_unparsed = Some(short);
            } else if trimmed == "{" && stats.recognized == 0 {
                stats.first_unparsed.get_or_insert_with(|| "{".to_owned());
            }
            Decoded::Other(Event::Malformed { line: cap_with_marker(trimmed, MALFORMED_CAP), reason })
        }
    }
}

/// `Event::Raw` for an unknown event; a stub when the line was huge, so a
/// single unknown event cannot bloat the event store.
pub(crate) fn raw(value: Value, line_len: usize) -> Event {
    if line_len > RAW_CAP {
        let mut stub = serde_json::Map::new();
        if let Some(t) = value.get("type") {
            stub.insert("type".into(), t.clone());
        }
        stub.insert("omitted_bytes".into(), Value::from(line_len as u64));
        return Event::Raw { value: Value::Object(stub) };
    }
    Event::Raw { value }
}

/// Verdict for a JSON stream that ended without its terminal event
/// (`what`, e.g. "result event").
///
/// - Killed by a signal: transient (our own timeout, OOM killer, a reboot).
/// - Exit 0 with recognised events: permanent ("the agent exited without a
///   result event"); the agent may have edited files already, so re-running
///   it blindly would repeat that work — the PM decides instead.
/// - Exit 0 with no recognised event at all: permanent; the command line
///   most likely does not select the JSON output format, and retrying
///   cannot fix that.
/// - Non-zero exit with no recognised event (startup failure: bad flags,
///   missing auth, …): permanent unless the stderr text names a transient
///   cause.
/// - Non-zero exit after recognised events (crash mid-run): transient unless
///   the text names a permanent cause.
pub(crate) fn missing_terminal(
    out: &mut Outcome,
    cli: &str,
    what: &str,
    exit: ExitInfo,
    stderr_tail: &str,
    stats: &StreamStats,
) {
    let from_stderr = stderr_summary(stderr_tail);
    let detail = if stats.recognized > 0 {
        stats.last_notice.clone().or(from_stderr).or_else(|| stats.last_unparsed.clone())
    } else {
        from_stderr.or_else(|| stats.last_unparsed.clone())
    };
    let suffix = match &detail {
        Some(d) => format!(": {d}"),
        None => String::new(),
    };
    let text_class = detail.as_deref().and_then(classify_text).map(|p| p.class());

    if exit.signal.is_some() {
        out.fail(FailureClass::Transient, format!("{cli} was killed by {} before its {what}{suffix}", exit.describe()));
    } else if exit.code == Some(0) {
        if stats.recognized == 0 {
            let hint = if stats.first_unparsed.as_deref() == Some("{") {
                // `--output-format json` instead of stream-json.
                " (its output looks like one pretty-printed JSON object)".to_owned()
            } else {
                suffix
            };
            out.fail(
                FailureClass::Permanent,
                format!(
                    "{cli} exited with code 0 but printed no {cli} JSON events; check that the command selects the JSON stream output format{hint}"
                ),
            );
        } else {
            // Not a retry: the agent may already have changed files, and a second run would
            // repeat that work blindly. The PM decides what comes next.
            out.fail(
                FailureClass::Permanent,
                format!(
                    "the agent exited without a result event ({cli} exited with code 0 but printed no {what}){suffix}"
                ),
            );
        }
    } else if stats.recognized == 0 {
        out.fail(
            text_class.unwrap_or(FailureClass::Permanent),
            format!("{cli} exited with {} without printing any events{suffix}", exit.describe()),
        );
    } else {
        out.fail(
            text_class.unwrap_or(FailureClass::Transient),
            format!("{cli} exited with {} before its {what}{suffix}", exit.describe()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_variants() {
        let mut st = StreamStats::default();
        assert!(matches!(decode(&Line::new(""), &mut st), Decoded::Blank));
        assert!(matches!(decode(&Line::new("  "), &mut st), Decoded::Blank));
        assert!(matches!(decode(&Line::new(r#"{"type":"x"}"#), &mut st), Decoded::Typed(t, _) if t == "x"));
        assert!(matches!(decode(&Line::new("[1,2]"), &mut st), Decoded::Other(Event::Raw { .. })));
        assert!(matches!(decode(&Line::new(r#"{"type":3}"#), &mut st), Decoded::Other(Event::Raw { .. })));
        match decode(&Line::new("hello"), &mut st) {
            Decoded::Other(Event::Malformed { line, reason }) => {
                assert_eq!(line, "hello");
                assert!(reason.contains("not valid JSON"), "{reason}");
            }
            _ => panic!("expected malformed"),
        }
        assert_eq!(st.last_unparsed.as_deref(), Some("hello"));
    }

    #[test]
    fn decode_truncated_and_non_utf8() {
        let mut st = StreamStats::default();
        let l = Line { bytes: br#"{"type":"result","res"#.to_vec(), truncated: true, original_len: 5000 };
        match decode(&l, &mut st) {
            Decoded::Other(Event::Malformed { reason, .. }) => {
                assert!(reason.contains("truncated at 21 bytes"), "{reason}");
                assert!(reason.contains("5000"), "{reason}");
            }
            _ => panic!("expected malformed"),
        }
        match decode(&Line::new(vec![0xff, 0xfe, b'x']), &mut st) {
            Decoded::Other(Event::Malformed { reason, .. }) => assert!(reason.contains("UTF-8"), "{reason}"),
            _ => panic!("expected malformed"),
        }
        // Valid JSON with a stray invalid byte inside a string is kept.
        let mut bytes = br#"{"type":"x","s":""#.to_vec();
        bytes.push(0xff);
        bytes.extend_from_slice(br#""}"#);
        assert!(matches!(decode(&Line::new(bytes), &mut st), Decoded::Typed(..)));
    }

    #[test]
    fn raw_is_capped() {
        let v = serde_json::json!({"type": "huge", "data": "x"});
        match raw(v, RAW_CAP + 1) {
            Event::Raw { value } => {
                assert_eq!(value["type"], "huge");
                assert!(value.get("data").is_none());
            }
            _ => panic!(),
        }
    }
}
