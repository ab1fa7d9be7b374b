//! Parser for `text`-format harnesses: any command, stdout is plain text.
//!
//! Every line becomes [`Event::Text`]. Success is exit 0. The result is the
//! last [`TAIL_CAP`] bytes of stdout. A non-zero exit is a permanent failure:
//! such harnesses are typically deterministic gates (`cargo test`, a linter),
//! and re-running them unchanged gives the same answer. A kill by signal is
//! transient (timeouts, OOM).

use crate::event::{Event, TEXT_LINE_CAP};
use crate::lines::Line;
use crate::outcome::{stderr_summary, ExitInfo, FailureClass, Outcome};
use crate::util::short_line;

/// Bytes of stdout kept as the result.
pub const TAIL_CAP: usize = 4 * 1024;

#[derive(Debug, Default)]
pub(crate) struct TextParser {
    /// Recent stdout bytes; trimmed back to `TAIL_CAP` when it doubles, so
    /// memory stays bounded without shifting bytes on every line.
    tail: Vec<u8>,
    last_line: Option<String>,
}

impl TextParser {
    pub(crate) fn feed(&mut self, line: &Line) -> Vec<Event> {
        let kept = &line.bytes[..line.bytes.len().min(TEXT_LINE_CAP)];
        let mut text = String::from_utf8_lossy(kept).into_owned();
        if kept.len() < line.original_len {
            text.push_str(&format!(" … [line truncated, {} bytes total]", line.original_len));
        }
        let keep = &line.bytes[line.bytes.len().saturating_sub(TAIL_CAP)..];
        self.tail.extend_from_slice(keep);
        self.tail.push(b'\n');
        if self.tail.len() > 2 * TAIL_CAP {
            let cut = self.tail.len() - TAIL_CAP;
            self.tail.drain(..cut);
        }
        if !text.trim().is_empty() {
            self.last_line = Some(short_line(&text, 200));
        }
        vec![Event::Text { line: text }]
    }

    fn tail_text(&self) -> Option<String> {
        let mut start = self.tail.len().saturating_sub(TAIL_CAP);
        // Start on a UTF-8 char boundary: skip continuation bytes.
        while start < self.tail.len() && (self.tail[start] & 0b1100_0000) == 0b1000_0000 {
            start += 1;
        }
        let s = String::from_utf8_lossy(&self.tail[start..]);
        let s = s.trim_end_matches(['\n', '\r']);
        if s.trim().is_empty() {
            None
        } else {
            Some(s.to_owned())
        }
    }

    pub(crate) fn finish(self, exit: ExitInfo, stderr_tail: &str) -> Outcome {
        let mut out = Outcome { result: self.tail_text(), exit_code: exit.code, ..Outcome::default() };
        if exit.is_success() {
            out.succeed();
            return out;
        }
        let detail = stderr_summary(stderr_tail).or(self.last_line);
        let suffix = detail.map(|d| format!(": {d}")).unwrap_or_default();
        if exit.signal.is_some() {
            out.fail(FailureClass::Transient, format!("the command was killed by {}{suffix}", exit.describe()));
        } else {
            out.fail(FailureClass::Permanent, format!("the command exited with {}{suffix}", exit.describe()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_is_bounded_and_on_char_boundary() {
        let mut p = TextParser::default();
        for _ in 0..5000 {
            p.feed(&Line::new("ééé".as_bytes()));
            assert!(p.tail.len() <= 2 * TAIL_CAP + 8);
        }
        let t = p.tail_text().unwrap();
        assert!(t.len() <= TAIL_CAP);
        assert!(t.starts_with('é') || t.starts_with('\n'));
    }
}
