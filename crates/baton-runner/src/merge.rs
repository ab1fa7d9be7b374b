//! `baton merge`: bringing a complete assignment's branch into its base branch, in the main
//! checkout (the repository root), for the CLI and the dashboard alike.
//!
//! A merge is a person's decision, so nothing here runs for an agent, and it either lands whole
//! or leaves the checkout exactly as it was: a dirty checkout or one on another branch is refused
//! before git touches anything, and a conflicting merge is aborted with the conflicting files
//! named. Recording the merge in the store is the caller's step, after this succeeded.

use crate::git::{self, GitError};
use baton_core::{lifecycle, Actor, Assignment};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

/// How long the commit a merge makes may take: it runs the repository's hooks, which may hang.
const HOOK_TIMEOUT: Duration = Duration::from_secs(120);

/// The identity of merge commits in a repository with none configured (as for checkpoints).
const FALLBACK_IDENTITY: [&str; 2] = ["user.name=baton", "user.email=baton@localhost"];

/// What the person asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergeRequest {
    /// The branch to merge into; `None` means the assignment's base branch.
    pub into: Option<String>,
    /// One commit holding the whole change, instead of the branch's commits.
    pub squash: bool,
}

/// How the branch landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeKind {
    FastForward,
    MergeCommit,
    Squash,
    /// Every commit of the branch was already on the target.
    AlreadyMerged,
}

impl MergeKind {
    pub fn describe(self) -> &'static str {
        match self {
            MergeKind::FastForward => "fast-forwarded",
            MergeKind::MergeCommit => "merged with a merge commit",
            MergeKind::Squash => "squashed into one commit",
            MergeKind::AlreadyMerged => "already merged",
        }
    }
}

/// A merge that landed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merged {
    pub branch: String,
    pub into: String,
    /// The commit `into` points at now.
    pub commit: String,
    pub kind: MergeKind,
}

/// Why a merge did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// The request cannot be carried out as things stand; the message says what to do. Nothing
    /// was changed.
    #[error("{0}")]
    Refused(String),
    /// git failed in a way that is not the person's to fix by asking differently.
    #[error(transparent)]
    Git(#[from] GitError),
}

fn refused(message: impl Into<String>) -> MergeError {
    MergeError::Refused(message.into())
}

/// The checks that need no git: a person, a complete assignment with a branch, and a target.
/// Returns (branch, target).
pub fn check(a: &Assignment, request: &MergeRequest, actor: &Actor) -> Result<(String, String), MergeError> {
    if actor.job_id().is_some() {
        return Err(refused("merging is a person's decision: an agent cannot run baton merge"));
    }
    lifecycle::check_merge(a).map_err(|e| refused(e.to_string()))?;
    let Some(branch) = a.branch.clone() else {
        return Err(refused(format!(
            "assignment {} has no branch: its jobs did not run in a worktree of their own, so there is nothing to merge",
            a.id
        )));
    };
    let target = request.into.clone().filter(|t| !t.trim().is_empty()).or_else(|| a.base_branch.clone());
    let Some(target) = target else {
        return Err(refused(format!(
            "assignment {} has no base branch (it was based on a commit, a tag or a detached HEAD); \
             name the branch to merge into: baton merge {} --into BRANCH",
            a.id, a.id
        )));
    };
    Ok((branch, target))
}

/// Merges the assignment's branch into the target branch in the checkout at `root`: a
/// fast-forward when possible, else a merge commit; with `squash`, one new commit.
pub async fn merge(root: &Path, a: &Assignment, request: &MergeRequest, actor: &Actor) -> Result<Merged, MergeError> {
    let (branch, into) = check(a, request, actor)?;
    let local = |name: &str| format!("refs/heads/{name}");
    if !git::is_repository(root).await {
        return Err(refused(format!("{} is not a git repository", root.display())));
    }
    if git::git(root, &["show-ref", "--verify", "--quiet", &local(&branch)]).await.is_err() {
        return Err(refused(format!("branch {branch} no longer exists in {}", root.display())));
    }
    if git::git(root, &["show-ref", "--verify", "--quiet", &local(&into)]).await.is_err() {
        return Err(refused(format!("there is no branch {into} to merge into (see git branch --list)")));
    }
    match crate::base::current_branch(root).await {
        Some(current) if current == into => {}
        current => {
            let on = current.map_or("a detached HEAD".to_string(), |b| format!("branch {b}"));
            return Err(refused(format!(
                "the checkout at {} is on {on}, not {into}: switch to it (git switch {into}) and merge again",
                root.display()
            )));
        }
    }
    // Untracked files do not count: git refuses by itself to overwrite one.
    if !git::git(root, &["status", "--porcelain", "--untracked-files=no"]).await?.is_empty() {
        return Err(refused(format!(
            "the checkout at {} has uncommitted changes: commit or stash them, then merge again",
            root.display()
        )));
    }
    let ancestor = |older: String, newer: String| async move {
        git::git(root, &["merge-base", "--is-ancestor", &older, &newer]).await.is_ok()
    };
    let (branch_ref, into_ref) = (local(&branch), local(&into));
    let kind = if ancestor(branch_ref.clone(), into_ref.clone()).await {
        MergeKind::AlreadyMerged
    } else if request.squash {
        squash(root, a, &branch_ref).await?;
        MergeKind::Squash
    } else if ancestor(into_ref.clone(), branch_ref.clone()).await {
        git::git(root, &["merge", "--ff-only", "-q", &branch_ref]).await?;
        MergeKind::FastForward
    } else {
        merge_commit(root, a, &branch, &branch_ref).await?;
        MergeKind::MergeCommit
    };
    let commit = git::git(root, &["rev-parse", "--verify", "HEAD"]).await?;
    Ok(Merged { branch, into, commit, kind })
}

