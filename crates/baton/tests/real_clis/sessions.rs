//! Sessions that carry over, on the real CLIs against the mock API: a continued job sends the
//! model the earlier job's conversation (the mock sees the first job's words in the second job's
//! request) in the same session; a fork leaves the source session as it was; a session the CLI
//! does not know falls back to a fresh one with the reason recorded; `--model` reaches the
//! request.

use crate::bench::{Cli, RealBench};
use serde_json::Value;

/// Words that mark each job's prompt, so the mock's requests can be told apart.
const FIRST: &str = "marker-alpha-7731";
const SECOND: &str = "marker-beta-7732";
const THIRD: &str = "marker-gamma-7733";

/// Creates an assignment whose first implement job carries `FIRST` and runs it. Its PM (a text
/// harness) decides nothing, so the assignment waits for the test's next job.
pub fn first_job(real: &RealBench) -> (String, String) {
    let a = real.json(&["create", "Sessions that carry over"]);
    let aid = a["id"].as_str().unwrap().to_string();
    let j = real.json(&["insert-job", &aid, "--type", "implement", "--harness", real.cli.name(), "--context", FIRST]);
    let jid = j["id"].as_str().unwrap().to_string();
    real.run_until_idle();
    assert_eq!(real.job(&jid)["status"], "complete", "{}", real.explain(&jid));
    (aid, jid)
}

/// Queues a job with `extra` flags and context `marker`, resumes the assignment and runs it.
pub fn next_job(real: &RealBench, aid: &str, extra: &[&str], marker: &str) -> Value {
    let mut args = vec!["insert-job", aid, "--context", marker];
    args.extend_from_slice(extra);
    if !extra.contains(&"--type") {
        args.extend(["--type", "implement"]);
    }
    let j = real.json(&args);
    let jid = j["id"].as_str().unwrap().to_string();
    real.ok(&["update-assignment", aid, "--status", "active"]);
    real.run_until_idle();
    real.job(&jid)
}

/// The request bodies (as JSON text) that hold `marker`.
pub fn requests_with(real: &RealBench, marker: &str) -> Vec<String> {
    real.mock.bodies().iter().map(Value::to_string).filter(|b| b.contains(marker)).collect()
}

fn continues(cli: Cli) {
    let real = RealBench::start(cli, "ok");
    let (aid, first) = first_job(&real);
    let source = real.job(&first);
    let job = next_job(&real, &aid, &["--continue", &first], SECOND);
    let jid = job["id"].as_str().unwrap();
    let explain = || real.explain(jid);
    assert_eq!(job["status"], "complete", "{}", explain());
    assert_eq!(job["session_mode"], "continued", "{}", explain());
    assert!(job["session_fallback_reason"].is_null(), "{}", explain());
    assert_eq!(job["session_id"], source["session_id"], "the same session: {}", explain());
    let second = requests_with(&real, SECOND);
    assert!(!second.is_empty(), "{}", explain());
    assert!(second.iter().all(|b| b.contains(FIRST)), "the earlier conversation was sent again: {}", explain());
    if cli == Cli::Codex {
        // codex reports the thread's usage from its start; baton records the job's own share.
        assert_eq!(job["tokens_in"], source["tokens_in"], "one turn each: {}", explain());
    }
    real.done();
}

fn forks(cli: Cli) {
    let real = RealBench::start(cli, "ok");
    let (aid, first) = first_job(&real);
    let source = real.job(&first);
    let fork = next_job(&real, &aid, &["--fork", &first], SECOND);
    let fid = fork["id"].as_str().unwrap().to_string();
    assert_eq!(fork["status"], "complete", "{}", real.explain(&fid));
    assert_eq!(fork["session_mode"], "forked", "{}", real.explain(&fid));
    assert_ne!(fork["session_id"], source["session_id"], "a session of its own: {}", real.explain(&fid));
    assert!(requests_with(&real, SECOND).iter().all(|b| b.contains(FIRST)), "{}", real.explain(&fid));
    if cli == Cli::Codex {
        // A codex fork, too, reports usage from the thread's start: the job's own share is kept.
        assert_eq!(fork["tokens_in"], source["tokens_in"], "one turn each: {}", real.explain(&fid));
    }
    // The source session is as it was: continuing it now shows the first turn, not the fork's.
    let again = next_job(&real, &aid, &["--continue", &first], THIRD);
    let gid = again["id"].as_str().unwrap().to_string();
    assert_eq!(again["session_mode"], "continued", "{}", real.explain(&gid));
    let third = requests_with(&real, THIRD);
    assert!(!third.is_empty(), "{}", real.explain(&gid));
    assert!(third.iter().all(|b| b.contains(FIRST) && !b.contains(SECOND)), "{}", real.explain(&gid));
    real.done();
}

