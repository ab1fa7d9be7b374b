//! PM jobs on the real CLIs: the mock has the model run `baton update-assignment … --status
//! complete` through the CLI's shell tool, so the assignment completes only if the agent's bare
//! `baton` is found on PATH and reaches its runner's socket with the job identity the runner
//! gave it.
//!
//! codex is the hard case: its shell tool runs inside its `workspace-write` sandbox, and it used
//! a login shell that rebuilt PATH without baton's folder. The call only works because baton
//! turns login shells off, adds the socket's folder to the sandbox's writable roots and allows
//! network access (codex's seccomp filter refuses `connect` on a Unix socket too without it)
//! with `-c` overrides — these tests are the proof that codex 0.171 accepts those keys and that
//! they have the effect baton relies on.

use crate::bench::{Cli, RealBench, Setup};

/// The PM's shell command. It first tries to write outside every writable root (the sandbox's
/// HOME) — that must fail, or the test would prove nothing about the database folder — and then
/// decides through baton, with the job identity the runner put in its environment.
const PM_COMMAND: &str =
    "touch \"$HOME/written-outside-the-sandbox\" 2>/dev/null; baton update-assignment \"$BATON_ASSIGNMENT_ID\" --status complete";

/// By default workspace-write also lets the agent write /tmp and $TMPDIR, where the test's
/// database lives; without them only the workspace and baton's writable roots are writable.
fn confine_to_writable_roots() -> Vec<String> {
    ["sandbox_workspace_write.exclude_slash_tmp=true", "sandbox_workspace_write.exclude_tmpdir_env_var=true"]
        .iter()
        .flat_map(|kv| ["-c".to_string(), kv.to_string()])
        .collect()
}

/// Runs an implement job (a `text` harness that succeeds) and its PM on codex; checks the PM's
/// own `baton` call completed the assignment.
fn pm_completes_through_baton(real: &RealBench) {
    let (aid, jid) = real.assignment("implement", "quiet");
    real.run_until_idle();
    let detail = real.json(&["assignment", &aid]);
    let jobs = detail["jobs"].as_array().unwrap();
    let pm = jobs.iter().find(|j| j["type"] == "pm").expect("a PM job was queued");
    let pm_id = pm["id"].as_str().unwrap();
    let explain = || format!("{detail:#}{}", real.explain(pm_id));
    assert_eq!(jobs[0]["id"], jid.as_str());
    assert_eq!(
        (pm["harness"].as_str(), pm["status"].as_str()),
        (Some(real.cli.name()), Some("complete")),
        "{}",
        explain()
    );
    assert_eq!(pm["result"], "Hello from the mock.", "{}", explain());
    // Decided by the PM itself — not blocked by the engine for want of a decision.
    assert_eq!(detail["status"], "complete", "{}", explain());
    let actor = format!("job:{pm_id}");
    assert!(detail["history"].as_array().unwrap().iter().any(|h| h["actor"] == actor.as_str()), "{}", explain());
    let events = real.events(pm_id);
    assert!(
        events.iter().any(|e| e["kind"] == "tool_result" && e["is_error"] == false),
        "the baton call succeeded inside codex: {}",
        explain()
    );
}

/// Without codex's sandbox: only PATH and the job identity matter.
fn pm_on(cli: Cli) {
    let decide = "baton update-assignment \"$BATON_ASSIGNMENT_ID\" --status complete";
    let setup = Setup { tool_command: Some(decide.to_string()), pm_harness: Some(cli.name()), ..Setup::default() };
    let real = RealBench::start_with(cli, "toolw", setup);
    pm_completes_through_baton(&real);
    real.done();
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn a_claude_pm_decides_through_baton() {
    pm_on(Cli::Claude);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn a_gemini_pm_decides_through_baton() {
    pm_on(Cli::Gemini);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn a_codex_pm_decides_through_baton_on_sqlite() {
    let setup = Setup {
        tool_command: Some(PM_COMMAND.to_string()),
        pm_harness: Some("codex"),
        extra_args: confine_to_writable_roots(),
        ..Setup::default()
    };
    let real = RealBench::start_with(Cli::Codex, "toolw", setup);
    pm_completes_through_baton(&real);
    let outside = real.bench.sandbox.dir.path().join("home/written-outside-the-sandbox");
    assert!(!outside.exists(), "codex's sandbox let the agent write outside its writable roots");
    real.done();
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN) and PostgreSQL (BATON_TEST_POSTGRES_URL)"]
fn a_codex_pm_decides_through_baton_on_postgres() {
    let setup = Setup {
        tool_command: Some(PM_COMMAND.to_string()),
        pm_harness: Some("codex"),
        extra_args: confine_to_writable_roots(),
        postgres_admin_url: Some(baton_testkit::postgres_url()),
        ..Setup::default()
    };
    let real = RealBench::start_with(Cli::Codex, "toolw", setup);
    pm_completes_through_baton(&real);
    real.done();
}

/// The decision protocol on the real claude CLI: its PM runs two inserts in one Bash call (the
/// first with a quoted heredoc); the first is queued, the second refused, and the refusal is in
/// the tool result the model saw. A later PM completes the assignment.
#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn a_claude_pm_that_inserts_twice_gets_one_job_and_sees_the_refusal() {
    // The marker is an empty folder in the worktree (git commits no empty folder): the
    // sandbox's /tmp is each attempt's own.
    let decide = "if mkdir .probed-by-the-first-pm 2>/dev/null; then \
        baton insert-job \"$BATON_ASSIGNMENT_ID\" --type review --harness quiet --context-file - <<'EOF'\n\
        Check `parse()`; keep $HOME literal.\n\
        EOF\n\
        baton insert-job \"$BATON_ASSIGNMENT_ID\" --type implement --harness quiet --context second; \
        else baton update-assignment \"$BATON_ASSIGNMENT_ID\" --status complete; fi";
    let setup = Setup { tool_command: Some(decide.to_string()), pm_harness: Some("claude"), ..Setup::default() };
    let real = RealBench::start_with(Cli::Claude, "toolw", setup);
    let (aid, _) = real.assignment("implement", "quiet");
    real.run_until_idle();
    let detail = real.json(&["assignment", &aid]);
    let jobs = detail["jobs"].as_array().unwrap();
    let types: Vec<&str> = jobs.iter().map(|j| j["type"].as_str().unwrap()).collect();
    let pm_id = jobs[1]["id"].as_str().unwrap();
    let explain = || format!("{detail:#}{}", real.explain(pm_id));
    assert_eq!(types, ["implement", "pm", "review", "pm"], "one job queued: {}", explain());
    assert_eq!(jobs[2]["context"], "Check `parse()`; keep $HOME literal.\n", "byte for byte: {}", explain());
    assert_eq!(jobs[1]["decision"], format!("queued review {}", jobs[2]["id"].as_str().unwrap()));
    let refusal = format!("job {pm_id} already decided");
    let events = real.events(pm_id);
    assert!(
        events.iter().any(|e| e["kind"] == "tool_result" && e.to_string().contains(&refusal)),
        "the model saw the refusal in its tool result: {}",
        explain()
    );
    assert_eq!(detail["status"], "complete", "{}", explain());
    real.done();
}
