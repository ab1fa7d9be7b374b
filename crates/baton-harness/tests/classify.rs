//! Classification of failure shapes that have no capture: synthetic streams
//! built from the documented schemas (README §1–§4).

mod common;

use baton_harness::{Event, ExitInfo, FailureClass, Format};
use common::replay;
use serde_json::json;
use FailureClass::{Permanent, Transient};

fn jsonl(lines: &[serde_json::Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend(serde_json::to_vec(l).unwrap());
        out.push(b'\n');
    }
    out
}

/// A claude API failure: synthetic assistant error + `result` with
/// `subtype: success, is_error: true`.
fn claude_api_error(kind: &str, status: Option<u16>, text: &str) -> Vec<u8> {
    jsonl(&[
        json!({"type":"system","subtype":"init","session_id":"s1","model":"m"}),
        json!({"type":"assistant","message":{"id":"x","model":"<synthetic>","role":"assistant",
               "content":[{"type":"text","text":text}]},"parent_tool_use_id":null,"session_id":"s1","error":kind}),
        json!({"type":"result","subtype":"success","is_error":true,"api_error_status":status,"num_turns":1,
               "result":text,"session_id":"s1","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0}}),
    ])
}

fn class_and_error(format: Format, stdout: &[u8], exit: ExitInfo, stderr: &str) -> (FailureClass, String) {
    let (_, o) = replay(format, stdout, exit, stderr);
    assert!(!o.success, "{o:?}");
    (o.failure.unwrap(), o.error.unwrap())
}

#[test]
fn claude_api_error_table() {
    let cases: &[(&str, Option<u16>, &str, FailureClass, &str)] = &[
        (
            "rate_limit",
            Some(429),
            "API Error: Request rejected (429) · slow down",
            Transient,
            "rate limited by the API (HTTP 429): Request rejected (429) · slow down",
        ),
        ("server_error", Some(408), "API Error: timeout", Transient, "timed out (HTTP 408)"),
        ("server_error", Some(409), "API Error: conflict", Transient, "HTTP 409"),
        ("server_error", Some(502), "API Error: 502 Bad Gateway", Transient, "API server error (HTTP 502)"),
        ("overloaded", None, "API Error: Overloaded", Transient, "the API is overloaded"),
        (
            "server_error",
            None,
            "API Error: Unable to connect to API (ConnectionRefused)",
            Transient,
            "could not reach the API",
        ),
        (
            "authentication_failed",
            None,
            "Not logged in · Please run /login",
            Permanent,
            "authentication failed: Not logged in",
        ),
        ("authentication_failed", Some(403), "API Error: 403 forbidden", Permanent, "authentication failed (HTTP 403)"),
        (
            "billing_error",
            None,
            "Credit balance is too low",
            Permanent,
            "quota or billing problem: Credit balance is too low",
        ),
        ("invalid_request", Some(400), "API Error: 400 bad", Permanent, "the API rejected the request (HTTP 400)"),
        ("model_not_found", Some(404), "API Error: model: claude-nope", Permanent, "HTTP 404"),
        ("model_not_found", None, "There's an issue with the selected model", Permanent, "model not found"),
        // Subscription windows reset by themselves.
        (
            "rate_limit",
            Some(429),
            "You've hit your limit · resets 3pm (Europe/Paris)",
            Transient,
            "usage limit reached (HTTP 429)",
        ),
        ("unknown", None, "You’ve reached your usage limit for Opus", Transient, "usage limit reached"),
        // Nothing recognisable: the CLI already retried, assume transient.
        ("unknown", None, "API Error: something new", Transient, "claude reported an API error: something new"),
    ];
    for (kind, status, text, class, msg) in cases {
        let (c, e) = class_and_error(Format::Claude, &claude_api_error(kind, *status, text), ExitInfo::code(1), "");
        assert_eq!(c, *class, "{kind} {status:?}: {e}");
        assert!(e.contains(msg), "{kind} {status:?}: {e:?} lacks {msg:?}");
    }
}

#[test]
fn claude_missing_result() {
    let init = jsonl(&[
        json!({"type":"system","subtype":"init","session_id":"s1","model":"m"}),
        json!({"type":"assistant","message":{"id":"a","model":"m","content":[{"type":"text","text":"working"}]},"parent_tool_use_id":null}),
    ]);
    let (_, o) = replay(Format::Claude, &init, ExitInfo::code(0), "");
    assert_eq!(o.failure, Some(Permanent), "exit 0 without a result is not retried");
    assert_eq!(
        o.error.as_deref(),
        Some("the agent exited without a result event (claude exited with code 0 but printed no result event)")
    );
    assert_eq!(o.session_id.as_deref(), Some("s1"));
    assert_eq!(o.result.as_deref(), Some("working"));

    let (c, e) = class_and_error(Format::Claude, &init, ExitInfo::signal(9), "");
    assert_eq!(c, Transient);
    assert_eq!(e, "claude was killed by signal 9 (SIGKILL) before its result event");

    let (c, e) = class_and_error(Format::Claude, &init, ExitInfo::code(139), "Segmentation fault\n");
    assert_eq!(c, Transient);
    assert!(e.contains("code 139") && e.contains("Segmentation fault"), "{e}");

    // Nothing on stdout, a usage error on stderr: fix the flags.
    let (c, e) = class_and_error(
        Format::Claude,
        b"",
        ExitInfo::code(1),
        "Error: Input must be provided either through stdin or as a prompt argument when using --print\n",
    );
    assert_eq!(c, Permanent);
    assert!(e.contains("Input must be provided"), "{e}");
}

#[test]
fn claude_success_needs_exit_zero() {
    let s = jsonl(&[json!({"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"s"})]);
    let (_, o) = replay(Format::Claude, &s, ExitInfo::code(0), "");
    assert!(o.success);
    assert_eq!(o.cost_usd, None, "no total_cost_usd reported: no cost");
    assert_eq!(o.tokens_in, None);
    let (c, e) = class_and_error(Format::Claude, &s, ExitInfo::code(1), "");
    assert_eq!(c, Transient);
    assert!(e.contains("reported success but exited with code 1"), "{e}");
}

#[test]
fn claude_subagent_text_is_not_the_final_text() {
    let s = jsonl(&[
        json!({"type":"assistant","message":{"id":"a","model":"m","content":[{"type":"text","text":"top"}]},"parent_tool_use_id":null}),
        json!({"type":"assistant","message":{"id":"b","model":"m","content":[{"type":"text","text":"sub"}]},"parent_tool_use_id":"toolu_1"}),
        json!({"type":"result","subtype":"success","is_error":false,"session_id":"s"}),
    ]);
    let (ev, o) = replay(Format::Claude, &s, ExitInfo::code(0), "");
    assert_eq!(o.result.as_deref(), Some("top"));
    assert_eq!(ev.iter().filter(|e| matches!(e, Event::AssistantText { .. })).count(), 2);
}

fn codex_failed(msg: &str) -> Vec<u8> {
    jsonl(&[
        json!({"type":"thread.started","thread_id":"t1"}),
        json!({"type":"turn.started"}),
        json!({"type":"turn.failed","error":{"message":msg}}),
    ])
}

#[test]
fn codex_turn_failed_table() {
    let cases: &[(&str, FailureClass, &str)] = &[
        (
            "unexpected status 403 Forbidden: nope, url: http://x",
            Permanent,
            "authentication failed (HTTP 403): unexpected status 403 Forbidden: nope",
        ),
        ("unexpected status 400 Bad Request: invalid model", Permanent, "the API rejected the request (HTTP 400)"),
        ("You've hit your usage limit. Upgrade to Pro or try again at 3:00 PM.", Transient, "usage limit reached"),
        ("unexpected status 502 Bad Gateway: upstream", Transient, "API server error (HTTP 502)"),
        ("Reconnecting... waiting for network", Transient, "could not reach the API"),
        ("context_length_exceeded: Your input exceeds the context window", Permanent, "too long"),
        ("some brand new failure", Transient, "codex turn failed: some brand new failure"),
    ];
    for (msg, class, want) in cases {
        let (c, e) = class_and_error(Format::Codex, &codex_failed(msg), ExitInfo::code(1), "");
        assert_eq!(c, *class, "{msg}: {e}");
        assert!(e.contains(want), "{msg}: {e:?} lacks {want:?}");
    }
}

#[test]
fn codex_sums_usage_over_turns() {
    let s = jsonl(&[
        json!({"type":"thread.started","thread_id":"t1"}),
        json!({"type":"turn.completed","usage":{"input_tokens":10,"output_tokens":1}}),
        json!({"type":"item.completed","item":{"id":"i","type":"agent_message","text":"second"}}),
        json!({"type":"turn.completed","usage":{"input_tokens":20,"output_tokens":2}}),
    ]);
    let (_, o) = replay(Format::Codex, &s, ExitInfo::code(0), "");
    assert!(o.success);
    assert_eq!((o.tokens_in, o.tokens_out), (Some(30), Some(3)));
    assert_eq!(o.result.as_deref(), Some("second"));
    assert_eq!(o.cost_usd, None);
}

#[test]
fn codex_unknown_items_are_raw_and_mcp_calls_are_tools() {
    let s = jsonl(&[
        json!({"type":"item.started","item":{"id":"i1","type":"mcp_tool_call","server":"gh","tool":"search","arguments":{"q":"x"},"status":"in_progress"}}),
        json!({"type":"item.completed","item":{"id":"i1","type":"mcp_tool_call","server":"gh","tool":"search","arguments":{"q":"x"},
               "result":{"content":[{"type":"text","text":"found"}]},"error":null,"status":"completed"}}),
        json!({"type":"item.completed","item":{"id":"i2","type":"todo_list","items":[]}}),
        json!({"type":"brand.new","x":1}),
    ]);
    let (ev, _) = replay(Format::Codex, &s, ExitInfo::code(0), "");
    assert_eq!(ev.iter().filter(|e| matches!(e, Event::ToolUse { name, .. } if name == "gh.search")).count(), 1);
    assert!(ev.contains(&Event::ToolResult { id: Some("i1".into()), output: "found".into(), is_error: false }));
    assert_eq!(ev.iter().filter(|e| matches!(e, Event::Raw { .. })).count(), 2);
}

fn gemini_error(msg: &str) -> Vec<u8> {
    jsonl(&[
        json!({"type":"init","session_id":"g1","model":"m"}),
        json!({"type":"result","status":"error","error":{"type":"unknown","message":msg},"stats":{"input_tokens":0,"output_tokens":0}}),
    ])
}

#[test]
fn gemini_exit_code_table() {
    let cases: &[(i32, &str, FailureClass, &str)] = &[
        (130, "cancelled", Transient, "cancelled"),
        (1, "[API Error: exception TypeError: fetch failed sending request]", Transient, "could not reach the API"),
        (173, "[API Error: You have exhausted your daily quota on this model.]", Permanent, "quota or billing problem"),
        (246, "[API Error: bad gateway]", Transient, "(HTTP 502)"),
        (145, "[API Error: unauthenticated]", Permanent, "authentication failed (HTTP 401)"),
        (42, "bad input", Permanent, "rejected its input (exit 42): bad input"),
        (52, "weird settings", Permanent, "configuration error (exit 52)"),
    ];
    for (code, msg, class, want) in cases {
        let (c, e) = class_and_error(Format::Gemini, &gemini_error(msg), ExitInfo::code(*code), "");
        assert_eq!(c, *class, "{code} {msg}: {e}");
        assert!(e.contains(want), "{code}: {e:?} lacks {want:?}");
    }
}

#[test]
fn gemini_exit_codes_without_stdout() {
    let cases: &[(i32, &str, FailureClass, &str)] = &[
        (41, "Invalid auth method selected.\n", Permanent, "GEMINI_API_KEY"),
        (52, "Error in settings.json\n", Permanent, "configuration error (exit 52): Error in settings.json"),
        (55, "", Permanent, "untrusted workspace"),
        (130, "", Transient, "cancelled"),
        (173, "", Transient, "rate limited by the API (HTTP 429)"),
        (
            1,
            "Unknown argument: --frobnicate\n",
            Permanent,
            "exited with code 1 without printing any events: Unknown argument",
        ),
        (1, "Error: fetch failed\n", Transient, "fetch failed"),
    ];
    for (code, stderr, class, want) in cases {
        let (c, e) = class_and_error(Format::Gemini, b"", ExitInfo::code(*code), stderr);
        assert_eq!(c, *class, "{code}: {e}");
        assert!(e.contains(want), "{code}: {e:?} lacks {want:?}");
    }
}

#[test]
fn gemini_final_text_is_after_last_tool() {
    let s = jsonl(&[
        json!({"type":"init","session_id":"g1","model":"m"}),
        json!({"type":"message","role":"assistant","content":"Let me look.","delta":true}),
        json!({"type":"tool_use","tool_name":"ls","tool_id":"t1","parameters":{}}),
        json!({"type":"tool_result","tool_id":"t1","status":"success","output":"a"}),
        json!({"type":"message","role":"assistant","content":"All ","delta":true}),
        json!({"type":"message","role":"assistant","content":"good.","delta":true}),
        json!({"type":"result","status":"success","stats":{"input_tokens":5,"output_tokens":2}}),
    ]);
    let (ev, o) = replay(Format::Gemini, &s, ExitInfo::code(0), "");
    assert!(o.success);
    assert_eq!(o.result.as_deref(), Some("All good."));
    let texts: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::AssistantText { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["Let me look.", "All good."]);

    // Text before the tools only: that is the best final text there is.
    let s = jsonl(&[
        json!({"type":"message","role":"assistant","content":"Only this.","delta":true}),
        json!({"type":"tool_use","tool_name":"ls","tool_id":"t1","parameters":{}}),
        json!({"type":"tool_result","tool_id":"t1","status":"success","output":"a"}),
        json!({"type":"result","status":"success","stats":{}}),
    ]);
    let (_, o) = replay(Format::Gemini, &s, ExitInfo::code(0), "");
    assert_eq!(o.result.as_deref(), Some("Only this."));
}

#[test]
fn gemini_trailing_text_is_flushed() {
    let s = jsonl(&[json!({"type":"message","role":"assistant","content":"cut o","delta":true})]);
    let (ev, o) = replay(Format::Gemini, &s, ExitInfo::signal(15), "");
    assert_eq!(ev, vec![Event::AssistantText { text: "cut o".into() }]);
    assert_eq!(o.failure, Some(Transient));
    assert_eq!(o.result.as_deref(), Some("cut o"));
}

#[test]
fn text_format_outcomes() {
    let (ev, o) = replay(Format::Text, b"running 3 tests\nok\n", ExitInfo::code(0), "");
    assert_eq!(ev, vec![Event::Text { line: "running 3 tests".into() }, Event::Text { line: "ok".into() }]);
    assert!(o.success);
    assert_eq!(o.result.as_deref(), Some("running 3 tests\nok"));
    assert_eq!(o.cost_usd, None);

    let stderr = "   Compiling x v0.1.0\nerror: test failed, to rerun pass `--lib`\n";
    let (_, o) = replay(Format::Text, b"test a ... FAILED\n", ExitInfo::code(101), stderr);
    assert_eq!(o.failure, Some(Permanent));
    assert_eq!(o.error.as_deref(), Some("the command exited with code 101: error: test failed, to rerun pass `--lib`"));
    assert_eq!(o.result.as_deref(), Some("test a ... FAILED"));

    // No stderr: the last stdout line explains.
    let (_, o) = replay(Format::Text, b"step 1\nboom\n\n", ExitInfo::code(2), "");
    assert_eq!(o.error.as_deref(), Some("the command exited with code 2: boom"));

    let (_, o) = replay(Format::Text, b"", ExitInfo::signal(15), "");
    assert_eq!(o.failure, Some(Transient));
    assert_eq!(o.error.as_deref(), Some("the command was killed by signal 15 (SIGTERM)"));
    assert_eq!(o.result, None);
}

#[test]
fn text_result_is_the_last_4k_on_a_char_boundary() {
    let mut out = Vec::new();
    for i in 0..2000 {
        out.extend(format!("ligne {i} é\n").as_bytes());
    }
    let (_, o) = replay(Format::Text, &out, ExitInfo::code(0), "");
    let r = o.result.unwrap();
    assert!(r.len() <= 4096);
    assert!(r.ends_with("ligne 1999 é"));
    assert!(!r.contains('\u{FFFD}'));
}
