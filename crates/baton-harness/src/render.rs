//! Human rendering of [`Event`]s for `baton logs`: one to a few lines per
//! event, no colour (the CLI adds it), `None` for events that are only
//! bookkeeping.

use serde_json::Value;

use crate::event::Event;
use crate::util::{short_line, str_field};

/// Longest one-line summary (tool inputs, notices, result lines).
const SUMMARY_CAP: usize = 200;
/// Tool result lines shown before "… (N more lines)".
const RESULT_LINES: usize = 3;

/// Renders one event for a person, or `None` when it should be hidden.
pub fn render(event: &Event) -> Option<String> {
    match event {
        Event::SessionStarted { session_id, model } => Some(match model {
            Some(m) => format!("session {session_id} (model {m})"),
            None => format!("session {session_id}"),
        }),
        Event::AssistantText { text } => {
            let t = text.trim_end();
            (!t.trim().is_empty()).then(|| t.to_owned())
        }
        Event::Reasoning { text } => Some(format!("(thinking) {}", short_line(text, SUMMARY_CAP))),
        Event::ToolUse { name, input, .. } => {
            let summary = tool_input_summary(input);
            Some(if summary.is_empty() { format!("→ {name}") } else { format!("→ {name}: {summary}") })
        }
        Event::ToolResult { output, is_error, .. } => Some(tool_result(output, *is_error)),
        Event::Retry { attempt, message } => Some(match attempt {
            Some(n) => format!("↻ retry {n}: {}", short_line(message, SUMMARY_CAP)),
            None => format!("↻ retrying: {}", short_line(message, SUMMARY_CAP)),
        }),
        Event::Warning { message } => Some(format!("⚠ {}", short_line(message, SUMMARY_CAP))),
        Event::Error { message } => Some(format!("✗ error: {}", short_line(message, SUMMARY_CAP))),
        Event::Usage { tokens_in, tokens_out, cost_usd } => {
            let mut parts = Vec::new();
            if tokens_in.is_some() || tokens_out.is_some() {
                let n = |t: &Option<u64>| t.map_or("?".to_owned(), |v| v.to_string());
                parts.push(format!("{} in / {} out tokens", n(tokens_in), n(tokens_out)));
            }
            if let Some(c) = cost_usd {
                parts.push(format!("${c:.4}"));
            }
            (!parts.is_empty()).then(|| format!("usage: {}", parts.join(", ")))
        }
        Event::Result { success, error, .. } => Some(if *success {
            "✓ finished".to_owned()
        } else {
            match error {
                Some(e) => format!("✗ failed: {}", short_line(e, 400)),
                None => "✗ failed".to_owned(),
            }
        }),
        Event::Raw { .. } => None,
        Event::Malformed { line, .. } => Some(format!("[unparsed line: {}]", short_line(line, 120))),
        Event::Text { line } => Some(line.clone()),
    }
}

/// The most telling field of a tool input, on one line: the shell command,
/// the file path, the search pattern…; otherwise compact JSON.
fn tool_input_summary(input: &Value) -> String {
    const KEYS: &[&str] =
        &["command", "cmd", "file_path", "path", "dir_path", "pattern", "query", "url", "prompt", "description"];
    if let Some(s) = input.as_str() {
        return short_line(s, SUMMARY_CAP);
    }
    for k in KEYS {
        match input.get(k) {
            Some(Value::String(s)) => return short_line(s, SUMMARY_CAP),
            Some(Value::Array(a)) if a.iter().all(Value::is_string) && !a.is_empty() => {
                let joined: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                return short_line(&joined.join(" "), SUMMARY_CAP);
            }
            _ => {}
        }
    }
    if let Some(changes) = input.get("changes").and_then(Value::as_array) {
        let list: Vec<String> = changes
            .iter()
            .map(|c| format!("{} {}", str_field(c, "kind").unwrap_or("change"), str_field(c, "path").unwrap_or("?")))
            .collect();
        return short_line(&list.join(", "), SUMMARY_CAP);
    }
    match input {
        Value::Null => String::new(),
        Value::Object(m) if m.is_empty() => String::new(),
        other => short_line(&other.to_string(), SUMMARY_CAP),
    }
}

fn tool_result(output: &str, is_error: bool) -> String {
    let mark = if is_error { "  ✗ " } else { "  ← " };
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return format!("{mark}(no output)");
    }
    let mut out = String::new();
    for (i, l) in lines.iter().take(RESULT_LINES).enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str("    ");
        } else {
            out.push_str(mark);
        }
        out.push_str(&short_line(l, SUMMARY_CAP));
    }
    if lines.len() > RESULT_LINES {
        out.push_str(&format!("\n    … ({} more lines)", lines.len() - RESULT_LINES));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_use_shows_command() {
        let e = Event::ToolUse {
            id: None,
            name: "Bash".into(),
            input: json!({"command": "cargo test -q 2>&1 | tail -5", "description": "Run tests"}),
        };
        assert_eq!(render(&e).unwrap(), "→ Bash: cargo test -q 2>&1 | tail -5");
    }

    #[test]
    fn tool_use_is_shortened_to_one_line() {
        let e = Event::ToolUse {
            id: None,
            name: "Write".into(),
            input: json!({"file_path": "a\nb", "content": "x".repeat(10_000)}),
        };
        assert_eq!(render(&e).unwrap(), "→ Write: a b");
        let e = Event::ToolUse { id: None, name: "Odd".into(), input: json!({"blob": "y".repeat(10_000)}) };
        let r = render(&e).unwrap();
        assert!(r.len() < 260 && !r.contains('\n'), "{r}");
        assert!(r.ends_with('…'));
    }

    #[test]
    fn tool_result_first_lines_and_error_mark() {
        let e = Event::ToolResult { id: None, output: "a\nb\nc\nd\ne".into(), is_error: false };
        assert_eq!(render(&e).unwrap(), "  ← a\n    b\n    c\n    … (2 more lines)");
        let e = Event::ToolResult { id: None, output: String::new(), is_error: true };
        assert_eq!(render(&e).unwrap(), "  ✗ (no output)");
    }

    #[test]
    fn hidden_and_misc() {
        assert_eq!(render(&Event::Raw { value: json!({}) }), None);
        assert_eq!(render(&Event::Usage { tokens_in: None, tokens_out: None, cost_usd: None }), None);
        assert_eq!(
            render(&Event::Usage { tokens_in: Some(10), tokens_out: Some(2), cost_usd: Some(0.0213) }).unwrap(),
            "usage: 10 in / 2 out tokens, $0.0213"
        );
        assert_eq!(
            render(&Event::Malformed { line: "garbage".into(), reason: "x".into() }).unwrap(),
            "[unparsed line: garbage]"
        );
        assert_eq!(
            render(&Event::Retry { attempt: Some(2), message: "HTTP 429".into() }).unwrap(),
            "↻ retry 2: HTTP 429"
        );
        assert_eq!(
            render(&Event::Result { success: false, text: None, error: Some("rate limited".into()) }).unwrap(),
            "✗ failed: rate limited"
        );
        assert_eq!(render(&Event::AssistantText { text: "  \n".into() }), None);
    }
}
