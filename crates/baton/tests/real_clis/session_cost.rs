//! The benchmark figure of sessions that carry over: on an implement → review → fix-up chain
//! against the mock API, what the fix-up sends when it continues the implementer's session
//! versus when it starts fresh — the new prompt's size, and the request's input with the share
//! that repeats the earlier conversation (what a provider's prompt cache would serve).
//!
//! Sizes are bytes of the JSON the CLI sent, and ≈ tokens at 4 bytes a token (the mock counts
//! no real tokens). Printed for each CLI; the assertions only check that the figure was taken.

use crate::bench::{notice, Cli, RealBench};
use crate::sessions::{first_job, next_job};
use serde_json::Value;

const REVIEW: &str = "marker-review-8841: review the change; list what must change";
const FIXUP: &str = "marker-fixup-8842: fix the two findings of the review (rename the handler, add the missing test)";

/// One fix-up's figures.
#[derive(Debug)]
struct Sent {
    prompt_bytes: usize,
    request_bytes: usize,
    conversation_bytes: usize,
    repeated_bytes: usize,
}

/// The conversation array of a request body, in each API's spelling, without claude's
/// `cache_control` markers (they move to the newest turn; the content is the same).
fn conversation(body: &Value) -> Vec<Value> {
    let mut turns =
        ["messages", "input", "contents"].iter().find_map(|k| body[*k].as_array().cloned()).unwrap_or_default();
    turns.iter_mut().for_each(strip_cache_markers);
    turns
}

fn strip_cache_markers(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("cache_control");
            map.values_mut().for_each(strip_cache_markers);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_cache_markers),
        _ => {}
    }
}

/// The largest request holding `marker` among `bodies` (the CLIs send small side requests too).
fn main_request<'a>(bodies: &'a [Value], marker: &str) -> Option<&'a Value> {
    bodies.iter().filter(|b| b.to_string().contains(marker)).max_by_key(|b| b.to_string().len())
}

/// Runs the chain with the fix-up `continued` or fresh and measures the fix-up's last request.
fn chain(cli: Cli, continued: bool) -> Sent {
    let real = RealBench::start(cli, "ok");
    let (aid, first) = first_job(&real);
    let earlier = real.mock.bodies();
    next_job(&real, &aid, &["--harness", cli.name(), "--type", "review"], REVIEW);
    let before = real.mock.bodies().len();
    let extra: Vec<&str> = if continued { vec!["--continue", &first] } else { vec!["--harness", cli.name()] };
    let fixup = next_job(&real, &aid, &extra, FIXUP);
    let fid = fixup["id"].as_str().unwrap().to_string();
    assert_eq!(fixup["status"], "complete", "{}", real.explain(&fid));
    assert_eq!(fixup["session_mode"], if continued { "continued" } else { "fresh" }, "{}", real.explain(&fid));
    let bodies = real.mock.bodies();
    let request = main_request(&bodies[before..], "marker-fixup-8842").expect("the fix-up's request");
    let source = main_request(&earlier, "marker-alpha-7731").expect("the implementer's request");
    let (now, then) = (conversation(&request["body"]), conversation(&source["body"]));
    let repeated: usize = now.iter().zip(&then).take_while(|(a, b)| a == b).map(|(a, _)| a.to_string().len()).sum();
    let sent = Sent {
        prompt_bytes: real.ok(&["job", &fid, "--prompt"]).len(),
        request_bytes: request["body"].to_string().len(),
        conversation_bytes: now.iter().map(|m| m.to_string().len()).sum(),
        repeated_bytes: repeated,
    };
    real.done();
    sent
}

fn report(cli: Cli) {
    let fresh = chain(cli, false);
    let continued = chain(cli, true);
    let t = |b: usize| b / 4;
    for (how, s) in [("fresh", &fresh), ("continue", &continued)] {
        notice(&format!(
            "session cost {} fix-up {how}: prompt {} B (≈{} tok); request {} B (≈{} tok), conversation {} B, \
             repeating the implementer's conversation {} B (≈{} tok, {:.0}% of the request)",
            cli.name(),
            s.prompt_bytes,
            t(s.prompt_bytes),
            s.request_bytes,
            t(s.request_bytes),
            s.conversation_bytes,
            s.repeated_bytes,
            t(s.repeated_bytes),
            100.0 * s.repeated_bytes as f64 / s.request_bytes.max(1) as f64
        ));
    }
    assert!(continued.prompt_bytes > 0 && fresh.prompt_bytes > 0);
    assert!(continued.repeated_bytes > 0, "a continuation resends the earlier conversation: {continued:?}");
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn claude_session_cost() {
    report(Cli::Claude);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn codex_session_cost() {
    report(Cli::Codex);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn gemini_session_cost() {
    report(Cli::Gemini);
}