/// `git merge --no-ff`; on a conflict (or a refusing hook) the merge is aborted.
async fn merge_commit(root: &Path, a: &Assignment, branch: &str, branch_ref: &str) -> Result<(), MergeError> {
    let message = format!("Merge {branch}: {}\n\nBaton-Assignment: {}\n", subject(a), a.id);
    let args = ["merge", "--no-ff", "--no-edit", "-q", "-m", &message, branch_ref];
    match git::git_with_input(root, &identity(root).await, &args, b"", HOOK_TIMEOUT).await {
        Ok(_) => Ok(()),
        Err(e) => Err(undo(root, e).await),
    }
}

/// `git merge --squash` and one commit; on a conflict (or a refusing hook) the index and files
/// are put back.
async fn squash(root: &Path, a: &Assignment, branch_ref: &str) -> Result<(), MergeError> {
    let identity = identity(root).await;
    let args = ["merge", "--squash", "-q", branch_ref];
    if let Err(e) = git::git_with_input(root, &identity, &args, b"", HOOK_TIMEOUT).await {
        return Err(undo(root, e).await);
    }
    let message = format!("{}\n\nBaton-Assignment: {}\n", subject(a), a.id);
    let args = ["commit", "-q", "-F", "-"];
    match git::git_with_input(root, &identity, &args, message.as_bytes(), HOOK_TIMEOUT).await {
        Ok(_) => Ok(()),
        Err(e) => Err(undo(root, e).await),
    }
}

/// Puts the checkout back after a failed merge and says why it failed, naming the conflicting
/// files when there were any. `reset --merge` is what `merge --abort` runs, and also undoes a
/// squash (which leaves no merge in progress); the checkout had no uncommitted changes to keep.
async fn undo(root: &Path, cause: GitError) -> MergeError {
    let conflicts = git::git(root, &["diff", "--name-only", "--diff-filter=U"]).await.unwrap_or_default();
    let conflicts: Vec<&str> = conflicts.lines().filter(|l| !l.is_empty()).collect();
    let restored = match git::git(root, &["reset", "--merge"]).await {
        Ok(_) => "the checkout is as it was".to_string(),
        Err(e) => format!("putting the checkout back failed too ({e}); check it with git status"),
    };
    if conflicts.is_empty() {
        return refused(format!("the merge failed and was undone ({cause}); {restored}"));
    }
    refused(format!(
        "the merge conflicts in {}; it was aborted and {restored}. Merge it by hand to resolve them (git merge {})",
        conflicts.join(", "),
        abort_hint(&cause)
    ))
}

/// The branch a failed `git merge` was given, for the hint.
fn abort_hint(cause: &GitError) -> String {
    match cause {
        GitError::Failed { command, .. } | GitError::TimedOut { command, .. } => {
            command.split_whitespace().last().unwrap_or_default().trim_start_matches("refs/heads/").to_string()
        }
        _ => String::new(),
    }
}

/// The first line of the north star, shortened for a commit subject.
fn subject(a: &Assignment) -> String {
    let line = a.north_star.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("baton assignment");
    let mut subject: String = line.chars().take(72).collect();
    if line.chars().count() > 72 {
        subject.push('…');
    }
    subject
}

/// The repository's identity when it has one, else baton's own: a merge never fails for a
/// missing `user.email`.
async fn identity(root: &Path) -> Vec<String> {
    let configured = git::git(root, &["config", "user.email"]).await.is_ok_and(|e| !e.is_empty());
    if configured {
        Vec::new()
    } else {
        FALLBACK_IDENTITY.iter().map(|s| s.to_string()).collect()
    }
}
