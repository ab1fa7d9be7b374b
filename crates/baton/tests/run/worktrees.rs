//! Worktree isolation with real git: each assignment on its own branch and working tree, what a
//! job changed shown to the PM, `baton clean`, `isolation = "none"`, and the notify hooks.

use crate::harness::{alive, git, Bench};
use std::path::Path;

#[test]
fn parallel_assignments_write_the_same_file_in_their_own_worktrees() {
    let bench = Bench::new();
    // The two implement jobs wait for each other, so they write at the same time.
    let (a, _) =
        bench.assignment("Left @flow implement", "implement", "@together implement 2 @write shared.txt from-left");
    let (b, _) =
        bench.assignment("Right @flow implement", "implement", "@together implement 2 @write shared.txt from-right");
    bench.run_until_idle(&["--concurrency", "2"]);
    let tree = |aid: &str| bench.detail(aid)["worktree"].as_str().unwrap().to_string();
    let (left, right) = (tree(&a), tree(&b));
    assert_ne!(left, right);
    assert_eq!(std::fs::read_to_string(Path::new(&left).join("shared.txt")).unwrap(), "from-left\n");
    assert_eq!(std::fs::read_to_string(Path::new(&right).join("shared.txt")).unwrap(), "from-right\n");
    assert!(!bench.sandbox.repo().join("shared.txt").exists(), "the checkout itself is untouched");
    // Every job of an assignment ran in its worktree, and the two implement jobs overlapped.
    for run in bench.agent_runs() {
        let job = bench.job(run["job"].as_str().unwrap());
        let expected = if job["assignment_id"] == a.as_str() { &left } else { &right };
        assert_eq!(run["cwd"].as_str().unwrap(), expected);
    }
    let branches = git(&bench.sandbox.repo(), &["branch", "--list", "baton/*"]);
    assert!(branches.contains(&format!("baton/{a}")) && branches.contains(&format!("baton/{b}")), "{branches}");
}

#[test]
fn the_pm_sees_what_the_job_changed() {
    let bench = Bench::new();
    let (aid, jid) = bench.assignment("Change @flow implement", "implement", "@write feature.rs fn main() {}");
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    let stat = job["diff_stat"].as_str().unwrap();
    assert!(stat.contains("feature.rs"), "{stat}");
    assert!(job["git_head_before"].as_str().unwrap().len() == 40);
    let pm = bench.detail(&aid)["jobs"][1]["id"].as_str().unwrap().to_string();
    let prompt = bench.prompt(&pm);
    assert!(prompt.contains("feature.rs | 1 +"), "the PM's prompt carries the diff stat:\n{prompt}");
    let (before, after) = (job["git_head_before"].as_str().unwrap(), job["git_head_after"].as_str().unwrap());
    let command = format!("diff --stat {before} {after}");
    assert!(prompt.contains(&command), "and the command that reproduces it:\n{prompt}");
    let tree = bench.detail(&aid)["worktree"].as_str().unwrap().to_string();
    let reproduced = git(Path::new(&tree), &["diff", "--stat=120", before, after]);
    assert_eq!(reproduced.trim_end(), stat.trim_end(), "the figure the PM sees is what the command prints");
    assert!(prompt.contains("- The branch: 1 commit ahead of its base"), "the PM sees the whole assignment:\n{prompt}");
    assert!(prompt.contains("The assignment's whole change against its base"), "{prompt}");
    // `baton job` shows it to a person.
    assert!(bench.ok(&["job", &jid]).contains("feature.rs"));
}

#[test]
fn clean_removes_finished_work_but_keeps_unmerged_commits_unless_forced() {
    let bench = Bench::new();
    let (merged, _) = bench.assignment("Nothing to keep @flow implement", "implement", "");
    let (unmerged, _) = bench.assignment("Keep me @flow implement", "implement", "@write work.txt precious");
    bench.run_until_idle(&["--concurrency", "2"]);
    // The agent left its work uncommitted; baton's checkpoint commit put it on the branch.
    let tree = bench.detail(&unmerged)["worktree"].as_str().unwrap().to_string();
    let log = git(Path::new(&tree), &["log", "--format=%s", "main..HEAD"]);
    assert!(log.starts_with("implement: "), "{log}");
    // An assignment still active is refused.
    let (active, _) = bench.assignment("Still going", "plan", "");
    let out = bench.cmd(&["clean", "--assignment", &active]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));

    let out = bench.cmd(&["clean", "--all-finished"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "unmerged work was refused: {}", String::from_utf8_lossy(&out.stdout));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("{merged}  removed")), "{stdout}");
    assert!(stdout.contains("not merged anywhere"), "{stdout}");
    assert!(Path::new(&tree).join("work.txt").exists(), "unmerged work is kept");
    let merged_detail = bench.detail(&merged);
    assert!(merged_detail["worktree"].is_null() && merged_detail["branch"].is_null());
    assert!(!git(&bench.sandbox.repo(), &["branch", "--list", &format!("baton/{merged}")]).contains("baton/"));

    bench.ok(&["clean", "--assignment", &unmerged, "--force"]);
    assert!(!Path::new(&tree).exists());
    assert!(bench.detail(&unmerged)["branch"].is_null());
}

