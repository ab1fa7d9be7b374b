//! Robustness: no input, however broken, makes the splitter or a parser
//! panic, and every outcome stays well-formed (classified, one short line).

mod common;

use baton_harness::{Event, ExitInfo, Format, LineSplitter, StreamParser};
use common::*;
use serde_json::{json, Value};

const FORMATS: [Format; 4] = Format::ALL;

fn random_exit(rng: &mut Rng) -> ExitInfo {
    match rng.below(6) {
        0 => ExitInfo::code(0),
        1 => ExitInfo::code(1),
        2 => ExitInfo::signal(1 + rng.below(31) as i32),
        3 => ExitInfo::default(),
        4 => ExitInfo::code(rng.below(256) as i32),
        _ => ExitInfo::code(rng.next_u64() as i32),
    }
}

fn random_bytes(rng: &mut Rng, len: usize) -> Vec<u8> {
    // Biased towards bytes that matter to the parsers.
    const SPECIAL: &[u8] = b"\n\r{}[]\":,\\ 0123456789truefalsnl\x00\xff\xc3\xa9";
    (0..len)
        .map(
            |_| {
                if rng.below(3) == 0 {
                    rng.next_u64() as u8
                } else {
                    SPECIAL[rng.below(SPECIAL.len() as u64) as usize]
                }
            },
        )
        .collect()
}

fn run_checked(format: Format, stdout: &[u8], rng: &mut Rng, ctx: &str) {
    let chunks = random_chunks(rng, stdout.len());
    let max_line = [0usize, 1, 7, 64, 4096][rng.below(5) as usize];
    let exit = random_exit(rng);
    let stderr_len = rng.below(300) as usize;
    let stderr = String::from_utf8_lossy(&random_bytes(rng, stderr_len)).into_owned();
    let (events, outcome) = replay_chunked(format, stdout, &chunks, max_line, exit, &stderr);
    check_outcome_invariants(&outcome, ctx);
    check_event_invariants(&events, ctx);
    if !exit.is_success() {
        assert!(!outcome.success, "{ctx}: success despite {exit:?}");
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    for case in 0..3000 {
        let len = rng.below(600) as usize;
        let bytes = random_bytes(&mut rng, len);
        let format = FORMATS[case % FORMATS.len()];
        run_checked(format, &bytes, &mut rng, &format!("random case {case} ({format})"));
    }
}

#[test]
fn mutated_real_streams_never_panic() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let mut inputs = Vec::new();
    for dir in ["fixtures", "captures"] {
        for e in std::fs::read_dir(data_dir().join(dir)).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".jsonl") || name.ends_with(".stdout") {
                inputs.push(load(&format!("{dir}/{name}")).stdout);
            }
        }
    }
    for (i, input) in inputs.iter().enumerate() {
        for round in 0..15 {
            let mut b = input.clone();
            for _ in 0..1 + rng.below(8) {
                if b.is_empty() {
                    break;
                }
                let pos = rng.below(b.len() as u64) as usize;
                match rng.below(4) {
                    0 => b[pos] = rng.next_u64() as u8,
                    1 => {
                        b.remove(pos);
                    }
                    2 => b.insert(pos, b"\n\"{}\xff"[rng.below(5) as usize]),
                    _ => b.truncate(pos),
                }
            }
            for format in FORMATS {
                run_checked(format, &b, &mut rng, &format!("mutated input {i} round {round} ({format})"));
            }
        }
    }
}

/// Replaces random parts of a JSON value with values of random types, so
/// every field access in the parsers meets the wrong type sooner or later.
fn mutate_json(v: &Value, rng: &mut Rng, depth: usize) -> Value {
    if depth > 0 && rng.below(6) == 0 {
        return random_json(rng, 2);
    }
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    // Keep `type` most of the time so the event is dispatched.
                    if k == "type" && rng.below(8) != 0 {
                        (k.clone(), v.clone())
                    } else {
                        (k.clone(), mutate_json(v, rng, depth + 1))
                    }
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| mutate_json(x, rng, depth + 1)).collect()),
        other => other.clone(),
    }
}

fn random_json(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.next_u64() as i64),
        3 => json!(["success", "error", "", "text", "tool_use", "init", "é\u{0}"][rng.below(7) as usize]),
        4 => json!(-(rng.below(1000) as f64) / 7.0),
        5 => Value::Array((0..rng.below(3)).map(|_| random_json(rng, depth - 1)).collect()),
        _ => {
            let keys = ["type", "text", "content", "message", "id", "error", "usage", "item", "status"];
            Value::Object(
                (0..rng.below(3))
                    .map(|_| (keys[rng.below(keys.len() as u64) as usize].to_owned(), random_json(rng, depth - 1)))
                    .collect(),
            )
        }
    }
}

