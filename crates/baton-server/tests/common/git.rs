//! A real git repository behind a test server: an assignment whose implement job committed work
//! on its branch in its own worktree, recorded as a runner records it.

use super::*;
use baton_core::store::{AttemptStart, Workspace};
use std::path::{Path, PathBuf};

/// Runs git in `dir` with a fixed identity; panics on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=baton tests", "-c", "user.email=tests@baton.invalid", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// An assignment with work on its branch.
pub struct Worked {
    pub assignment: String,
    pub job: String,
    pub tree: PathBuf,
    pub base: String,
    pub after: String,
}

/// Makes the server's repository root a git repository (once), then creates an assignment whose
/// implement job wrote `files` in its worktree and ended with them committed, as a runner with
/// checkpoint commits records it.
pub async fn worked_assignment(server: &TestServer, north_star: &str, files: &[(&str, &str)]) -> Worked {
    let root = server.dir.path();
    if !root.join(".git").exists() {
        git(root, &["init", "-q", "-b", "main"]);
        std::fs::write(root.join(".gitignore"), "baton.db*\nworktrees/\n").unwrap();
        std::fs::write(root.join("README.md"), "a repository for baton's tests\n").unwrap();
        git(root, &["add", "."]);
        git(root, &["commit", "-q", "-m", "initial"]);
    }
    let store = server.store.as_ref();
    let a = create(store, north_star, Some(JobType::Implement)).await;
    let (aid, jid) = (a.assignment.id.clone(), a.jobs[0].id.clone());
    let branch = format!("baton/{aid}");
    let tree = root.join("worktrees").join(&aid);
    git(root, &["worktree", "add", "-q", "-b", &branch, &tree.display().to_string(), "HEAD"]);
    let base = git(&tree, &["rev-parse", "HEAD"]);
    let workspace = Workspace {
        branch,
        worktree: tree.display().to_string(),
        host: baton_runner::runner::hostname(),
        base_commit: Some(base.clone()),
    };
    store.set_workspace(NS, &aid, &workspace).await.unwrap();
    let c = claim(store).await;
    assert_eq!(c.job.id, jid);
    let prompt = Some("You are the worked job: keep `$HOME` literal.\n".to_string());
    let start = AttemptStart { git_head_before: Some(base.clone()), prompt, ..Default::default() };
    assert!(store.record_start(&jid, c.token, &start).await.unwrap());
    for (name, text) in files {
        std::fs::write(tree.join(name), text).unwrap();
    }
    git(&tree, &["add", "-A"]);
    git(&tree, &["commit", "-q", "-m", "implement: the work"]);
    let after = git(&tree, &["rev-parse", "HEAD"]);
    let stat = git(&tree, &["diff", "--stat=120", &base, &after]);
    let result = AttemptResult {
        released: false,
        result: Some("done".into()),
        success: Some(true),
        error: None,
        error_kind: None,
        exit_code: Some(0),
        session_id: None,
        tokens_in: None,
        tokens_out: None,
        cost_usd: None,
        transcript_truncated: false,
        git_head_after: Some(after.clone()),
        diff_stat: Some(stat),
        ..AttemptResult::default()
    };
    store.finish_attempt(&jid, c.token, result, &policy()).await.unwrap().expect("lease held");
    Worked { assignment: aid, job: jid, tree, base, after }
}
