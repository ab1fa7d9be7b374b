//! The codex and gemini harnesses (through the stand-ins) and user-defined `text` harnesses, end
//! to end: how the runner classifies what each prints and how it exits.
//!
//! The stand-ins print the real CLIs' failure shapes (codex: `turn.failed` with a 429 or 401
//! message, exit 1; gemini: a `result` with status error and exit 173, or nothing on stdout and
//! exit 41 when auth is missing), so these tests pin the whole path from stream to job record.

use crate::harness::{pair, types_and_statuses, Bench};
use serde_json::Value;

/// An assignment whose PM (the claude stand-in) completes it after one implement job, with that
/// job on `harness` carrying `context`; returns (assignment, job).
fn one_job_on(bench: &Bench, harness: &str, north_star: &str, context: &str) -> (String, String) {
    let a = bench.json(&["create", north_star]);
    let aid = a["id"].as_str().unwrap().to_string();
    let j = bench.json(&["insert-job", &aid, "--type", "implement", "--harness", harness, "--context", context]);
    (aid, j["id"].as_str().unwrap().to_string())
}

fn rate_limited_then_retried(flavour: &str) {
    let bench = Bench::new();
    let (aid, jid) = one_job_on(&bench, flavour, "Retry me @flow implement", "@fail-429-once");
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!((job["status"].as_str(), job["attempts"].as_i64()), (Some("complete"), Some(2)), "{job:#}");
    let history = job["attempt_history"].as_array().unwrap();
    assert_eq!(
        (history[0]["outcome"].as_str(), history[0]["error_kind"].as_str()),
        (Some("retrying"), Some("transient"))
    );
    let first_error = history[0]["error"].as_str().unwrap().to_lowercase();
    assert!(first_error.contains("rate limit"), "{flavour}: {first_error}");
    assert_eq!(history[1]["outcome"], "complete");
    assert_eq!(job["result"], "Done with implement (attempt 2).");
    assert_eq!(job["tokens_in"], 120);
    assert_eq!(job["cost_usd"], Value::Null, "{flavour} reports no cost");
    assert_eq!(bench.detail(&aid)["status"], "complete");
    // Both attempts really ran the harness asked for.
    let runs: Vec<Value> = bench.agent_runs().into_iter().filter(|r| r["job"] == jid.as_str()).collect();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r["flavour"] == flavour), "{runs:?}");
}

fn auth_failure_fails_at_once(flavour: &str, says: &str) {
    let bench = Bench::new();
    bench.config("max_attempts = 3\n");
    let (aid, jid) = one_job_on(&bench, flavour, "Auth @pm-silent", "@auth-fail");
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!((job["status"].as_str(), job["attempts"].as_i64()), (Some("failed"), Some(1)), "{job:#}");
    assert_eq!(job["error_kind"], "permanent");
    assert_eq!(job["success"], false);
    let error = job["error"].as_str().unwrap().to_lowercase();
    assert!(error.contains(says), "{flavour}: {error}");
    let detail = bench.detail(&aid);
    assert_eq!(types_and_statuses(&detail), vec![pair("implement", "failed"), pair("pm", "complete")]);
}

fn garbage_is_tolerated(flavour: &str) {
    let bench = Bench::new();
    let (_, jid) = one_job_on(&bench, flavour, "Garbage @flow implement", "@garbage");
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!(job["status"], "complete", "{job:#}");
    assert_eq!(job["result"], "Done with implement (attempt 1).");
    let kinds: Vec<Value> = bench
        .ok(&["logs", &jid, "--json"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["event"]["kind"].clone())
        .collect();
    for kind in ["malformed", "raw", "session_started", "assistant_text", "result"] {
        assert!(kinds.iter().any(|k| k == kind), "{flavour}: no {kind} event in {kinds:?}");
    }
    // The people's view renders the transcript too.
    let logs = bench.ok(&["logs", &jid]);
    assert!(logs.contains("Done with implement"), "{logs}");
}

#[test]
fn codex_rate_limited_then_retried() {
    rate_limited_then_retried("codex");
}

#[test]
fn gemini_rate_limited_then_retried() {
    rate_limited_then_retried("gemini");
}

#[test]
fn codex_auth_failure_fails_at_once() {
    auth_failure_fails_at_once("codex", "api key");
}

#[test]
fn gemini_auth_failure_fails_at_once() {
    // gemini prints nothing on stdout here: the message comes from its stderr and exit code 41.
    auth_failure_fails_at_once("gemini", "auth");
}

#[test]
fn codex_garbage_is_tolerated() {
    garbage_is_tolerated("codex");
}

#[test]
fn gemini_garbage_is_tolerated() {
    garbage_is_tolerated("gemini");
}

/// A deterministic gate as a `uat` job: a `text` harness whose command fails. Failing again
/// unchanged is certain, so it is not retried; the result is the end of what it printed.
#[test]
fn a_failing_text_gate_fails_the_job_permanently_with_its_output() {
    let bench = Bench::new();
    bench.config(
        "max_attempts = 3\n\
         [harness.tests]\n\
         format = \"text\"\n\
         command = [\"sh\", \"-c\", \"seq 1 3000; echo \\\"mode $GATE_MODE: 2 tests failed\\\"; exit 1\"]\n\
         env = { GATE_MODE = \"strict\" }\n",
    );
    let a = bench.json(&["create", "Gate @pm-silent"]);
    let aid = a["id"].as_str().unwrap();
    let j = bench.json(&["insert-job", aid, "--type", "uat", "--harness", "tests"]);
    let jid = j["id"].as_str().unwrap();
    bench.run_until_idle(&[]);
    let job = bench.job(jid);
    assert_eq!((job["status"].as_str(), job["attempts"].as_i64()), (Some("failed"), Some(1)), "{job:#}");
    assert_eq!((job["error_kind"].as_str(), job["exit_code"].as_i64()), (Some("permanent"), Some(1)));
    assert_eq!(job["cost_usd"], Value::Null);
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("2 tests failed"), "the error names the last line: {error}");
    // The result is the last 4 KiB of stdout, whole lines from the end: the early numbers are gone.
    let result = job["result"].as_str().unwrap();
    assert!(result.len() <= 4096 && result.len() > 3000, "{}", result.len());
    assert!(result.ends_with("2999\n3000\nmode strict: 2 tests failed"), "{result}");
    assert!(!result.contains("\n10\n11\n"), "only the tail is kept");
    // The PM still runs and sees the failure.
    assert_eq!(types_and_statuses(&bench.detail(aid)), vec![pair("uat", "failed"), pair("pm", "complete")]);
}