#[test]
fn wrongly_typed_fields_never_panic() {
    let mut rng = Rng(0xFEED_FACE_0000_0001);
    let mut lines: Vec<(Format, Value)> = Vec::new();
    for dir in ["fixtures", "captures"] {
        for e in std::fs::read_dir(data_dir().join(dir)).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            let format = if name.contains("claude") {
                Format::Claude
            } else if name.contains("codex") {
                Format::Codex
            } else {
                Format::Gemini
            };
            if !(name.ends_with(".jsonl") || name.ends_with(".stdout")) {
                continue;
            }
            let rec = load(&format!("{dir}/{name}"));
            for l in rec.stdout.split(|&b| b == b'\n') {
                if let Ok(v) = serde_json::from_slice::<Value>(l) {
                    lines.push((format, v));
                }
            }
        }
    }
    assert!(lines.len() > 200);
    for round in 0..20 {
        for (format, v) in &lines {
            let mutated = mutate_json(v, &mut rng, 0);
            let mut stdout = serde_json::to_vec(&mutated).unwrap();
            stdout.push(b'\n');
            let ctx = format!("round {round}: {}", String::from_utf8_lossy(&stdout));
            run_checked(*format, &stdout, &mut rng, &ctx);
        }
    }
}

#[test]
fn huge_line_is_bounded_and_reported() {
    for format in FORMATS {
        let mut splitter = LineSplitter::new(1024 * 1024);
        let mut parser = StreamParser::new(format);
        let mut events = Vec::new();
        // 64 MiB of one JSON-looking line, in 64 KiB chunks.
        let chunk = vec![b'a'; 64 * 1024];
        events.extend(splitter.push(b"{\"type\":\"result\",\"result\":\"").into_iter().flat_map(|l| parser.feed(&l)));
        for _ in 0..1024 {
            for l in splitter.push(&chunk) {
                events.extend(parser.feed(&l));
            }
        }
        for l in splitter.push(b"\"}\n") {
            events.extend(parser.feed(&l));
        }
        assert_eq!(events.len(), 1, "{format}");
        match (&events[0], format) {
            (Event::Text { line }, Format::Text) => {
                assert!(line.len() < 1024 * 1024 + 200);
                assert!(line.contains("line truncated"), "{}", &line[line.len() - 80..]);
            }
            (Event::Malformed { line, reason }, _) => {
                assert!(line.len() <= 2 * 1024 + 64);
                assert!(reason.contains("truncated at 1048576 bytes"), "{reason}");
            }
            (e, f) => panic!("{f}: unexpected {e:?}"),
        }
        let o = parser.finish(ExitInfo::code(0), "");
        check_outcome_invariants(&o, &format.to_string());
        if format == Format::Text {
            assert!(o.success);
            assert!(o.result.unwrap().len() <= 4096);
        } else {
            assert!(!o.success);
        }
    }
}

#[test]
fn empty_and_degenerate_inputs() {
    let inputs: [&[u8]; 7] =
        [b"", b"\n", b"\n\n\n", b"\r\n", &[0u8; 4096], b"\xff\xfe\xfd\n", b"null\n[]\n\"x\"\n42\n{}\n"];
    for input in inputs {
        for format in FORMATS {
            for exit in [ExitInfo::code(0), ExitInfo::code(1), ExitInfo::signal(9), ExitInfo::default()] {
                let (events, o) = replay(format, input, exit, "");
                let ctx = format!("{format} {input:?} {exit:?}");
                check_outcome_invariants(&o, &ctx);
                check_event_invariants(&events, &ctx);
                if format != Format::Text {
                    assert!(!o.success, "{ctx}: JSON harness succeeded without a terminal event");
                }
            }
        }
    }
}

#[test]
fn no_stdout_and_no_stderr_still_explains() {
    for format in [Format::Claude, Format::Codex, Format::Gemini] {
        let (_, o) = replay(format, b"", ExitInfo::code(1), "");
        let e = o.error.unwrap();
        assert!(e.contains("exited with code 1"), "{format}: {e}");
        assert!(e.starts_with(format.as_str()), "{format}: {e}");
        let (_, o) = replay(format, b"", ExitInfo::signal(9), "");
        assert_eq!(o.failure, Some(baton_harness::FailureClass::Transient));
        assert!(o.error.unwrap().contains("SIGKILL"));
    }
}