fn unknown_session_falls_back(cli: Cli, words: &str) {
    let real = RealBench::start(cli, "ok");
    let (aid, first) = first_job(&real);
    forget_session(&real, &first);
    let job = next_job(&real, &aid, &["--continue", &first], SECOND);
    let jid = job["id"].as_str().unwrap();
    let explain = || real.explain(jid);
    assert_eq!(job["status"], "complete", "{}", explain());
    assert_eq!(job["attempts"], 1, "no retry charged: {}", explain());
    assert_eq!(job["session_mode"], "fresh", "{}", explain());
    let reason = job["session_fallback_reason"].as_str().unwrap_or_default();
    assert!(reason.contains(words), "{reason}: {}", explain());
    // The fresh session got the handoff: the source job's result.
    let prompt = real.ok(&["job", jid, "--prompt"]);
    assert!(prompt.contains(&format!("Handoff from job {first}")), "{prompt}");
    real.done();
}

/// Points job `id` at a session its CLI never had.
fn forget_session(real: &RealBench, id: &str) {
    let db = real.bench.sandbox.dir.path().join("data/baton.db");
    let script = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); \
                  c.execute(\"UPDATE jobs SET session_id = '00000000-0000-4000-8000-000000000000' WHERE id = ?\", \
                  (sys.argv[2],)); c.commit()";
    let out = std::process::Command::new("python3").args(["-c", script]).arg(&db).arg(id).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn model_reaches_the_request(cli: Cli, model: &str, effort: Option<&str>) {
    let real = RealBench::start(cli, "ok");
    let a = real.json(&["create", "Pick a model"]);
    let aid = a["id"].as_str().unwrap().to_string();
    let mut args = vec!["insert-job", &aid, "--type", "chat", "--harness", cli.name(), "--context", FIRST];
    args.extend(["--model", model]);
    if let Some(effort) = effort {
        args.extend(["--effort", effort]);
    }
    let j = real.json(&args);
    let jid = j["id"].as_str().unwrap().to_string();
    real.run_until_idle();
    let job = real.job(&jid);
    assert_eq!(job["status"], "complete", "{}", real.explain(&jid));
    assert_eq!(job["model"], model);
    let bodies: Vec<Value> = real.mock.bodies().into_iter().filter(|b| b.to_string().contains(FIRST)).collect();
    assert!(!bodies.is_empty(), "{}", real.explain(&jid));
    for b in &bodies {
        // gemini names the model in the path, the others in the body.
        let named = b["body"]["model"] == model || b["path"].as_str().is_some_and(|p| p.contains(model));
        assert!(named, "{} asked for {} at {}", cli.name(), b["body"]["model"], b["path"]);
        let sent_effort = match cli {
            Cli::Claude => &b["body"]["output_config"]["effort"],
            Cli::Codex => &b["body"]["reasoning"]["effort"],
            Cli::Gemini => &Value::Null,
        };
        assert_eq!(sent_effort.as_str(), effort, "{} sent effort {sent_effort}", cli.name());
    }
    real.done();
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn claude_continue() {
    continues(Cli::Claude);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn codex_continue() {
    continues(Cli::Codex);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn gemini_continue() {
    continues(Cli::Gemini);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn claude_fork() {
    forks(Cli::Claude);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn codex_fork() {
    forks(Cli::Codex);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn claude_unknown_session() {
    unknown_session_falls_back(Cli::Claude, "No conversation found");
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn codex_unknown_session() {
    unknown_session_falls_back(Cli::Codex, "no rollout found");
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn gemini_unknown_session() {
    unknown_session_falls_back(Cli::Gemini, "Invalid session identifier");
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn claude_model() {
    // A current model id that takes an effort: claude 2.1.197 replaces retired ids with their
    // successor, and sends no effort for models without one (haiku).
    model_reaches_the_request(Cli::Claude, "claude-sonnet-5", Some("high"));
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn codex_model() {
    model_reaches_the_request(Cli::Codex, "gpt-5.1-codex-mini", Some("low"));
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn gemini_model() {
    model_reaches_the_request(Cli::Gemini, "gemini-2.5-pro", None);
}
