//! Table-driven tests over every hand-made fixture (`tests/data/fixtures`,
//! expectations from the fixtures README) and every real capture of the
//! three CLIs (`tests/data/captures`, exit code from `.rc`, stderr from
//! `.stderr`). A new file in either directory without a row here fails
//! `every_data_file_has_a_case`.

mod common;

use baton_harness::{Event, ExitInfo, FailureClass, Format};
use common::*;
use FailureClass::{Permanent, Transient};
use Format::{Claude, Codex, Gemini};

#[derive(Clone, Copy)]
enum Res {
    /// Not checked.
    Any,
    None,
    Is(&'static str),
}

#[derive(Clone, Copy)]
enum Cost {
    Any,
    None,
    Is(f64),
}

#[derive(Clone, Copy)]
struct Case {
    file: &'static str,
    format: Format,
    /// Exit code; `None` = read the `.rc` file.
    exit: Option<i32>,
    /// `None` = success expected.
    class: Option<FailureClass>,
    session: Option<&'static str>,
    result: Res,
    /// `(tokens_in, tokens_out)`; `None` = not checked.
    tokens: Option<(Option<u64>, Option<u64>)>,
    cost: Cost,
    turns: Option<Option<u64>>,
    /// Substrings the error message must contain.
    error_has: &'static [&'static str],
}

const D: Case = Case {
    file: "",
    format: Claude,
    exit: None,
    class: None,
    session: None,
    result: Res::Any,
    tokens: None,
    cost: Cost::Any,
    turns: None,
    error_has: &[],
};

const FIX_CLAUDE_SESSION: &str = "4f1c2a9e-7b3d-4c55-9a10-2e6b8d0f1a77";
const FIX_CODEX_SESSION: &str = "01a2b3c4-d5e6-7f80-9a1b-2c3d4e5f6a7b";
const FIX_GEMINI_SESSION: &str = "7c6b5a49-3827-4161-9504-a3b2c1d0e9f8";
const MOCK: &str = "Hello from the mock.";

