//! Shared helpers for the integration tests: loading recorded runs from
//! `tests/data` and replaying them through the splitter and parser.

#![allow(dead_code)]

use std::path::PathBuf;

use baton_harness::{Event, ExitInfo, Format, LineSplitter, Outcome, StreamParser};

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A recorded run: stdout bytes, stderr text, exit code.
pub struct Recorded {
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub rc: Option<i32>,
}

/// Loads `tests/data/<rel>`; for a `.stdout` file also its `.stderr` and
/// `.rc` siblings when present.
pub fn load(rel: &str) -> Recorded {
    let path = data_dir().join(rel);
    let stdout = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let stem = path.with_extension("");
    let stderr = std::fs::read(stem.with_extension("stderr"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let rc = std::fs::read_to_string(stem.with_extension("rc")).ok().and_then(|s| s.trim().parse().ok());
    Recorded { stdout, stderr, rc }
}

/// Tiny deterministic PRNG (xorshift64*), so tests need no extra crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Replays `stdout` in chunks of the given sizes (the rest in one final
/// chunk), like the runner does, and returns every event and the outcome.
pub fn replay_chunked(
    format: Format,
    stdout: &[u8],
    chunks: &[usize],
    max_line: usize,
    exit: ExitInfo,
    stderr: &str,
) -> (Vec<Event>, Outcome) {
    let mut splitter = LineSplitter::new(max_line);
    let mut parser = StreamParser::new(format);
    let mut events = Vec::new();
    let mut pos = 0;
    let mut feed = |bytes: &[u8], splitter: &mut LineSplitter, parser: &mut StreamParser| {
        for line in splitter.push(bytes) {
            events.extend(parser.feed(&line));
        }
    };
    for &c in chunks {
        let end = (pos + c).min(stdout.len());
        feed(&stdout[pos..end], &mut splitter, &mut parser);
        pos = end;
    }
    feed(&stdout[pos..], &mut splitter, &mut parser);
    if let Some(line) = splitter.finish() {
        events.extend(parser.feed(&line));
    }
    events.extend(parser.flush());
    let outcome = parser.finish(exit, stderr);
    (events, outcome)
}

pub fn replay(format: Format, stdout: &[u8], exit: ExitInfo, stderr: &str) -> (Vec<Event>, Outcome) {
    replay_chunked(format, stdout, &[], baton_harness::DEFAULT_MAX_LINE, exit, stderr)
}

/// Random chunk sizes covering `len` bytes.
pub fn random_chunks(rng: &mut Rng, len: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut left = len;
    while left > 0 {
        let c = match rng.below(4) {
            0 => 1,
            1 => 1 + rng.below(16) as usize,
            _ => 1 + rng.below(4096) as usize,
        };
        out.push(c);
        left = left.saturating_sub(c);
    }
    out
}

/// Invariants every outcome must satisfy, whatever the input.
pub fn check_outcome_invariants(o: &Outcome, ctx: &str) {
    if o.success {
        assert!(o.failure.is_none(), "{ctx}: success with a failure class");
        assert!(o.error.is_none(), "{ctx}: success with an error");
    } else {
        assert!(o.failure.is_some(), "{ctx}: failure without a class");
        let e = o.error.as_deref().unwrap_or_else(|| panic!("{ctx}: failure without a message"));
        assert!(!e.is_empty(), "{ctx}: empty error message");
        assert!(e.len() <= 300, "{ctx}: error message too long ({}): {e}", e.len());
        assert!(!e.contains('\n'), "{ctx}: multi-line error message: {e}");
        assert!(!e.trim_start().starts_with('{'), "{ctx}: raw JSON as error: {e}");
    }
}

/// Every event survives a JSON round trip and renders without panicking.
pub fn check_event_invariants(events: &[Event], ctx: &str) {
    for e in events {
        let s = serde_json::to_string(e).unwrap_or_else(|err| panic!("{ctx}: serialise {e:?}: {err}"));
        let back: Event = serde_json::from_str(&s).unwrap_or_else(|err| panic!("{ctx}: deserialise {s}: {err}"));
        assert_eq!(&back, e, "{ctx}: round trip changed the event");
        let _ = baton_harness::render(e);
    }
}
