//! Small string helpers shared by the parsers, the outcome classifier and the
//! renderer: capping on char boundaries, collapsing to one line, shortening
//! JSON values.
//!
//! Everything here is total (never panics) because it runs on untrusted
//! agent output.

use serde_json::Value;

/// Index of the largest char boundary `<= max` in `s`.
fn floor_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut i = max;
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Keeps at most `max` bytes of `s` (on a char boundary) and appends `…`
/// when something was cut.
pub(crate) fn cap(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let end = floor_boundary(s, max.saturating_sub('…'.len_utf8()));
    let mut out = String::with_capacity(end + 3);
    out.push_str(&s[..end]);
    out.push('…');
    out
}

/// Like [`cap`] but appends an explicit marker with the original size, for
/// payloads (tool output, unparsed lines) where a reader should know that
/// data was dropped on purpose.
pub(crate) fn cap_with_marker(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let end = floor_boundary(s, max);
    format!("{}… [truncated, {} bytes total]", &s[..end], s.len())
}

/// Collapses every run of whitespace (including newlines) into one space and
/// trims the ends: error messages and rendered summaries must be one line.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(4096));
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `one_line` followed by `cap`.
pub(crate) fn short_line(s: &str, max: usize) -> String {
    // Only look at a bounded prefix: a multi-megabyte string would otherwise
    // be copied in full just to be cut down to a few hundred bytes.
    let prefix = &s[..floor_boundary(s, max.saturating_mul(4).max(64))];
    let mut line = one_line(prefix);
    if prefix.len() < s.len() {
        line.push('…');
    }
    if line.len() > max {
        line = cap(&line, max);
    }
    line
}

/// Returns a copy of `v` where every string longer than `max_str` bytes is
/// capped (with a marker). Keeps events stored in the database bounded even
/// when a tool call carries a whole file as input.
pub(crate) fn shorten_json(v: &Value, max_str: usize) -> Value {
    match v {
        Value::String(s) => Value::String(cap_with_marker(s, max_str)),
        Value::Array(items) => Value::Array(items.iter().map(|i| shorten_json(i, max_str)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), shorten_json(v, max_str))).collect()),
        other => other.clone(),
    }
}

/// `v[key]` as a string slice, if it is one.
pub(crate) fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `v[key]` as an unsigned integer, accepting floats that are whole numbers
/// (some CLIs serialise counters as `12.0`).
pub(crate) fn u64_field(v: &Value, key: &str) -> Option<u64> {
    let f = v.get(key)?;
    if let Some(n) = f.as_u64() {
        return Some(n);
    }
    let x = f.as_f64()?;
    if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 1.8e19 {
        Some(x as u64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_respects_char_boundaries() {
        let s = "ééééé"; // 10 bytes
        for max in 0..12 {
            let c = cap(s, max);
            assert!(c.len() <= max.max(3) + 3, "{max}: {c}");
        }
        assert_eq!(cap("abc", 3), "abc");
        assert_eq!(cap("abcdef", 4), "a…");
    }

    #[test]
    fn short_line_collapses_and_caps() {
        assert_eq!(short_line("a\n  b\tc", 100), "a b c");
        let long = "x ".repeat(1000);
        assert!(short_line(&long, 50).len() <= 50);
    }

    #[test]
    fn u64_field_accepts_whole_floats() {
        let v: Value = serde_json::json!({"a": 3, "b": 4.0, "c": -1, "d": 1.5, "e": "7"});
        assert_eq!(u64_field(&v, "a"), Some(3));
        assert_eq!(u64_field(&v, "b"), Some(4));
        assert_eq!(u64_field(&v, "c"), None);
        assert_eq!(u64_field(&v, "d"), None);
        assert_eq!(u64_field(&v, "e"), None);
    }
}
