//! The runner's upkeep with real git: with a retention policy set, a running runner removes an
//! old merged worktree without anyone calling `baton gc`, keeps unmerged work, and stores the
//! disk use it measured, which `baton queue` shows with its age, a warning over the configured
//! size, and a hint while finished worktrees stay with no policy set.

use crate::harness::Bench;
use std::path::Path;
use std::process::Stdio;

#[test]
fn a_runner_with_a_policy_removes_an_old_merged_worktree_by_itself() {
    let bench = Bench::new();
    let (empty, _) = bench.assignment("Nothing to keep @flow implement", "implement", "");
    let (unmerged, _) = bench.assignment("Keep me @flow implement", "implement", "@write work.txt precious");
    bench.run_until_idle(&["--concurrency", "2"]);
    let tree = |aid: &str| bench.detail(aid)["worktree"].as_str().unwrap_or_default().to_string();
    let (empty_tree, unmerged_tree) = (tree(&empty), tree(&unmerged));
    assert!(Path::new(&empty_tree).exists());
    // No policy: queue hints that finished worktrees stay.
    let queue = bench.ok(&["queue"]);
    assert!(queue.contains("hint: 2 finished assignment(s) keep their worktrees"), "{queue}");
    assert!(queue.contains("worktrees = \"merged\" or finished_after = \"14d\""), "the hint names the keys: {queue}");
    assert_eq!(bench.json(&["queue"])["disk_use"]["finished_worktrees_without_policy"], 2);

    // A tiny warning size, so the measured worktrees exceed it.
    bench.config("[retention]\nworktrees_after = \"1s\"\nwarn_worktrees_gib = 0.000000001\n");
    // Two runners on one host: the upkeep lease lets one of them do each pass.
    let mut runners: Vec<_> = (0..2)
        .map(|_| {
            bench
                .cmd(&["run"])
                .env("BATON_GC_INTERVAL_MS", "100")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    bench.wait_for("the runner's upkeep to remove the merged worktree", || !Path::new(&empty_tree).exists());
    assert!(Path::new(&unmerged_tree).join("work.txt").exists(), "unmerged work is kept");
    bench.wait_for("the assignment to show its worktree gone", || bench.detail(&empty)["worktree"].is_null());
    bench.wait_for("the measured disk use", || {
        bench.json(&["queue"])["disk_use"]["hosts"].as_array().is_some_and(|h| h.len() == 1)
    });
    let disk = bench.json(&["queue"])["disk_use"].clone();
    assert!(disk["hosts"][0]["measured_at"].as_i64().is_some_and(|t| t > 0), "{disk:#}");
    assert!(disk["hosts"][0]["database_bytes"].as_u64().is_some_and(|b| b > 0), "{disk:#}");
    assert_eq!(disk["worktrees_over_limit"], true, "{disk:#}");
    assert_eq!(disk["finished_worktrees_without_policy"], 0, "a policy is set: no hint");
    let queue = bench.ok(&["queue"]);
    assert!(queue.contains("disk ") && queue.contains("(measured "), "{queue}");
    assert!(queue.contains("warning: worktrees hold"), "{queue}");
    assert!(!queue.contains("hint:"), "{queue}");
    for runner in &mut runners {
        runner.kill().unwrap();
        runner.wait().unwrap();
    }
}
