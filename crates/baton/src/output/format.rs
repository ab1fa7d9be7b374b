//! How values look to people: local times, durations, money, and free text squeezed onto one line.
//!
//! Timestamps are shown in local time as `2026-11-28 07:41:03` everywhere; relative phrases
//! ("in 12s", "3m ago") are only added next to them where the distance matters (a back-off).

use baton_core::time::{human_duration, Millis};
use chrono::{DateTime, Local};

/// What an absent value looks like in tables and blocks.
pub const NONE: &str = "-";

/// A stored timestamp in local time, to the second.
pub fn time(ms: Millis) -> String {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => t.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S").to_string(),
        None => NONE.to_string(),
    }
}

pub fn opt_time(ms: Option<Millis>) -> String {
    ms.map(time).unwrap_or_else(|| NONE.to_string())
}

/// `in 12s` or `3m05s ago`, relative to `now`.
pub fn relative(ms: Millis, now: Millis) -> String {
    if ms >= now {
        format!("in {}", human_duration(ms - now))
    } else {
        format!("{} ago", human_duration(now - ms))
    }
}

pub fn duration(ms: Option<i64>) -> String {
    ms.map(human_duration).unwrap_or_else(|| NONE.to_string())
}

/// Dollars with cents; under a dollar (what one agent run often costs) up to 4 decimals with
/// trailing zeros trimmed, so `$0.0125` is not shown as `$0.01` (`$0.03`, `$0.10` stay short).
pub fn money(usd: f64) -> String {
    if usd.abs() >= 1.0 || usd == 0.0 {
        return format!("${usd:.2}");
    }
    let text = format!("{usd:.4}");
    let (whole, decimals) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let mut decimals = decimals.trim_end_matches('0').to_string();
    while decimals.len() < 2 {
        decimals.push('0');
    }
    format!("${whole}.{decimals}")
}

pub fn opt_money(usd: Option<f64>) -> String {
    usd.map(money).unwrap_or_else(|| NONE.to_string())
}

/// Free text on one line: every run of whitespace (newlines included) becomes one space and
/// control characters are dropped, so a result cannot break a table or smuggle escape codes.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(512));
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else if !c.is_control() {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// At most `max` characters, ending with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Multi-line free text for a detail block: control characters (but not newlines) removed, tabs
/// expanded, each line word-wrapped to `width` and indented.
pub fn indented(text: &str, indent: &str, width: usize) -> String {
    let room = width.saturating_sub(indent.chars().count()).max(20);
    let mut out = String::new();
    for line in text.trim_end().lines() {
        let clean: String = line.replace('\t', "    ").chars().filter(|c| !c.is_control()).collect();
        for piece in wrap(clean.trim_end(), room) {
            out.push_str(indent);
            out.push_str(&piece);
            out.push('\n');
        }
    }
    out
}

/// Splits one line into pieces of at most `width` characters, at spaces when possible (a word
/// longer than the width is cut). An empty line stays one empty piece.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for word in line.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let gap = usize::from(current_len > 0);
            if current_len + gap + word.len() <= width {
                if gap == 1 {
                    current.push(' ');
                }
                current.extend(word.iter());
                current_len += gap + word.len();
                break;
            }
            if current_len > 0 {
                pieces.push(std::mem::take(&mut current));
                current_len = 0;
                continue;
            }
            // A word wider than the line: cut it.
            let rest = word.split_off(width);
            pieces.push(word.iter().collect());
            word = rest;
        }
    }
    if current_len > 0 || pieces.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_collapses_whitespace_and_controls() {
        assert_eq!(one_line("  a\n\n b\tc\x1b[31m "), "a b c[31m");
        assert_eq!(one_line(""), "");
    }

    #[test]
    fn truncates_by_characters() {
        assert_eq!(truncate("héllo wörld", 5), "héll…");
        assert_eq!(truncate("short", 5), "short");
        assert_eq!(truncate("x", 0), "");
    }

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
        assert_eq!(indented("a b\n\nc\x1b", "  ", 30), "  a b\n  \n  c\n");
    }

    #[test]
    fn money_and_relative() {
        assert_eq!(money(1.5), "$1.50");
        assert_eq!(money(0.0042), "$0.0042");
        assert_eq!(money(0.0125), "$0.0125");
        assert_eq!(money(0.03), "$0.03");
        assert_eq!(money(0.1), "$0.10");
        assert_eq!(money(0.0), "$0.00");
        assert_eq!(money(12.345), "$12.35");
        // Totals are summed unrounded: two $0.0125 runs are $0.025, not 2 × $0.01.
        assert_eq!(money(0.0125 + 0.0125), "$0.025");
        assert_eq!(relative(12_000, 0), "in 12.0s");
        assert_eq!(relative(0, 185_000), "3m05s ago");
    }
}
