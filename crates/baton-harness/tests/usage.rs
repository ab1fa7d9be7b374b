//! Usage the parsers report: cache parts of the input tokens, and what a claude run stopped
//! before its `result` had used (each message counted once).

mod common;

use baton_harness::{ExitInfo, Format};
use common::replay;
use serde_json::json;

fn jsonl(lines: &[serde_json::Value]) -> Vec<u8> {
    lines.iter().flat_map(|l| serde_json::to_vec(l).unwrap().into_iter().chain([b'\n'])).collect()
}

fn killed() -> ExitInfo {
    ExitInfo { code: None, signal: Some(9) }
}

#[test]
fn a_killed_claude_run_keeps_the_usage_of_its_messages_counted_once() {
    let usage = json!({"input_tokens": 10, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 1000, "output_tokens": 5});
    let block = |id: &str, text: &str| {
        json!({"type":"assistant","message":{"id":id,"model":"claude-x","role":"assistant",
               "content":[{"type":"text","text":text}],"usage":usage},"parent_tool_use_id":null,"session_id":"s1"})
    };
    // Message m1 arrives as two lines (one per content block) repeating its usage.
    let stdout = jsonl(&[
        json!({"type":"system","subtype":"init","session_id":"s1","model":"claude-x"}),
        block("m1", "a"),
        block("m1", "b"),
        block("m2", "c"),
    ]);
    let (_, o) = replay(Format::Claude, &stdout, killed(), "");
    assert!(!o.success);
    assert_eq!((o.tokens_in, o.tokens_out), (Some(2 * 1110), Some(2 * 5)));
    assert_eq!((o.cache_read_tokens, o.cache_write_tokens), (Some(2000), Some(200)));
    assert_eq!(o.cost_usd, None, "claude reports its cost only in `result`");
}

#[test]
fn the_result_usage_wins_and_names_its_cache_parts() {
    let stdout = jsonl(&[
        json!({"type":"system","subtype":"init","session_id":"s1","model":"m"}),
        json!({"type":"result","subtype":"success","is_error":false,"result":"ok","session_id":"s1","total_cost_usd":0.5,
               "usage":{"input_tokens":1,"cache_creation_input_tokens":2,"cache_read_input_tokens":3,"output_tokens":4}}),
    ]);
    let (_, o) = replay(Format::Claude, &stdout, ExitInfo { code: Some(0), signal: None }, "");
    assert_eq!(
        (o.tokens_in, o.tokens_out, o.cache_read_tokens, o.cache_write_tokens),
        (Some(6), Some(4), Some(3), Some(2))
    );
    assert_eq!(o.cost_usd, Some(0.5));
}

#[test]
fn codex_and_gemini_report_their_cache_reads() {
    let codex = jsonl(&[
        json!({"type":"thread.started","thread_id":"t1"}),
        json!({"type":"turn.completed","usage":{"input_tokens":100,"cached_input_tokens":40,"output_tokens":7}}),
        json!({"type":"turn.completed","usage":{"input_tokens":50,"cached_input_tokens":10,"output_tokens":3}}),
    ]);
    let (_, o) = replay(Format::Codex, &codex, ExitInfo { code: Some(0), signal: None }, "");
    assert_eq!((o.tokens_in, o.tokens_out, o.cache_read_tokens, o.cost_usd), (Some(150), Some(10), Some(50), None));

    let gemini = jsonl(&[
        json!({"type":"init","session_id":"g1","model":"gemini-2.5-pro"}),
        json!({"type":"result","status":"success","stats":{"input_tokens":900,"output_tokens":20,"cached":300}}),
    ]);
    let (_, o) = replay(Format::Gemini, &gemini, ExitInfo { code: Some(0), signal: None }, "");
    assert_eq!((o.tokens_in, o.tokens_out, o.cache_read_tokens, o.cost_usd), (Some(900), Some(20), Some(300), None));
}

#[test]
fn claude_streams_its_running_usage_while_codex_and_gemini_do_not() {
    use baton_harness::{Line, RunningUsage, StreamParser};
    let usage = json!({"input_tokens": 10, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 1000, "output_tokens": 5});
    let block = |id: &str| {
        json!({"type":"assistant","message":{"id":id,"model":"claude-x","role":"assistant",
               "content":[{"type":"text","text":"x"}],"usage":usage},"parent_tool_use_id":null,"session_id":"s1"})
    };
    let mut parser = StreamParser::new(Format::Claude);
    assert_eq!(parser.running_usage(), Some(RunningUsage::default()));
    for (i, line) in [block("m1"), block("m1"), block("m2")].iter().enumerate() {
        parser.feed(&Line::new(serde_json::to_vec(line).unwrap()));
        let messages = if i == 0 { 1 } else { i as u64 };
        assert_eq!(parser.running_usage().and_then(|u| u.tokens_in), Some(messages * 1110), "after line {i}");
    }
    assert_eq!(parser.running_usage().and_then(|u| u.cache_write_tokens), Some(200));
    assert_eq!(StreamParser::new(Format::Codex).running_usage(), None);
    assert_eq!(StreamParser::new(Format::Gemini).running_usage(), None);
}
