//! `baton merge` with real git: a complete assignment's branch brought into its base branch in
//! the main checkout (fast-forward, merge commit, squash), the refusals that leave the checkout
//! as it was, `create --base` checked at once, and `clean` after a merge.

use crate::harness::{git, Bench};
use std::path::Path;

/// A complete assignment whose implement job wrote `file`; returns its id.
fn completed(bench: &Bench, file: &str, text: &str) -> String {
    let (aid, _) = bench.assignment("Ship it @flow implement", "implement", &format!("@write {file} {text}"));
    bench.run_until_idle(&[]);
    assert_eq!(bench.detail(&aid)["status"], "complete");
    aid
}

fn head(bench: &Bench) -> String {
    git(&bench.sandbox.repo(), &["rev-parse", "HEAD"]).trim().to_string()
}

/// Commits `text` as `file` on main in the checkout.
fn commit_on_main(bench: &Bench, file: &str, text: &str) {
    let repo = bench.sandbox.repo();
    std::fs::write(repo.join(file), text).unwrap();
    git(&repo, &["add", file]);
    git(&repo, &["commit", "-q", "-m", &format!("main changes {file}")]);
}

/// `baton merge ARGS` expected to fail with exit 1; its stderr.
fn refused(bench: &Bench, args: &[&str]) -> String {
    let out = bench.cmd(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn create_records_the_base_branch_and_the_context() {
    let bench = Bench::new();
    let a = bench.json(&["create", "From main", "--context", "Use the v2 API"]);
    assert_eq!(a["base_branch"], "main");
    assert_eq!(a["context"], "Use the v2 API");
    let commit = head(&bench);
    let b = bench.json(&["create", "From a commit", "--base", &commit]);
    assert!(b["base_branch"].is_null(), "a commit is no branch: {b}");
    assert_eq!(b["base_ref"], commit.as_str());
    git(&bench.sandbox.repo(), &["branch", "release"]);
    assert_eq!(bench.json(&["create", "From release", "--base", "release"])["base_branch"], "release");
}

#[test]
fn create_refuses_a_base_the_repository_does_not_have() {
    let bench = Bench::new();
    for bad in ["-b evil", "no-such-branch", "--output=/tmp/x"] {
        let out = bench.cmd(&["create", "X", &format!("--base={bad}")]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{bad}: {stderr}");
        assert!(stderr.contains("is not a branch, tag or commit"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
    assert_eq!(bench.json(&["assignments"]).as_array().unwrap().len(), 0, "nothing stored");
}

#[test]
fn merge_fast_forwards_when_main_has_not_moved() {
    let bench = Bench::new();
    let aid = completed(&bench, "feature.txt", "hello");
    let branch_head = git(&bench.sandbox.repo(), &["rev-parse", &format!("baton/{aid}")]).trim().to_string();
    let out = bench.ok(&["merge", &aid]);
    assert!(out.contains("fast-forwarded into main"), "{out}");
    assert_eq!(head(&bench), branch_head);
    assert_eq!(std::fs::read_to_string(bench.sandbox.repo().join("feature.txt")).unwrap(), "hello\n");
    let detail = bench.detail(&aid);
    assert_eq!(detail["merged_commit"], branch_head.as_str());
    let history = detail["history"].to_string();
    assert!(history.contains("merged into main"), "{history}");
}

#[test]
fn merge_makes_a_merge_commit_when_main_moved_on() {
    let bench = Bench::new();
    let aid = completed(&bench, "feature.txt", "hello");
    commit_on_main(&bench, "other.txt", "meanwhile\n");
    let detail = bench.json(&["merge", &aid]);
    let parents = git(&bench.sandbox.repo(), &["rev-list", "--parents", "-n", "1", "HEAD"]);
    assert_eq!(parents.split_whitespace().count(), 3, "a merge commit: {parents}");
    assert_eq!(detail["merged_commit"], head(&bench).as_str());
    let message = git(&bench.sandbox.repo(), &["log", "-1", "--format=%B"]);
    assert!(message.contains(&format!("Baton-Assignment: {aid}")), "{message}");
    assert!(bench.sandbox.repo().join("feature.txt").exists() && bench.sandbox.repo().join("other.txt").exists());
}

#[test]
fn squash_lands_one_commit_and_clean_then_needs_no_force() {
    let bench = Bench::new();
    let aid = completed(&bench, "feature.txt", "hello");
    let before = head(&bench);
    let out = bench.ok(&["merge", &aid, "--squash"]);
    assert!(out.contains("squashed"), "{out}");
    let repo = bench.sandbox.repo();
    assert_eq!(git(&repo, &["rev-list", "--count", &format!("{before}..HEAD")]).trim(), "1");
    assert_eq!(git(&repo, &["rev-list", "--parents", "-n", "1", "HEAD"]).split_whitespace().count(), 2);
    assert_eq!(std::fs::read_to_string(repo.join("feature.txt")).unwrap(), "hello\n");
    // The branch's own commits are on no other ref, yet its work is merged: clean needs no --force.
    let tree = bench.detail(&aid)["worktree"].as_str().unwrap().to_string();
    let out = bench.ok(&["clean", "--assignment", &aid]);
    assert!(out.contains("removed"), "{out}");
    assert!(!Path::new(&tree).exists());
}

#[test]
fn clean_needs_no_force_once_the_branch_is_in_its_base() {
    let bench = Bench::new();
    let aid = completed(&bench, "feature.txt", "hello");
    // Merged by hand, then the merge commit's parent on main is all that holds the commits.
    let repo = bench.sandbox.repo();
    git(&repo, &["merge", "-q", "--no-ff", "-m", "by hand", &format!("baton/{aid}")]);
    bench.ok(&["clean", "--assignment", &aid]);
    assert!(bench.detail(&aid)["worktree"].is_null());
}

#[test]
fn a_dirty_checkout_or_another_branch_is_refused_and_left_alone() {
    let bench = Bench::new();
    let aid = completed(&bench, "feature.txt", "hello");
    let repo = bench.sandbox.repo();
    let before = head(&bench);
    std::fs::write(repo.join("README.md"), "edited by hand\n").unwrap();
    let err = refused(&bench, &["merge", &aid]);
    assert!(err.contains("uncommitted changes"), "{err}");
    assert_eq!(std::fs::read_to_string(repo.join("README.md")).unwrap(), "edited by hand\n");
    git(&repo, &["checkout", "-q", "--", "README.md"]);
    git(&repo, &["switch", "-q", "-c", "elsewhere"]);
    let err = refused(&bench, &["merge", &aid]);
    assert!(err.contains("on branch elsewhere, not main") && err.contains("git switch main"), "{err}");
    assert_eq!(head(&bench), before);
    assert!(bench.detail(&aid)["merged_commit"].is_null(), "nothing recorded");
}

#[test]
fn a_conflicting_merge_is_aborted_and_names_the_files() {
    let bench = Bench::new();
    let aid = completed(&bench, "README.md", "from-the-agent");
    commit_on_main(&bench, "README.md", "from-a-person\n");
    let repo = bench.sandbox.repo();
    let before = head(&bench);
    for args in [&["merge", &aid][..], &["merge", &aid, "--squash"]] {
        let err = refused(&bench, args);
        assert!(err.contains("conflicts in README.md") && err.contains("aborted"), "{err}");
        assert_eq!(head(&bench), before);
        assert_eq!(git(&repo, &["status", "--porcelain", "--untracked-files=no"]), "", "nothing half-merged");
        assert!(!repo.join(".git/MERGE_HEAD").exists());
        assert_eq!(std::fs::read_to_string(repo.join("README.md")).unwrap(), "from-a-person\n");
    }
    assert!(bench.detail(&aid)["merged_commit"].is_null());
}

#[test]
fn agents_and_unfinished_assignments_are_refused() {
    let bench = Bench::new();
    let aid = completed(&bench, "feature.txt", "hello");
    let before = head(&bench);
    let out = bench.cmd(&["merge", &aid]).env("BATON_JOB_ID", "j0000000").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("a person's decision"), "{err}");
    assert_eq!(head(&bench), before, "git untouched");

    let active = bench.json(&["create", "Not yet"])["id"].as_str().unwrap().to_string();
    let err = refused(&bench, &["merge", &active]);
    assert!(err.contains("only a complete assignment is merged"), "{err}");

    let detached =
        bench.json(&["create", "From a commit @flow implement", "--base", &before])["id"].as_str().unwrap().to_string();
    bench.ok(&["insert-job", &detached, "--type", "implement", "--context", "@write f.txt x"]);
    bench.run_until_idle(&[]);
    let err = refused(&bench, &["merge", &detached]);
    assert!(err.contains("--into BRANCH"), "{err}");
    bench.ok(&["merge", &detached, "--into", "main"]);
}