#[test]
fn a_passing_text_gate_completes_with_its_output() {
    let bench = Bench::new();
    bench.config("[harness.tests]\nformat = \"text\"\ncommand = [\"sh\", \"-c\", \"echo all 12 tests passed\"]\n");
    let a = bench.json(&["create", "Gate @flow uat"]);
    let aid = a["id"].as_str().unwrap();
    let j = bench.json(&["insert-job", aid, "--type", "uat", "--harness", "tests"]);
    bench.run_until_idle(&[]);
    let job = bench.job(j["id"].as_str().unwrap());
    assert_eq!(job["status"], "complete", "{job:#}");
    assert_eq!(job["result"], "all 12 tests passed");
    assert_eq!(bench.detail(aid)["status"], "complete");
}

/// `{prompt_file}` in a command becomes the path of a file holding the rendered prompt, for
/// tools that want a file; the file is gone once the job ends.
#[test]
fn prompt_file_is_substituted_with_a_file_holding_the_prompt() {
    let bench = Bench::new();
    bench.config(
        "[harness.filetool]\n\
         format = \"text\"\n\
         command = [\"sh\", \"-c\", \"echo \\\"path=$1\\\"; cat \\\"$1\\\" </dev/null\", \"filetool\", \"{prompt_file}\"]\n",
    );
    let a = bench.json(&["create", "Prompt file @pm-silent"]);
    let aid = a["id"].as_str().unwrap();
    let marker = "context-marker-7f3a: use the v2 API";
    let j = bench.json(&["insert-job", aid, "--type", "chat", "--harness", "filetool", "--context", marker]);
    bench.run_until_idle(&[]);
    let job = bench.job(j["id"].as_str().unwrap());
    assert_eq!(job["status"], "complete", "{job:#}");
    let result = job["result"].as_str().unwrap();
    assert!(result.contains(marker), "the file held the rendered prompt: {result}");
    let path = result.lines().next().and_then(|l| l.strip_prefix("path=")).expect("the path line");
    assert!(!path.contains("{prompt_file}") && path.starts_with('/'), "{path}");
    assert!(!std::path::Path::new(path).exists(), "the prompt file is removed after the job");
}

#[test]
fn claude_gets_the_budget_left_and_its_budget_stop_blocks_the_assignment_without_a_pm() {
    let bench = Bench::new();
    let a = bench.json(&["create", "Spend carefully @flow implement", "--budget-usd", "0.50"]);
    let aid = a["id"].as_str().unwrap().to_string();
    let j =
        bench.json(&["insert-job", &aid, "--type", "implement", "--harness", "claude", "--context", "@over-budget"]);
    let jid = j["id"].as_str().unwrap().to_string();
    bench.run_until_idle(&[]);
    let run = bench.agent_runs().into_iter().find(|r| r["job"] == jid.as_str()).expect("the job ran");
    let argv: Vec<&str> = run["argv"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(argv.windows(2).any(|w| w == ["--max-budget-usd", "0.500000"]), "{argv:?}");
    let job = bench.job(&jid);
    assert_eq!((job["status"].as_str(), job["error_kind"].as_str()), (Some("failed"), Some("permanent")), "{job:#}");
    let detail = bench.detail(&aid);
    assert_eq!(detail["status"], "blocked");
    assert_eq!(detail["reason"], "budget $0.50 reached ($0.50 spent)");
    assert_eq!(types_and_statuses(&detail), vec![pair("implement", "failed")], "no PM spends more");
}