fn fixtures() -> Vec<Case> {
    vec![
        Case {
            file: "fixtures/claude-success.jsonl",
            exit: Some(0),
            session: Some(FIX_CLAUDE_SESSION),
            result: Res::Is("Fixed the sign error in `add`; all 12 tests pass now."),
            tokens: Some((Some(6300 + 1200 + 5400), Some(310))),
            cost: Cost::Is(0.0213),
            turns: Some(Some(3)),
            ..D
        },
        Case {
            file: "fixtures/claude-auth-error.jsonl",
            exit: Some(1),
            class: Some(Permanent),
            session: Some(FIX_CLAUDE_SESSION),
            // The CLI reported a cost of 0: it is kept, not invented.
            cost: Cost::Is(0.0),
            error_has: &["authentication failed", "Not logged in"],
            ..D
        },
        Case {
            file: "fixtures/claude-rate-limited.jsonl",
            exit: Some(1),
            class: Some(Transient),
            session: Some(FIX_CLAUDE_SESSION),
            error_has: &["rate limited by the API (HTTP 429)", "rate limit of 40,000 input tokens"],
            ..D
        },
        Case {
            file: "fixtures/claude-overloaded.jsonl",
            exit: Some(0),
            session: Some(FIX_CLAUDE_SESSION),
            result: Res::Is("Checking the build."),
            tokens: Some((Some(3900), Some(12))),
            cost: Cost::Is(0.0009),
            ..D
        },
        Case {
            file: "fixtures/claude-max-turns.jsonl",
            exit: Some(1),
            class: Some(Permanent),
            session: Some(FIX_CLAUDE_SESSION),
            result: Res::None,
            cost: Cost::Is(0.0041),
            turns: Some(Some(3)),
            error_has: &["turn limit", "Reached maximum number of turns (2)"],
            ..D
        },
        Case {
            file: "fixtures/codex-success.jsonl",
            format: Codex,
            exit: Some(0),
            session: Some(FIX_CODEX_SESSION),
            result: Res::Is("Fixed the sign error in `add` (src/lib.rs); all 12 tests pass."),
            tokens: Some((Some(24310), Some(612))),
            cost: Cost::None,
            turns: Some(None),
            ..D
        },
        Case {
            file: "fixtures/codex-auth-error.jsonl",
            format: Codex,
            exit: Some(1),
            class: Some(Permanent),
            session: Some(FIX_CODEX_SESSION),
            cost: Cost::None,
            error_has: &["authentication failed (HTTP 401)", "Missing bearer"],
            ..D
        },
        Case {
            file: "fixtures/codex-rate-limited.jsonl",
            format: Codex,
            exit: Some(1),
            class: Some(Transient),
            error_has: &["rate limited by the API (HTTP 429)"],
            ..D
        },
        Case {
            file: "fixtures/codex-quota-exceeded.jsonl",
            format: Codex,
            exit: Some(1),
            class: Some(Permanent),
            error_has: &["Quota exceeded"],
            ..D
        },
        Case {
            file: "fixtures/codex-transient-recovered.jsonl",
            format: Codex,
            exit: Some(0),
            session: Some(FIX_CODEX_SESSION),
            result: Res::Is("Done."),
            tokens: Some((Some(1500), Some(9))),
            cost: Cost::None,
            ..D
        },
        Case {
            file: "fixtures/gemini-success.jsonl",
            format: Gemini,
            exit: Some(0),
            session: Some(FIX_GEMINI_SESSION),
            result: Res::Is("Fixed the sign error in `add`; the suite should pass now."),
            tokens: Some((Some(30800), Some(214))),
            cost: Cost::None,
            turns: Some(None),
            ..D
        },
        Case {
            file: "fixtures/gemini-api-key-invalid.jsonl",
            format: Gemini,
            exit: Some(144),
            class: Some(Permanent),
            session: Some(FIX_GEMINI_SESSION),
            error_has: &["authentication failed (HTTP 400)", "API key not valid", "API_KEY_INVALID"],
            ..D
        },
        Case {
            file: "fixtures/gemini-rate-limited.jsonl",
            format: Gemini,
            exit: Some(173),
            class: Some(Transient),
            error_has: &["rate limited by the API (HTTP 429)", "Resource has been exhausted"],
            ..D
        },
        Case {
            file: "fixtures/gemini-max-turns.jsonl",
            format: Gemini,
            exit: Some(53),
            class: Some(Permanent),
            tokens: Some((Some(9020), Some(31))),
            error_has: &["turn limit", "maxSessionTurns"],
            ..D
        },
        Case {
            file: "fixtures/gemini-tool-error-warning.jsonl",
            format: Gemini,
            exit: Some(0),
            session: Some(FIX_GEMINI_SESSION),
            result: Res::Is("notes.txt does not exist in the workspace."),
            ..D
        },
    ]
}

const ROOT_MSG: &str = "claude refuses --permission-mode bypassPermissions as root: set IS_SANDBOX=1 in the runner's environment if this is a sandbox, or set [harness.claude] args/command with other permission flags";

fn claude_ok(file: &'static str, session: &'static str, tokens: (u64, u64), cost: f64) -> Case {
    Case {
        file,
        session: Some(session),
        result: Res::Is(MOCK),
        tokens: Some((Some(tokens.0), Some(tokens.1))),
        cost: Cost::Is(cost),
        ..D
    }
}

