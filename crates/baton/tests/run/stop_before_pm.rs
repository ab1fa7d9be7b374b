//! A cancelled job's agent is gone before the PM that follows the cancel starts: the assignment
//! stays busy while the runner stops the agent, so the PM's start-up commit of what the stopped
//! attempt left catches all of it, and no two processes of one assignment ever run at once.

use crate::harness::{alive, git, Bench};
use serde_json::Value;
use std::path::PathBuf;

#[test]
fn the_pm_after_a_cancel_starts_only_once_the_stopped_agent_is_gone() {
    the_pm_waits_for_the_stopped_agent(&Bench::new(), None);
}

/// The runner keeps the stop's lease while the agent exits: a lease shorter than the stop does
/// not free the assignment early.
#[test]
fn a_stop_longer_than_the_lease_still_holds_the_assignment() {
    let bench = Bench::new();
    bench.config("lease_ms = 600\n");
    the_pm_waits_for_the_stopped_agent(&bench, Some(600));
}

#[test]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
fn on_postgres_the_pm_after_a_cancel_starts_only_once_the_stopped_agent_is_gone() {
    let (bench, _db) = crate::postgres::postgres_bench();
    the_pm_waits_for_the_stopped_agent(&bench, None);
}

/// Cancels a `@linger` agent and checks the assignment waits for it; with `lease_ms`, first
/// waits until the lease the job held at the cancel has run out.
fn the_pm_waits_for_the_stopped_agent(bench: &Bench, lease_ms: Option<i64>) {
    let (aid, jid) = bench.assignment("Stop me slowly", "implement", "@linger");
    let mut runner = bench.spawn_runner(&[]);
    let state = bench.path("state");
    bench.wait_for("the agent to trap its stop", || state.join("linger-pid").exists());
    let pid: i32 = std::fs::read_to_string(state.join("linger-pid")).unwrap().trim().parse().unwrap();
    let said = bench.ok(&["cancel-job", &jid]);
    assert!(said.contains("its runner stops the agent"), "{said}");
    assert!(said.contains("starts once the agent is gone"), "{said}");

    // The agent keeps writing in the worktree after its stop...
    let tree = PathBuf::from(bench.detail(&aid)["worktree"].as_str().unwrap().to_string());
    let lingered = || std::fs::read_to_string(tree.join("lingered.txt")).unwrap_or_default();
    bench.wait_for("the stopped agent to go on writing", || lingered().lines().count() >= 3);
    if let Some(lease_ms) = lease_ms {
        let held_until = bench.job(&jid)["lease_expires_at"].as_str().map(str::to_string);
        let at_cancel = std::time::Instant::now();
        bench.wait_for("the lease held at the cancel to run out", || {
            at_cancel.elapsed() > std::time::Duration::from_millis(2 * lease_ms as u64)
                && bench.job(&jid)["lease_expires_at"].as_str().map(str::to_string) != held_until
        });
    }
    // ...and meanwhile the job holds its assignment: the PM waits, and the queue says why.
    let job = bench.job(&jid);
    assert_eq!(job["status"], "cancelled");
    assert!(job["runner"].is_string(), "the runner has not confirmed the stop yet: {job}");
    assert!(bench.ok(&["job", &jid]).contains("stopping the agent"), "the text view says so");
    let queue = bench.json(&["queue"]);
    assert_eq!(queue["ready_total"], 0, "the PM is not ready while the agent stops: {queue}");
    assert_eq!(queue["stopping"][0]["id"], jid.as_str(), "{queue}");
    assert!(bench.ok(&["queue"]).contains("stopping"), "the text view shows the stop in progress");
    let pm_id = bench.detail(&aid)["jobs"][1]["id"].as_str().unwrap().to_string();
    assert_eq!(bench.job(&pm_id)["status"], "pending");
    // Everything above held while the agent was still stopping (it has not finished yet).
    assert!(
        alive(pid) && !state.join("linger-done").exists(),
        "the checks above took longer than the agent lingers after its stop (4.5 s)"
    );
    std::fs::write(state.join("linger-release"), "").unwrap();

    bench.wait_for("the PM to decide", || bench.detail(&aid)["status"] != "active");
    runner.kill().unwrap();
    runner.wait().unwrap();
    let seen: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join(format!("pm-start-{pm_id}.json"))).unwrap()).unwrap();
    assert_eq!(seen, serde_json::json!({"linger_alive": false, "linger_done": true}), "what the PM's first line saw");
    // The commit of what the stopped attempt left, made before the PM started, holds all of it.
    let leftover = git(&tree, &["log", "-1", "--format=%B", "main..HEAD", "--", "lingered.txt"]);
    assert!(
        leftover.contains(&format!("Baton-Job: {jid}")),
        "the cancelled job's commit: {leftover:?}\nstatus: {}\nbranch: {}\nhistory: {}\nthe PM: {}",
        git(&tree, &["status", "--porcelain"]),
        git(&tree, &["log", "--stat", "--format=%h %s%n%b", "main..HEAD"]),
        bench.detail(&aid)["history"],
        bench.job(&pm_id)
    );
    let committed = git(&tree, &["show", &format!("{}:lingered.txt", git_first_commit_of(&tree, "lingered.txt"))]);
    assert!(committed.ends_with("last line\n"), "the agent's last write is in its commit: {committed}");
    let history = bench.detail(&aid)["history"].to_string();
    assert!(history.contains("agent stopped after the cancel"), "{history}");
}

/// The first commit since `main` that touched `path`.
fn git_first_commit_of(tree: &std::path::Path, path: &str) -> String {
    let log = git(tree, &["log", "--reverse", "--format=%H", "main..HEAD", "--", path]);
    log.lines().next().unwrap_or_default().to_string()
}
