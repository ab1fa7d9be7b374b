//! When an assignment's worktree and branch may be removed, and removing them: the rules behind
//! `baton clean`, beside the code that creates worktrees ([`crate::workspace`]) so that every
//! front end (the CLI, the dashboard) applies the same ones.
//!
//! Only finished (complete or cancelled) assignments are cleaned, and never by baton on its own.
//! A worktree with uncommitted changes is kept; a branch is deleted only when every commit on it
//! is also on another branch, a remote branch or a tag, or once it was merged into its base
//! (`baton merge`, or by hand). `force` overrides both.

use crate::git;
use baton_core::{Assignment, Error, Result};
use serde::Serialize;
use std::path::Path;

/// What happened to one assignment's worktree and branch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cleaned {
    pub assignment: String,
    pub worktree: Option<String>,
    pub branch: Option<String>,
    /// `removed`, `worktree removed; branch kept: …`, or why nothing was done (`kept: …`).
    pub outcome: String,
    /// The worktree is gone: the store should forget it.
    pub done: bool,
}

impl Cleaned {
    /// `a`'s worktree and branch, nothing done to them yet.
    pub fn of(a: &Assignment) -> Cleaned {
        Cleaned {
            assignment: a.id.clone(),
            worktree: a.worktree.clone(),
            branch: a.branch.clone(),
            outcome: String::new(),
            done: false,
        }
    }

    /// The branch outlived the clean (its deletion failed): the store keeps its name.
    pub fn branch_kept(&self) -> bool {
        self.branch.is_some() && self.outcome != "removed"
    }
}

/// May this assignment be cleaned at all? Refused, with what to do, while it is open.
pub fn check_cleanable(a: &Assignment) -> Result<()> {
    if a.status.is_final() {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "assignment {id} is {status}; only complete or cancelled assignments are cleaned \
         (cancel it first: baton update-assignment {id} --status cancelled)",
        id = a.id,
        status = a.status
    )))
}

/// Does a sweep over every assignment pick this one? Finished, with a worktree or branch left.
pub fn wants_cleaning(a: &Assignment) -> bool {
    a.status.is_final() && (a.worktree.is_some() || a.branch.is_some())
}

/// Has the branch's work reached its base? `baton merge` recorded a merge (a squash leaves the
/// branch's own commits elsewhere, yet its work is in), or the branch is contained in its base
/// branch (merged by hand).
async fn merged(root: &Path, a: &Assignment) -> bool {
    if a.merged_commit.is_some() {
        return true;
    }
    match (&a.branch, &a.base_branch) {
        (Some(branch), Some(base)) => {
            let (branch, base) = (format!("refs/heads/{branch}"), format!("refs/heads/{base}"));
            git::git(root, &["merge-base", "--is-ancestor", &branch, &base]).await.is_ok()
        }
        _ => false,
    }
}

/// Removes a finished assignment's worktree (and its branch when that loses no commits) from the
/// repository at `root`; with `force`, uncommitted changes and unmerged commits go too.
pub async fn clean(root: &Path, a: &Assignment, force: bool) -> Cleaned {
    let mut c = Cleaned::of(a);
    let tree = a.worktree.as_deref().map(Path::new).filter(|t| t.exists());
    if let Some(tree) = tree {
        match git::is_dirty(tree).await {
            Ok(true) if !force => {
                c.outcome = format!("kept: {} has uncommitted changes", tree.display());
                return c;
            }
            Err(e) => {
                c.outcome = format!("kept: {e}");
                return c;
            }
            _ => {}
        }
    }
    let unmerged = match &a.branch {
        Some(branch) if git::branch_exists(root, branch).await => match git::unmerged_commits(root, branch).await {
            Ok(n) => n,
            Err(e) => {
                c.outcome = format!("kept: {e}");
                return c;
            }
        },
        _ => 0,
    };
    if unmerged > 0 && !force && !merged(root, a).await {
        c.outcome = format!(
            "kept: branch {} has {unmerged} commit(s) not merged anywhere (merge it, or --force)",
            a.branch.as_deref().unwrap_or_default()
        );
        return c;
    }
    // Checked above: its commits are on another ref (or `force`), so -D is safe here even when
    // the branch is not merged into the current HEAD.
    remove(root, a, tree, force, &mut c).await;
    c
}

/// Removes `tree` (git refuses a changed one unless `force`) and then `a`'s branch, once the
/// caller has judged that both may go; `c` records what happened.
pub(crate) async fn remove(root: &Path, a: &Assignment, tree: Option<&Path>, force: bool, c: &mut Cleaned) {
    if let Some(tree) = tree {
        let path = tree.display().to_string();
        let mut args = vec!["worktree", "remove"];
        if force {
            args.push("--force");
        }
        args.push(&path);
        if let Err(e) = git::git(root, &args).await {
            c.outcome = format!("kept: {e}");
            return;
        }
    }
    let _ = git::git(root, &["worktree", "prune"]).await;
    c.outcome = "removed".to_string();
    if let Some(branch) = &a.branch {
        if git::branch_exists(root, branch).await {
            if let Err(e) = git::git(root, &["branch", "-D", branch]).await {
                c.outcome = format!("worktree removed; branch kept: {e}");
            }
        }
    }
    c.done = true;
}