fn claude_captures() -> Vec<Case> {
    vec![
        Case {
            file: "captures/mock-claude-budget.stdout",
            class: Some(Permanent),
            session: Some("ca1fb557-7def-40a6-9b05-818d4526cacb"),
            result: Res::Is("I'll run a command."),
            cost: Cost::Is(0.00081),
            error_has: &["budget limit", "Reached maximum budget ($0.0001)"],
            ..D
        },
        Case {
            file: "captures/mock-claude-err-400.stdout",
            class: Some(Permanent),
            session: Some("d44d6335-bd06-435a-b866-93dafb5c6498"),
            result: Res::None,
            error_has: &["prompt is too long", "HTTP 400"],
            ..D
        },
        Case {
            file: "captures/mock-claude-err-401.stdout",
            class: Some(Permanent),
            error_has: &["authentication failed (HTTP 401): Invalid API key · Fix external API key"],
            ..D
        },
        Case {
            file: "captures/mock-claude-err-429.stdout",
            class: Some(Transient),
            error_has: &["rate limited by the API (HTTP 429)", "50 requests per minute"],
            ..D
        },
        Case {
            file: "captures/mock-claude-err-500.stdout",
            class: Some(Transient),
            error_has: &["API server error (HTTP 500)"],
            ..D
        },
        Case {
            file: "captures/mock-claude-err-529.stdout",
            class: Some(Transient),
            error_has: &["overloaded (HTTP 529)"],
            ..D
        },
        Case {
            file: "captures/mock-claude-err-drop.stdout",
            class: Some(Transient),
            error_has: &["could not reach the API", "ECONNRESET"],
            ..D
        },
        Case {
            // --output-format json: the single `result` line.
            file: "captures/mock-claude-json-ok.stdout",
            session: Some("ec6b8202-e646-42cf-81af-23090a8567a6"),
            result: Res::Is(MOCK),
            tokens: Some((Some(120), Some(7))),
            ..D
        },
        Case {
            file: "captures/mock-claude-maxturns.stdout",
            class: Some(Permanent),
            session: Some("a3adf8ff-cf46-4468-91fa-8bf760885ded"),
            tokens: Some((Some(240), Some(60))),
            cost: Cost::Is(0.00162),
            turns: Some(Some(3)),
            error_has: &["turn limit", "Reached maximum number of turns (2)"],
            ..D
        },
        claude_ok("captures/mock-claude-nogit.stdout", "a1a0164e-3911-4dc8-ba79-7805cf9ac4a0", (120, 7), 0.000465),
        Case {
            turns: Some(Some(1)),
            ..claude_ok("captures/mock-claude-ok.stdout", "6373ffa0-7b2d-4fab-abdb-d700071c8b7e", (120, 7), 0.000465)
        },
        claude_ok("captures/mock-claude-openstdin.stdout", "b36e4594-782c-4ddf-900a-686496fb0894", (120, 7), 0.000465),
        Case {
            // Not claude output at all (a shell wrapper's timing line).
            file: "captures/mock-claude-openstdin2.stdout",
            class: Some(Permanent),
            error_has: &["exited with code 0 but printed no claude JSON events", "CLI_EXIT_AFTER"],
            ..D
        },
        claude_ok("captures/mock-claude-partial.stdout", "521eece5-b361-41b7-8ffd-0c0e4a588533", (120, 7), 0.000465),
        Case {
            file: "captures/mock-claude-resume-bad.stdout",
            class: Some(Permanent),
            session: Some("00000000-0000-0000-0000-000000000000"),
            error_has: &["No conversation found with session ID"],
            ..D
        },
        claude_ok("captures/mock-claude-resume.stdout", "ec6b8202-e646-42cf-81af-23090a8567a6", (120, 7), 0.000465),
        claude_ok("captures/mock-claude-stdin.stdout", "f4fd084e-ce2e-4329-bdea-406aba8bbcaf", (120, 7), 0.00093),
        claude_ok(
            "captures/mock-claude-tool-default.stdout",
            "1666a7ab-f578-4026-83e9-f1da1ab2dd44",
            (240, 37),
            0.001275,
        ),
        claude_ok(
            "captures/mock-claude-toolw-allowed.stdout",
            "3d91997b-660c-4cc1-b3f0-adc8d3ee7bba",
            (240, 37),
            0.0017400000000000002,
        ),
        claude_ok(
            "captures/mock-claude-toolw-bypass.stdout",
            "38dc10de-fd2d-4230-8a44-b42e5c449a2f",
            (240, 37),
            0.0017400000000000002,
        ),
        claude_ok(
            "captures/mock-claude-toolw-default.stdout",
            "ca4e04cf-8cc9-43e2-93a0-e1727a6bfff6",
            (240, 37),
            0.0017400000000000002,
        ),
        Case {
            file: "captures/run-claude-json-nonet.stdout",
            class: Some(Permanent),
            session: Some("375f6f3d-3bd8-41f2-b658-685c2b6ce213"),
            error_has: &["authentication failed", "Not logged in"],
            ..D
        },
        Case {
            file: "captures/run-claude-stream-default-nonet.stdout",
            class: Some(Permanent),
            error_has: &["authentication failed", "Not logged in"],
            ..D
        },
        Case {
            file: "captures/run-claude-stream-nonet-fakekey.stdout",
            class: Some(Transient),
            session: Some("25a49f79-2fba-46a8-8617-5aa2e90cceeb"),
            error_has: &["could not reach the API", "ConnectionRefused"],
            ..D
        },
        Case {
            file: "captures/run-claude-stream-nonet-issandbox.stdout",
            class: Some(Permanent),
            error_has: &["authentication failed"],
            ..D
        },
        Case {
            file: "captures/run-claude-stream-nonet-perm.stdout",
            class: Some(Permanent),
            session: None,
            error_has: &[ROOT_MSG],
            ..D
        },
        Case { file: "captures/run-claude-stream-nonet.stdout", class: Some(Permanent), error_has: &[ROOT_MSG], ..D },
        Case {
            file: "captures/run-claude-stream-noverbose.stdout",
            class: Some(Permanent),
            error_has: &["claude exited with code 1", "requires --verbose"],
            ..D
        },
        Case {
            // Plain-text output format: nothing parses, the text explains.
            file: "captures/run-claude-text-nonet.stdout",
            class: Some(Permanent),
            error_has: &["Not logged in"],
            ..D
        },
    ]
}

