//! The work lands: checkpoint commits on the assignment's branch after every attempt, through the
//! real binary with stand-in agents that write (and sometimes commit) files.

use crate::harness::{alive, git, Bench};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn worktree(bench: &Bench, aid: &str) -> PathBuf {
    PathBuf::from(bench.detail(aid)["worktree"].as_str().unwrap())
}

/// `git log` of the assignment's commits since `main`, newest first, one field list per commit.
fn commits(tree: &Path, format: &str) -> Vec<String> {
    git(tree, &["log", &format!("--format={format}"), "main..HEAD"]).lines().map(str::to_string).collect()
}

fn job_of_type<'a>(detail: &'a Value, job_type: &str) -> &'a Value {
    detail["jobs"].as_array().unwrap().iter().find(|j| j["type"] == job_type).unwrap()
}

#[test]
fn what_an_agent_leaves_uncommitted_is_committed_on_the_branch_with_trailers() {
    let bench = Bench::new();
    let (aid, jid) = bench.assignment("Make it so @flow implement", "implement", "@write fix.txt the fix");
    bench.run_until_idle(&[]);
    let tree = worktree(&bench, &aid);
    assert_eq!(git(&tree, &["status", "--porcelain"]), "", "nothing is left uncommitted");
    let log = commits(&tree, "%s%n%b%n%ae%n--");
    let text = log.join("\n");
    assert_eq!(text.matches("--").count(), 1, "one checkpoint commit: {text}");
    assert!(text.starts_with("implement: Done with implement (attempt 1)."), "{text}");
    for trailer in [
        format!("Baton-Assignment: {aid}"),
        format!("Baton-Job: {jid}"),
        "Baton-Attempt: 1".to_string(),
        "Baton-Harness: claude".to_string(),
    ] {
        assert!(text.contains(&trailer), "{trailer} in {text}");
    }
    assert!(text.contains("baton@localhost"), "no identity configured: baton's own: {text}");
    // `git diff main baton/<aid>` is the work.
    let diff = git(&bench.sandbox.repo(), &["diff", "--stat", "main", &format!("baton/{aid}")]);
    assert!(diff.contains("fix.txt"), "{diff}");
    let job = bench.job(&jid);
    assert_eq!(job["git_head_after"].as_str().unwrap(), git(&tree, &["rev-parse", "HEAD"]).trim());
}

#[test]
fn an_agents_own_commit_stays_and_the_rest_gets_a_checkpoint() {
    let bench = Bench::new();
    let (aid, _) = bench.assignment(
        "Both @flow implement",
        "implement",
        "@commit mine.txt committed by the agent @write left.txt left",
    );
    bench.run_until_idle(&[]);
    let tree = worktree(&bench, &aid);
    let subjects = commits(&tree, "%s");
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(subjects[0].starts_with("implement: "), "the checkpoint comes last: {subjects:?}");
    assert_eq!(subjects[1], "agent: add mine.txt", "the agent's commit is kept as it is");
    let last = git(&tree, &["show", "--stat", "--format=", "HEAD"]);
    assert!(last.contains("left.txt") && !last.contains("mine.txt"), "the checkpoint only adds what was left: {last}");
}

#[test]
fn a_refusing_hook_keeps_the_changes_and_warns_the_pm() {
    let bench = Bench::new();
    let hook = bench.sandbox.repo().join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\necho 'lint failed: trailing whitespace in fix.txt' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (aid, jid) = bench.assignment("Hooked @flow implement", "implement", "@write fix.txt change");
    bench.run_until_idle(&[]);
    let tree = worktree(&bench, &aid);
    assert!(commits(&tree, "%s").is_empty(), "the hook refused: no commit");
    assert!(git(&tree, &["status", "--porcelain"]).contains("fix.txt"), "the change stays in the worktree");
    let job = bench.job(&jid);
    let warning = job["warnings"][0]["text"].as_str().unwrap_or_default();
    assert!(warning.contains("refused") && warning.contains("lint failed"), "{job}");
    let pm = job_of_type(&bench.detail(&aid), "pm")["id"].as_str().unwrap().to_string();
    assert!(bench.prompt(&pm).contains("lint failed: trailing whitespace"), "the PM sees the hook's words");
}

