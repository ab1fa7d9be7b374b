//! How a failure reaches stderr: one `error: …` line for people, or with `--json` one JSON
//! object `{"error": …, "hint": …, "code": …}` for scripts and agents, with the same exit code
//! either way. Usage errors found by the argument parser honour `--json` too, so a script never
//! has to parse two formats.

use serde::Serialize;
use std::ffi::OsString;
use std::io::Write;

/// What `--json` prints on stderr for a failure.
#[derive(Debug, Serialize, PartialEq)]
pub struct JsonError<'a> {
    /// The whole message, as the text form prints it after `error: `.
    pub error: &'a str,
    /// What to do about it, when the message says so (else null).
    pub hint: Option<String>,
    /// The exit code: 1 for a refused or failed command, 2 for a usage error.
    pub code: u8,
}

/// Did the person ask for JSON? Looked up in the raw arguments, because a usage error means
/// clap could not tell us. Arguments after `--` are values, never flags.
pub fn wants_json(args: &[OsString]) -> bool {
    args.iter().skip(1).take_while(|a| *a != "--").any(|a| a == "--json")
}

/// Prints a failure of baton itself (exit 1).
pub fn failure(message: &str, json: bool) {
    if json {
        print_line(&failure_json(message));
    } else {
        let _ = writeln!(std::io::stderr().lock(), "error: {message}");
    }
}

/// The JSON object `--json` prints for a failure (exit 1); `baton mcp` returns it as a tool error.
pub fn failure_json(message: &str) -> String {
    to_json(&JsonError { error: message, hint: hint_of(message), code: 1 })
}

/// Prints a usage error from clap as one JSON object (exit 2).
pub fn usage_error_json(rendered: &str) {
    print_line(&usage_error_json_text(rendered));
}

/// A usage error found without clap (an MCP call's arguments) as the same JSON object.
pub fn usage_error_object(error: &str, hint: &str) -> String {
    to_json(&JsonError { error, hint: Some(hint.to_string()), code: 2 })
}

/// A usage error from clap as the JSON object `--json` prints. clap's message is paragraphs:
/// the first is the error (with the arguments it names), the others (possible values, tips,
/// the usage line) are the hint.
pub fn usage_error_json_text(rendered: &str) -> String {
    let (error, hint) = split_usage_error(rendered);
    to_json(&JsonError { error: &error, hint: Some(hint), code: 2 })
}

/// clap's rendered usage error as (error, hint).
fn split_usage_error(rendered: &str) -> (String, String) {
    let mut paragraphs = rendered
        .split("\n\n")
        .map(|p| p.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty() && !p.starts_with("For more information"));
    let first = paragraphs.next().unwrap_or_else(|| "invalid arguments".to_string());
    let error = first.strip_prefix("error: ").unwrap_or(&first).to_string();
    let rest: Vec<String> = paragraphs.map(|p| p.strip_prefix("tip: ").unwrap_or(&p).to_string()).collect();
    let hint = if rest.is_empty() { "see --help".to_string() } else { rest.join("; ") };
    (error, hint)
}

fn to_json(value: &JsonError<'_>) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| String::from(r#"{"error":"internal error","code":1}"#))
}

fn print_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// baton's messages say what went wrong and then what to do, in one of two shapes: `…; do this`,
/// or `… (do this)` at the end. The "do this" part is the hint.
fn hint_of(message: &str) -> Option<String> {
    if let Some((_, rest)) = message.split_once("; ") {
        return Some(rest.to_string()).filter(|h| !h.is_empty());
    }
    if let Some(inner) = message.strip_suffix(')') {
        if let Some(open) = inner.rfind(" (") {
            return Some(inner[open + 2..].to_string()).filter(|h| !h.is_empty());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_before_the_separator_only() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(wants_json(&args(&["baton", "jobs", "--json"])));
        assert!(!wants_json(&args(&["baton", "create", "--", "--json"])));
        assert!(!wants_json(&args(&["--json"])), "the program name is no flag");
    }

    #[test]
    fn clap_paragraphs_become_error_and_hint() {
        let rendered = "error: the following required arguments were not provided:\n  --type <TYPE>\n\n\
                        Usage: baton insert-job --type <TYPE> <ASSIGNMENT_ID>\n\nFor more information, try '--help'.\n";
        let (error, hint) = split_usage_error(rendered);
        assert_eq!(error, "the following required arguments were not provided: --type <TYPE>");
        assert_eq!(hint, "Usage: baton insert-job --type <TYPE> <ASSIGNMENT_ID>");
        let (_, hint) = split_usage_error("error: unexpected argument '--x' found\n\n  tip: try '--json'\n");
        assert_eq!(hint, "try '--json'");
    }

    #[test]
    fn hints_are_the_what_to_do_part() {
        assert_eq!(
            hint_of("no job j1 in namespace repo (list them with `baton jobs`)").as_deref(),
            Some("list them with `baton jobs`")
        );
        assert_eq!(
            hint_of("budget reached; raise it with --budget-usd").as_deref(),
            Some("raise it with --budget-usd")
        );
        assert_eq!(hint_of("disk full"), None);
        assert_eq!(
            hint_of("a1 is an assignment, not a job; show it with `baton assignment a1` (its jobs: …)").as_deref(),
            Some("show it with `baton assignment a1` (its jobs: …)")
        );
    }
}