fn codex_ok(file: &'static str, tokens: (u64, u64)) -> Case {
    Case {
        file,
        format: Codex,
        result: Res::Is(MOCK),
        tokens: Some((Some(tokens.0), Some(tokens.1))),
        cost: Cost::None,
        turns: Some(None),
        ..D
    }
}

fn codex_fail(file: &'static str, class: FailureClass, error_has: &'static [&'static str]) -> Case {
    Case { file, format: Codex, class: Some(class), cost: Cost::None, error_has, ..D }
}

fn codex_captures() -> Vec<Case> {
    vec![
        Case {
            session: Some("01a220d3-d555-7161-a472-73b51fcfe7b8"),
            ..codex_ok("captures/mock-codex-devinstr.stdout", (1200, 25))
        },
        Case {
            session: Some("01a220ca-d16b-7540-a3fd-ed805492c3ec"),
            ..codex_fail(
                "captures/mock-codex-err-401.stdout",
                Permanent,
                &["authentication failed (HTTP 401)", "Incorrect API key provided"],
            )
        },
        codex_fail("captures/mock-codex-err-429.stdout", Transient, &["rate limited by the API (HTTP 429)"]),
        codex_fail("captures/mock-codex-err-500.stdout", Transient, &["high demand"]),
        codex_fail("captures/mock-codex-err-503.stdout", Transient, &["(HTTP 503)", "Service Unavailable"]),
        codex_fail(
            "captures/mock-codex-err-drop.stdout",
            Transient,
            &["could not reach the API", "stream disconnected"],
        ),
        codex_fail("captures/mock-codex-err-quota.stdout", Permanent, &["quota or billing problem", "Quota exceeded"]),
        codex_ok("captures/mock-codex-json-ok2.stdout", (1200, 25)),
        codex_fail("captures/mock-codex-nogit.stdout", Permanent, &["git repository", "--skip-git-repo-check"]),
        codex_ok("captures/mock-codex-ok-cfgurl.stdout", (1200, 25)),
        codex_ok("captures/mock-codex-ok-codexkey.stdout", (1200, 25)),
        Case {
            // Killed by `timeout` (124) while still retrying the network.
            session: Some("01a220c8-bb62-74f1-bc4e-e3247d52831b"),
            ..codex_fail(
                "captures/mock-codex-ok-envkey.stdout",
                Transient,
                &["exited with code 124", "Falling back from WebSockets"],
            )
        },
        codex_ok("captures/mock-codex-openstdin.stdout", (1200, 25)),
        codex_fail("captures/mock-codex-openstdin2.stdout", Permanent, &["printed no codex JSON events"]),
        codex_fail(
            "captures/mock-codex-resume-bad.stdout",
            Permanent,
            &["exited with code 1", "no rollout found for thread id"],
        ),
        Case {
            session: Some("01a220d1-59d5-7e11-9709-f7106c190be1"),
            ..codex_ok("captures/mock-codex-resume.stdout", (2400, 50))
        },
        codex_ok("captures/mock-codex-stdin.stdout", (1200, 25)),
        codex_ok("captures/mock-codex-tool-default.stdout", (2400, 50)),
        codex_ok("captures/mock-codex-toolw-bypass.stdout", (2400, 50)),
        codex_ok("captures/mock-codex-toolw-default.stdout", (2400, 50)),
        codex_fail(
            "captures/mock-codex-toolw-fullauto.stdout",
            Permanent,
            &["bad flags", "error: unexpected argument '--full-auto' found"],
        ),
        codex_ok("captures/mock-codex-toolw-wsw.stdout", (2400, 50)),
        codex_ok("captures/mock-codex-toolw-yolo.stdout", (2400, 50)),
        codex_fail(
            "captures/run-codex-json-nonet-bypass.stdout",
            Transient,
            &["exited with code 124", "waiting for network"],
        ),
        codex_fail("captures/run-codex-json-nonet-long.stdout", Transient, &["waiting for network"]),
        Case {
            session: Some("01a220bf-f0e8-7261-907b-56cdfb74eaa0"),
            result: Res::None,
            ..codex_fail("captures/run-codex-json-nonet.stdout", Transient, &["waiting for network"])
        },
    ]
}

fn gemini_ok(file: &'static str, tokens: (u64, u64)) -> Case {
    Case {
        file,
        format: Gemini,
        result: Res::Is(MOCK),
        tokens: Some((Some(tokens.0), Some(tokens.1))),
        cost: Cost::None,
        turns: Some(None),
        ..D
    }
}

fn gemini_fail(file: &'static str, class: FailureClass, error_has: &'static [&'static str]) -> Case {
    Case { file, format: Gemini, class: Some(class), cost: Cost::None, error_has, ..D }
}

fn gemini_captures() -> Vec<Case> {
    vec![
        Case {
            session: Some("4833dcc1-0f41-4a18-8b62-b4b7423f04ca"),
            ..gemini_fail(
                "captures/mock-gemini-err-401.stdout",
                Permanent,
                &["authentication failed (HTTP 400)", "API_KEY_INVALID"],
            )
        },
        gemini_fail("captures/mock-gemini-err-429-default.stdout", Transient, &["rate limited by the API (HTTP 429)"]),
        gemini_fail(
            "captures/mock-gemini-err-429.stdout",
            Transient,
            &["rate limited by the API (HTTP 429)", "Resource has been exhausted"],
        ),
        gemini_fail(
            "captures/mock-gemini-err-500.stdout",
            Transient,
            &["API server error (HTTP 500)", "Internal error encountered."],
        ),
        gemini_fail("captures/mock-gemini-err-503.stdout", Transient, &["(HTTP 503)", "The model is overloaded"]),
        gemini_fail("captures/mock-gemini-err-drop.stdout", Transient, &["could not reach the API", "fetch failed"]),
        gemini_fail(
            "captures/mock-gemini-err-quota.stdout",
            Permanent,
            &["quota or billing problem (HTTP 429)", "daily quota"],
        ),
        Case {
            // -o json: no stdout, the error object goes to stderr.
            result: Res::None,
            ..gemini_fail(
                "captures/mock-gemini-json-429.stdout",
                Transient,
                &["rate limited by the API (HTTP 429)", "Resource has been exhausted"],
            )
        },
        // -o json instead of stream-json: pretty-printed, nothing parses.
        gemini_fail(
            "captures/mock-gemini-json-ok.stdout",
            Permanent,
            &["printed no gemini JSON events", "pretty-printed JSON object"],
        ),
        Case {
            session: Some("59fb2cfe-a336-4aab-94fd-50187424c631"),
            tokens: Some((Some(900), Some(12))),
            ..gemini_fail("captures/mock-gemini-maxturns.stdout", Permanent, &["session turn limit"])
        },
        Case {
            session: Some("e7848f19-af57-4b52-9b09-33380b5e6121"),
            ..gemini_ok("captures/mock-gemini-ok.stdout", (900, 12))
        },
        gemini_ok("captures/mock-gemini-openstdin.stdout", (900, 12)),
        gemini_fail("captures/mock-gemini-openstdin2.stdout", Permanent, &["printed no gemini JSON events"]),
        Case {
            session: Some("63b5952b-020a-434e-8584-06dba8999a95"),
            ..gemini_ok("captures/mock-gemini-resume-uuid.stdout", (900, 12))
        },
        gemini_ok("captures/mock-gemini-stdin.stdout", (900, 12)),
        gemini_ok("captures/mock-gemini-tool-default.stdout", (900, 12)),
        gemini_ok("captures/mock-gemini-tool-yolo.stdout", (1800, 24)),
        gemini_fail(
            "captures/run-gemini-json-nonet.stdout",
            Permanent,
            &["exit 41", "GEMINI_API_KEY", "Please set an Auth method"],
        ),
        gemini_fail(
            "captures/run-gemini-stream-nonet-fakekey-long.stdout",
            Transient,
            &["could not reach the API", "fetch failed"],
        ),
        Case {
            session: Some("01650415-de44-4dce-b9a3-df6ccb02d113"),
            result: Res::None,
            ..gemini_fail(
                "captures/run-gemini-stream-nonet-fakekey.stdout",
                Transient,
                &["exited with code 124", "fetch failed"],
            )
        },
        gemini_fail("captures/run-gemini-stream-nonet-trust.stdout", Permanent, &["exit 41", "GEMINI_API_KEY"]),
        gemini_fail("captures/run-gemini-stream-nonet.stdout", Permanent, &["exit 41", "GEMINI_API_KEY"]),
    ]
}

fn all_cases() -> Vec<Case> {
    let mut v = fixtures();
    v.extend(claude_captures());
    v.extend(codex_captures());
    v.extend(gemini_captures());
    v
}

fn check(case: &Case) -> Vec<Event> {
    let rec = load(case.file);
    let code = case.exit.or(rec.rc).unwrap_or_else(|| panic!("{}: no exit code", case.file));
    let exit = ExitInfo::code(code);
    let (events, o) = replay(case.format, &rec.stdout, exit, &rec.stderr);
    let ctx = format!("{} (exit {code}) -> {o:?}", case.file);

    check_outcome_invariants(&o, &ctx);
    check_event_invariants(&events, &ctx);
    assert_eq!(o.exit_code, Some(code), "{ctx}");
    match case.class {
        None => assert!(o.success, "{ctx}: expected success"),
        Some(c) => {
            assert!(!o.success, "{ctx}: expected failure");
            assert_eq!(o.failure, Some(c), "{ctx}: failure class");
        }
    }
    if let Some(s) = case.session {
        assert_eq!(o.session_id.as_deref(), Some(s), "{ctx}: session");
    }
    match case.result {
        Res::Any => {}
        Res::None => assert_eq!(o.result, None, "{ctx}: result"),
        Res::Is(t) => assert_eq!(o.result.as_deref(), Some(t), "{ctx}: result"),
    }
    if let Some((tin, tout)) = case.tokens {
        assert_eq!((o.tokens_in, o.tokens_out), (tin, tout), "{ctx}: tokens");
    }
    match case.cost {
        Cost::Any => {}
        Cost::None => assert_eq!(o.cost_usd, None, "{ctx}: cost"),
        Cost::Is(c) => {
            let got = o.cost_usd.unwrap_or_else(|| panic!("{ctx}: no cost"));
            assert!((got - c).abs() < 1e-12, "{ctx}: cost {got} != {c}");
        }
    }
    if let Some(t) = case.turns {
        assert_eq!(o.num_turns, t, "{ctx}: turns");
    }
    let err = o.error.as_deref().unwrap_or("");
    for want in case.error_has {
        assert!(err.contains(want), "{ctx}: error lacks {want:?}");
    }

    // Chunking must not change anything.
    let mut rng = Rng(0x5EED ^ rec.stdout.len() as u64);
    for _ in 0..3 {
        let chunks = random_chunks(&mut rng, rec.stdout.len());
        let (ev2, o2) =
            replay_chunked(case.format, &rec.stdout, &chunks, baton_harness::DEFAULT_MAX_LINE, exit, &rec.stderr);
        assert_eq!(ev2, events, "{}: events depend on chunking", case.file);
        assert_eq!(o2, o, "{}: outcome depends on chunking", case.file);
    }
    events
}

#[test]
fn fixtures_match_expectations() {
    for c in fixtures() {
        check(&c);
    }
}

#[test]
fn claude_captures_match_expectations() {
    for c in claude_captures() {
        check(&c);
    }
}

#[test]
fn codex_captures_match_expectations() {
    for c in codex_captures() {
        check(&c);
    }
}

#[test]
fn gemini_captures_match_expectations() {
    for c in gemini_captures() {
        check(&c);
    }
}

#[test]
fn every_data_file_has_a_case() {
    let cases = all_cases();
    let mut missing = Vec::new();
    for (dir, ext) in [("fixtures", "jsonl"), ("captures", "stdout")] {
        let entries = std::fs::read_dir(data_dir().join(dir)).unwrap();
        for e in entries {
            let name = e.unwrap().file_name().into_string().unwrap();
            if name.ends_with(&format!(".{ext}")) {
                let rel = format!("{dir}/{name}");
                if !cases.iter().any(|c| c.file == rel) {
                    missing.push(rel);
                }
            }
        }
    }
    assert!(missing.is_empty(), "data files without a test case: {missing:?}");
    let mut files: Vec<&str> = cases.iter().map(|c| c.file).collect();
    files.sort_unstable();
    files.dedup();
    assert_eq!(files.len(), cases.len(), "duplicate case rows");
}

// ---- event-level expectations -------------------------------------------

fn events_of(file: &'static str, format: Format) -> Vec<Event> {
    let c = all_cases()
        .into_iter()
        .find(|c| c.file == file && c.format == format)
        .unwrap_or_else(|| panic!("no case for {file}"));
    check(&c)
}

#[test]
fn claude_success_events() {
    let ev = events_of("fixtures/claude-success.jsonl", Claude);
    assert_eq!(
        ev[0],
        Event::SessionStarted { session_id: FIX_CLAUDE_SESSION.into(), model: Some("claude-sonnet-4-5".into()) }
    );
    assert!(ev.contains(&Event::AssistantText { text: "Let me check the failing test first.".into() }));
    assert!(ev.iter().any(|e| matches!(e,
        Event::ToolUse { id: Some(id), name, input }
            if id == "toolu_01AbC" && name == "Bash" && input["command"] == "cargo test -q 2>&1 | tail -5")));
    assert!(ev.contains(&Event::ToolResult {
        id: Some("toolu_01AbC".into()),
        output: "test result: FAILED. 11 passed; 1 failed".into(),
        is_error: false
    }));
    let n = ev.len();
    assert_eq!(ev[n - 2], Event::Usage { tokens_in: Some(12900), tokens_out: Some(310), cost_usd: Some(0.0213) });
    assert!(matches!(&ev[n - 1], Event::Result { success: true, text: Some(_), error: None }));
}

#[test]
fn claude_retries_are_informational() {
    let ev = events_of("fixtures/claude-overloaded.jsonl", Claude);
    let retries: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Retry { attempt, message } => Some((*attempt, message.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(retries.len(), 2);
    assert_eq!(retries[0].0, Some(1));
    assert!(retries[0].1.contains("HTTP 529, overloaded"), "{}", retries[0].1);
}

#[test]
fn claude_synthetic_error_text_is_not_assistant_output() {
    let ev = events_of("fixtures/claude-rate-limited.jsonl", Claude);
    assert!(!ev.iter().any(|e| matches!(e, Event::AssistantText { .. })));
    assert!(matches!(ev.last(), Some(Event::Result { success: false, error: Some(_), .. })));
}

#[test]
fn claude_partial_messages_are_dropped() {
    let ev = events_of("captures/mock-claude-partial.stdout", Claude);
    let texts: Vec<_> = ev.iter().filter(|e| matches!(e, Event::AssistantText { .. })).collect();
    assert_eq!(texts.len(), 1);
    // system/status is kept as Raw, stream_event is not.
    let raws = ev.iter().filter(|e| matches!(e, Event::Raw { .. })).count();
    assert_eq!(raws, 1);
}

#[test]
fn claude_denied_tool_result_is_an_error_event() {
    let ev = events_of("captures/mock-claude-toolw-default.stdout", Claude);
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::ToolResult { is_error: true, output, .. } if output.contains("was blocked"))));
}

#[test]
fn codex_reconnects_are_retries_not_failures() {
    let ev = events_of("fixtures/codex-auth-error.jsonl", Codex);
    let attempts: Vec<Option<u32>> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Retry { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, vec![Some(1), Some(2), Some(3), Some(4), Some(5)]);
    // The extra `error` right before turn.failed is a warning.
    assert_eq!(ev.iter().filter(|e| matches!(e, Event::Warning { .. })).count(), 1);
    assert!(matches!(ev.last(), Some(Event::Result { success: false, .. })));
}

#[test]
fn codex_items_become_tool_events() {
    let ev = events_of("fixtures/codex-success.jsonl", Codex);
    let tool_uses: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::ToolUse { name, input, .. } => Some((name.clone(), input.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(tool_uses.len(), 3, "{tool_uses:?}");
    assert_eq!(tool_uses[0].0, "shell");
    assert_eq!(tool_uses[0].1["command"], "/bin/bash -lc 'cargo test -q'");
    assert_eq!(tool_uses[1].0, "file_change");
    let results: Vec<bool> = ev
        .iter()
        .filter_map(|e| match e {
            Event::ToolResult { is_error, .. } => Some(*is_error),
            _ => None,
        })
        .collect();
    assert_eq!(results, vec![true, false]);
    assert!(ev.contains(&Event::Reasoning { text: "**Locating the failing test**".into() }));
}

#[test]
fn codex_error_item_is_a_warning() {
    let ev = events_of("fixtures/codex-transient-recovered.jsonl", Codex);
    assert!(ev.iter().any(|e| matches!(e, Event::Warning { message } if message.starts_with("Falling back"))));
    assert!(ev.iter().any(|e| matches!(e, Event::Retry { attempt: Some(1), .. })));
}

#[test]
fn codex_waiting_for_network_is_a_retry_without_attempt() {
    let ev = events_of("captures/run-codex-json-nonet.stdout", Codex);
    assert!(ev.iter().any(|e| matches!(e,
        Event::Retry { attempt: None, message } if message.starts_with("waiting for network"))));
}

#[test]
fn gemini_deltas_are_coalesced() {
    let ev = events_of("fixtures/gemini-success.jsonl", Gemini);
    let texts: Vec<&Event> = ev.iter().filter(|e| matches!(e, Event::AssistantText { .. })).collect();
    assert_eq!(
        texts,
        vec![&Event::AssistantText { text: "Fixed the sign error in `add`; the suite should pass now.".into() }]
    );
    // The user prompt echo is not an event.
    assert!(!ev.iter().any(|e| matches!(e, Event::Raw { .. })));
}

#[test]
fn gemini_tool_error_and_warning_are_non_fatal_events() {
    let ev = events_of("fixtures/gemini-tool-error-warning.jsonl", Gemini);
    assert!(ev.iter().any(|e| matches!(e, Event::ToolResult { is_error: true, .. })));
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::Warning { message } if message == "Loop detected, stopping execution")));
}