#[test]
fn secrets_are_left_out_with_a_warning_and_commit_off_commits_nothing() {
    let bench = Bench::new();
    let (aid, jid) = bench.assignment("Secrets @flow implement", "implement", "@write .env TOKEN=hunter2");
    bench.run_until_idle(&[]);
    let tree = worktree(&bench, &aid);
    assert!(commits(&tree, "%s").is_empty(), "only .env changed, and it is left out");
    let warnings = bench.job(&jid)["warnings"].to_string();
    assert!(warnings.contains("commit_exclude") && warnings.contains(".env"), "{warnings}");

    let off = Bench::new();
    off.config("commit = \"off\"\n");
    let (aid, _) = off.assignment("Off @flow implement", "implement", "@write fix.txt change");
    off.run_until_idle(&[]);
    let tree = worktree(&off, &aid);
    assert!(commits(&tree, "%s").is_empty());
    assert!(git(&tree, &["status", "--porcelain"]).contains("fix.txt"));
}

#[test]
fn the_plan_reaches_the_implement_prompt_and_the_first_prompt_names_its_worktree() {
    let bench = Bench::new();
    let a =
        bench.json(&["create", "Planned @flow plan,implement", "--first", "plan", "--context", "the person's context"]);
    let aid = a["id"].as_str().unwrap().to_string();
    bench.run_until_idle(&[]);
    let detail = bench.detail(&aid);
    let plan = job_of_type(&detail, "plan");
    let plan_prompt = bench.prompt(plan["id"].as_str().unwrap());
    let tree = worktree(&bench, &aid);
    assert!(
        plan_prompt.contains(&format!("Work in\n`{}`", tree.display())),
        "the first job's prompt names its worktree:\n{plan_prompt}"
    );
    let implement = job_of_type(&detail, "implement");
    let prompt = bench.prompt(implement["id"].as_str().unwrap());
    let plan_text = plan["result"].as_str().unwrap();
    assert!(prompt.contains("### The plan") && prompt.contains(plan_text), "the plan in full:\n{prompt}");
    assert!(prompt.contains("the person's context"), "the assignment's context reaches every job:\n{prompt}");
}

#[test]
fn what_a_cancelled_attempt_left_is_committed_as_that_attempt_before_the_next_job() {
    let bench = Bench::new();
    let (aid, jid) = bench.assignment("Cancel then go on @flow review", "implement", "@write half.txt half done @hang");
    let mut runner = bench.spawn_runner(&[]);
    bench.wait_for("the agent to hang", || !bench.agent_pids().is_empty());
    bench.ok(&["cancel-job", &jid]);
    let pids = bench.agent_pids();
    bench.wait_for("the agent to be stopped", || pids.iter().all(|p| !alive(*p)));
    // The PM that follows the cancel queues the review.
    let review = || bench.detail(&aid)["jobs"].as_array().unwrap().iter().find(|j| j["type"] == "review").cloned();
    bench.wait_for("the review to run", || review().is_some_and(|j| j["status"] == "complete"));
    let next_id = review().unwrap()["id"].as_str().unwrap().to_string();
    runner.kill().unwrap();
    runner.wait().unwrap();
    let tree = worktree(&bench, &aid);
    let bodies = commits(&tree, "%B");
    let leftovers = bodies.join("\n");
    assert!(leftovers.contains(&format!("Baton-Job: {jid}")), "the leftovers are the cancelled job's: {leftovers}");
    let review = bench.job(&next_id);
    assert_eq!(review["diff_stat"], Value::Null, "the review's own diff holds none of them: {review}");
}