#[test]
fn isolation_none_runs_in_the_checkout_itself() {
    let bench = Bench::new();
    bench.config("isolation = \"none\"\n");
    let (aid, _) = bench.assignment("In place @flow implement", "implement", "@write here.txt in-place");
    bench.run_until_idle(&[]);
    assert_eq!(std::fs::read_to_string(bench.sandbox.repo().join("here.txt")).unwrap(), "in-place\n");
    assert!(bench.detail(&aid)["worktree"].is_null());
}

#[test]
fn a_worktree_setup_command_runs_once_per_new_worktree() {
    let bench = Bench::new();
    bench.config("worktree_setup = \"echo set-up >> .setup-ran\"\n");
    let (aid, _) = bench.assignment("Setup @flow implement,review", "implement", "");
    bench.run_until_idle(&[]);
    let tree = bench.detail(&aid)["worktree"].as_str().unwrap().to_string();
    assert_eq!(
        std::fs::read_to_string(Path::new(&tree).join(".setup-ran")).unwrap(),
        "set-up\n",
        "once, for four jobs"
    );
}

#[test]
fn the_notify_hook_receives_the_blocked_assignments_json() {
    let bench = Bench::new();
    let out = bench.path("hook");
    bench.config(&format!(
        "[notify]\non_blocked = \"cat > {o}.json; echo \\\"$BATON_ASSIGNMENT_ID $BATON_ASSIGNMENT_STATUS $BATON_ASSIGNMENT_REASON\\\" >> {o}.log\"\n",
        o = out.display()
    ));
    let (aid, _) = bench.assignment("Needs a human @pm-block which database should we use", "plan", "");
    bench.run_until_idle(&[]);
    let log = std::fs::read_to_string(out.with_extension("log")).unwrap();
    assert_eq!(log, format!("{aid} blocked which database should we use\n"), "one call for one change");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.with_extension("json")).unwrap()).unwrap();
    assert_eq!(json["id"], aid.as_str());
    assert_eq!(json["status"], "blocked");
    assert_eq!(json["reason"], "which database should we use");
}

#[test]
fn a_setup_killed_halfway_runs_again_before_any_agent() {
    let bench = Bench::new();
    // The first setup records itself and hangs; a later one completes. Each line: what, when.
    let setup =
        "mkdir -p \\\"$STANDIN_STATE\\\"; echo \\\"start $(date +%s.%N)\\\" >> \\\"$STANDIN_STATE/setup.log\\\"; \
                 if [ ! -e \\\"$STANDIN_STATE/setup-once\\\" ]; then touch \\\"$STANDIN_STATE/setup-once\\\"; \
                 echo $$ >> \\\"$STANDIN_PIDS\\\"; sleep 1000 & echo $! >> \\\"$STANDIN_PIDS\\\"; wait; fi; \
                 echo installing dependencies; echo \\\"done $(date +%s.%N)\\\" >> \\\"$STANDIN_STATE/setup.log\\\"";
    bench.config(&format!("lease_ms = 600\nworktree_setup = \"{setup}\"\n"));
    let (_, jid) = bench.assignment("Setup @pm-silent", "implement", "");
    let mut doomed = bench.spawn_runner(&[]);
    bench.wait_for("the setup to start", || bench.agent_pids().len() >= 2);
    let pids = bench.agent_pids();
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    bench.wait_for("the setup's processes to die with their runner", || pids.iter().all(|p| !alive(*p)));

    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!(job["status"], "complete", "{job}");
    let log = std::fs::read_to_string(bench.path("state").join("setup.log")).unwrap();
    let lines: Vec<(&str, f64)> =
        log.lines().map(|l| l.split_once(' ').map(|(w, t)| (w, t.parse().unwrap())).unwrap()).collect();
    let words: Vec<&str> = lines.iter().map(|(w, _)| *w).collect();
    assert_eq!(words, ["start", "start", "done"], "run again from the start, once: {log}");
    let runs: Vec<_> = bench.agent_runs().into_iter().filter(|r| r["job"] == jid.as_str()).collect();
    assert_eq!(runs.len(), 1, "one agent ran, after the setup: {runs:?}");
    assert!(runs[0]["start"].as_f64().unwrap() > lines[2].1, "the agent started only after the setup completed");

    let logs = bench.ok(&["logs", &jid, "--json"]);
    let first: serde_json::Value = serde_json::from_str(logs.lines().next().unwrap()).unwrap();
    assert_eq!(
        (first["event"]["kind"].as_str(), first["event"]["name"].as_str()),
        (Some("tool_use"), Some("worktree_setup"))
    );
    assert!(logs.contains("installing dependencies"), "the setup's output is in the transcript: {logs}");
}

