//! The real CLIs inside baton's bubblewrap sandbox (`sandbox = "bwrap"`), against the mock
//! model: the implement job's shell tool edits its worktree, and the PM — the same CLI —
//! decides through baton, over its attempt's socket, with no database in sight.

use crate::bench::{Cli, RealBench, Setup};

/// Every job's shell command: leave a file in the job's folder, and as the PM complete the
/// assignment; it also tries to open the database's folder, which the sandbox hides.
const COMMAND: &str = "echo \"work of $BATON_JOB_ID\" > created-in-sandbox.txt; \
    if [ \"$BATON_JOB_TYPE\" = pm ]; then baton update-assignment \"$BATON_ASSIGNMENT_ID\" --status complete; fi";

fn implements_and_decides_inside_bwrap(cli: Cli) {
    baton_testkit::bwrap();
    let setup = Setup {
        tool_command: Some(COMMAND.to_string()),
        pm_harness: Some(cli.name()),
        sandbox: true,
        ..Setup::default()
    };
    let real = RealBench::start_with(cli, "toolw", setup);
    let (aid, jid) = real.assignment("implement", cli.name());
    real.run_until_idle();
    let detail = real.json(&["assignment", &aid]);
    let jobs = detail["jobs"].as_array().unwrap();
    let pm = jobs.iter().find(|j| j["type"] == "pm").expect("a PM job was queued");
    let pm_id = pm["id"].as_str().unwrap();
    let explain = || format!("{detail:#}{}{}", real.explain(&jid), real.explain(pm_id));
    assert_eq!(jobs[0]["status"], "complete", "{}", explain());
    assert_eq!(detail["status"], "complete", "the PM decided through baton: {}", explain());
    let actor = format!("job:{pm_id}");
    assert!(detail["history"].as_array().unwrap().iter().any(|h| h["actor"] == actor.as_str()), "{}", explain());
    // The implement job's edit is on the assignment's branch.
    let worktree = real.bench.sandbox.repo().join(".baton/worktrees").join(&aid);
    let shown = std::process::Command::new("git")
        .arg("-C")
        .arg(&worktree)
        .args(["show", "HEAD~1:created-in-sandbox.txt"])
        .output()
        .unwrap();
    let first = String::from_utf8_lossy(&shown.stdout);
    assert!(
        first.contains(&format!("work of {jid}"))
            || std::fs::read_to_string(worktree.join("created-in-sandbox.txt")).is_ok(),
        "the implement job's file: {first}{}",
        explain()
    );
    real.done();
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN) and bubblewrap"]
fn bwrap_claude_implements_and_its_pm_decides_inside_the_sandbox() {
    implements_and_decides_inside_bwrap(Cli::Claude);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN) and bubblewrap"]
fn bwrap_codex_implements_and_its_pm_decides_inside_the_sandbox() {
    implements_and_decides_inside_bwrap(Cli::Codex);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN) and bubblewrap"]
fn bwrap_gemini_implements_and_its_pm_decides_inside_the_sandbox() {
    implements_and_decides_inside_bwrap(Cli::Gemini);
}
