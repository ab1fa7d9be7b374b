//! One baton job per CLI and mock mode: `ok` (a plain answer), `toolw` (the model has the CLI's
//! shell tool create a file) and `429` (every request is rate limited).

use crate::bench::{Cli, RealBench};
use serde_json::Value;

/// What the mock answers in `ok` mode (and after a tool call in `toolw` mode).
const MOCK_TEXT: &str = "Hello from the mock.";

/// `ok`: complete, with the mock's text, the CLI's session id and tokens; a cost only for claude.
fn answers(cli: Cli) {
    let real = RealBench::start(cli, "ok");
    let (_, jid) = real.assignment("implement", cli.name());
    real.run_until_idle();
    let job = real.job(&jid);
    let explain = || real.explain(&jid);
    assert_eq!(job["status"], "complete", "{}", explain());
    assert_eq!((job["attempts"].as_i64(), job["exit_code"].as_i64()), (Some(1), Some(0)), "{}", explain());
    assert_eq!(job["result"], MOCK_TEXT, "{}", explain());
    assert_eq!(job["success"], true);
    assert!(job["error"].is_null() && job["error_kind"].is_null(), "{}", explain());

    // The session id is the one the CLI announced first in its stream.
    let events = real.events(&jid);
    let announced = events.iter().find(|e| e["kind"] == "session_started").map(|e| e["session_id"].clone());
    let session = job["session_id"].as_str().unwrap_or_default();
    assert!(session.len() >= 16, "a session id: {}", explain());
    assert_eq!(announced, Some(Value::from(session)), "{}", explain());

    for key in ["tokens_in", "tokens_out"] {
        assert!(job[key].as_u64().is_some_and(|n| n > 0), "{key} recorded: {}", explain());
    }
    if cli.reports_cost() {
        assert!(job["cost_usd"].as_f64().is_some_and(|c| c > 0.0), "claude prices the tokens: {}", explain());
    } else {
        assert!(job["cost_usd"].is_null(), "{} reports no cost, and baton invents none: {}", cli.name(), explain());
    }
    assert!(events.iter().any(|e| e["kind"] == "assistant_text"), "{}", explain());
    real.done();
}

/// `toolw`: the CLI's own shell tool ran in the job's working directory (the assignment's
/// worktree) and the job completed with the text the model gave after the tool result.
fn runs_its_tool(cli: Cli) {
    let real = RealBench::start(cli, "toolw");
    let (aid, jid) = real.assignment("implement", cli.name());
    real.run_until_idle();
    let job = real.job(&jid);
    let explain = || real.explain(&jid);
    assert_eq!(job["status"], "complete", "{}", explain());
    assert_eq!(job["result"], MOCK_TEXT, "{}", explain());

    let detail = real.json(&["assignment", &aid]);
    let worktree = std::path::PathBuf::from(detail["worktree"].as_str().expect("the job ran in a worktree"));
    assert!(worktree.join(cli.toolw_file()).is_file(), "{} in {}: {}", cli.toolw_file(), worktree.display(), explain());
    assert!(!real.bench.sandbox.repo().join(cli.toolw_file()).exists(), "the checkout itself is untouched");
    // The CLI did not commit; baton's checkpoint did, on the assignment's branch.
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").arg("-C").arg(&worktree).args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let committed = git(&["log", "--format=%B", "--name-only", "main..HEAD"]);
    assert!(committed.contains(cli.toolw_file()), "the tool's file is committed: {committed}\n{}", explain());
    assert!(committed.contains(&format!("Baton-Job: {jid}")), "by baton's checkpoint: {committed}");
    assert_eq!(git(&["status", "--porcelain"]), "", "nothing left uncommitted: {}", explain());

    // The transcript shows the tool call and its successful result.
    let events = real.events(&jid);
    assert!(
        events.iter().any(|e| e["kind"] == "tool_use" && e["input"].to_string().contains(cli.toolw_file())),
        "a tool_use event: {}",
        explain()
    );
    assert!(events.iter().any(|e| e["kind"] == "tool_result" && e["is_error"] == false), "{}", explain());
    real.done();
}

/// `429`: every attempt is rate limited; baton retries (max_attempts = 2) and then records a
/// transient failure whose message says it was a rate limit.
fn is_rate_limited(cli: Cli) {
    let real = RealBench::start(cli, "429");
    let (_, jid) = real.assignment("implement", cli.name());
    real.run_until_idle();
    let job = real.job(&jid);
    let explain = || real.explain(&jid);
    assert_eq!(job["status"], "failed", "{}", explain());
    assert_eq!(job["error_kind"], "transient", "{}", explain());
    assert_eq!(job["attempts"], 2, "retried up to max_attempts: {}", explain());
    let history = job["attempt_history"].as_array().unwrap();
    assert_eq!(history[0]["outcome"], "retrying", "{}", explain());
    assert_eq!(history[0]["error_kind"], "transient", "{}", explain());
    let error = job["error"].as_str().unwrap_or_default().to_lowercase();
    assert!(error.contains("rate limit"), "the error says it was a rate limit: {}", explain());
    assert_eq!(job["success"], false);
    assert_ne!(job["exit_code"], 0, "{}", explain());
    real.done();
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn claude_ok() {
    answers(Cli::Claude);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn claude_toolw() {
    runs_its_tool(Cli::Claude);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn claude_429() {
    is_rate_limited(Cli::Claude);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn codex_ok() {
    answers(Cli::Codex);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn codex_toolw() {
    runs_its_tool(Cli::Codex);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn codex_429() {
    is_rate_limited(Cli::Codex);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn gemini_ok() {
    answers(Cli::Gemini);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn gemini_toolw() {
    runs_its_tool(Cli::Gemini);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn gemini_429() {
    is_rate_limited(Cli::Gemini);
}