#[test]
fn a_failed_setup_fails_the_job_with_its_output_and_runs_again_for_the_next_job() {
    let bench = Bench::new();
    bench.config(
        "worktree_setup = \"echo attempt >> \\\"$STANDIN_STATE-setup\\\"; echo cannot reach the registry; \
         [ $(wc -l < \\\"$STANDIN_STATE-setup\\\") -gt 1 ]\"\n",
    );
    let (aid, jid) = bench.assignment("Setup @pm-silent", "implement", "");
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!(job["status"], "failed", "{job}");
    assert!(job["error"].as_str().unwrap().contains("cannot reach the registry"), "{}", job["error"]);
    assert!(bench.agent_runs().iter().all(|r| r["type"] == "pm"), "no implement agent ran on the half-set-up tree");
    let retried = bench.json(&["retry-job", &jid]);
    bench.ok(&["update-assignment", &aid, "--status", "active"]);
    bench.run_until_idle(&[]);
    assert_eq!(bench.job(retried["id"].as_str().unwrap())["status"], "complete");
    let attempts = std::fs::read_to_string(format!("{}-setup", bench.path("state").display())).unwrap();
    assert_eq!(attempts.lines().count(), 2, "the setup ran again for the next job");
}

#[test]
fn gc_names_each_worktree_removes_only_clean_merged_ones_and_says_what_it_freed() {
    let bench = Bench::new();
    let (empty, _) = bench.assignment("Nothing to keep @flow implement", "implement", "");
    let (unmerged, _) = bench.assignment("Keep me @flow implement", "implement", "@write work.txt precious");
    bench.run_until_idle(&["--concurrency", "2"]);
    let tree = |aid: &str| bench.detail(aid)["worktree"].as_str().unwrap_or_default().to_string();
    let (empty_tree, unmerged_tree) = (tree(&empty), tree(&unmerged));

    // No policy: nothing is removed, and the refusal says how to set one.
    let out = bench.cmd(&["gc"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[retention] worktrees = \"merged\"") && stderr.contains("finished_after"), "{stderr}");

    // `worktrees_after`, the earlier name of `finished_after`, keeps working.
    bench.config("[retention]\nworktrees_after = \"1s\"\n");
    bench.wait_for("the assignments to be a second old", || {
        bench.json(&["gc", "--dry-run"])["worktrees"].as_array().is_some_and(|w| w.len() == 2)
    });
    let dry = bench.ok(&["gc", "--dry-run"]);
    for (aid, place) in [(&empty, &empty_tree), (&unmerged, &unmerged_tree)] {
        assert!(dry.contains(&format!("{aid}  {place} (")), "{dry}");
    }
    assert!(dry.contains(&format!("{empty}  {empty_tree} (")) && dry.contains("would be removed"), "{dry}");
    assert!(dry.contains(&format!("kept: branch baton/{unmerged} is not merged into main")), "{dry}");
    assert!(dry.contains("would free "), "{dry}");
    assert!(Path::new(&empty_tree).exists(), "a dry run removes nothing");

    let report = bench.json(&["gc"]);
    let worktrees = report["worktrees"].as_array().unwrap();
    let of = |aid: &str| worktrees.iter().find(|w| w["assignment"] == aid).cloned().unwrap_or_default();
    assert_eq!(of(&empty)["outcome"], "removed", "{report:#}");
    assert_eq!(of(&unmerged)["done"], false, "unmerged work is kept: {report:#}");
    assert_eq!(report["bytes_freed"], of(&empty)["bytes"], "{report:#}");
    assert!(!Path::new(&empty_tree).exists());
    assert!(Path::new(&unmerged_tree).join("work.txt").exists());
}
