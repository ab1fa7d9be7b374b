//! Whether the retention policy may remove a finished assignment's worktree, judged from git at
//! the moment of removal, and removing it. Stricter than `baton clean` ([`crate::worktree_rules`]):
//! no person is there to look, so nothing is ever forced and a branch counts as done only when
//! its work reached its base.
//!
//! The worktree must still be one `git worktree list` names, with the assignment's branch
//! checked out (a tree someone switched to other work is not baton's to judge), and clean. The
//! branch must be merged into its base: the branch head — and the worktree's head — are
//! ancestors of the base (merged by hand, or holding no commits of its own), or `baton merge`
//! recorded a merge (a squash leaves the branch's own commits out of the base, yet its work is
//! in) and nothing was committed on the branch after it.

use crate::git;
use crate::worktree_rules::{self, Cleaned};
use baton_core::Assignment;
use std::path::{Path, PathBuf};

/// One worktree `git worktree list --porcelain` names.
#[derive(Debug, Clone, PartialEq)]
struct Listed {
    path: PathBuf,
    head: Option<String>,
    /// `refs/heads/…` checked out there; `None` when detached.
    branch: Option<String>,
}

/// The worktrees git knows of in the repository at `root`.
async fn listed(root: &Path) -> Result<Vec<Listed>, git::GitError> {
    let out = git::git(root, &["worktree", "list", "--porcelain"]).await?;
    Ok(parse_list(&out))
}

fn parse_list(out: &str) -> Vec<Listed> {
    let mut all = Vec::new();
    for block in out.split("\n\n") {
        let mut entry: Option<Listed> = None;
        for line in block.lines() {
            if let Some(path) = line.strip_prefix("worktree ") {
                entry = Some(Listed { path: PathBuf::from(path), head: None, branch: None });
            } else if let Some(e) = entry.as_mut() {
                if let Some(head) = line.strip_prefix("HEAD ") {
                    e.head = Some(head.to_string());
                } else if let Some(branch) = line.strip_prefix("branch ") {
                    e.branch = Some(branch.to_string());
                }
            }
        }
        all.extend(entry);
    }
    all
}

/// Paths compare after resolving links (`/tmp` may be a link), falling back to the text.
fn same_path(a: &Path, b: &Path) -> bool {
    let resolve = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    resolve(a) == resolve(b)
}

/// Why the worktree must stay, or `None` when the policy may remove it now.
pub async fn reason_to_keep(root: &Path, a: &Assignment) -> Option<String> {
    let tree = a.worktree.as_deref().map(Path::new);
    let mut tree_head = None;
    if let Some(tree) = tree.filter(|t| t.exists()) {
        let list = match listed(root).await {
            Ok(list) => list,
            Err(e) => return Some(e.to_string()),
        };
        let Some(entry) = list.iter().find(|l| same_path(&l.path, tree)) else {
            return Some(format!("{} is not a worktree `git worktree list` names", tree.display()));
        };
        let expected = a.branch.as_ref().map(|b| format!("refs/heads/{b}"));
        if entry.branch != expected {
            let has = entry.branch.as_deref().map(|b| b.trim_start_matches("refs/heads/")).unwrap_or("a detached HEAD");
            return Some(format!(
                "{} has {has} checked out, not the assignment's branch {}",
                tree.display(),
                a.branch.as_deref().unwrap_or("-")
            ));
        }
        match git::is_dirty(tree).await {
            Ok(false) => {}
            Ok(true) => return Some(format!("{} has uncommitted changes", tree.display())),
            Err(e) => return Some(e.to_string()),
        }
        tree_head = entry.head.clone();
    }
    let Some(branch) = a.branch.as_deref() else {
        return tree_head.map(|_| "no branch is recorded, so its merge cannot be checked".to_string());
    };
    let Some(base) = a.base_branch.as_deref() else {
        // Based on a commit and merged with `--into`: only what it ended on is known merged.
        let ended_on = |sha: &str| a.merged_commit.is_some() && a.final_head.as_deref() == Some(sha);
        let branch_head = git::git(root, &["rev-parse", "--verify", "--quiet", &format!("refs/heads/{branch}")]).await;
        let heads_known = tree_head.as_deref().is_none_or(ended_on) && branch_head.map_or(true, |h| ended_on(h.trim()));
        return (!heads_known).then(|| format!("branch {branch} has no recorded base to check its merge against"));
    };
    let base_ref = format!("refs/heads/{base}");
    if git::git(root, &["rev-parse", "--verify", "--quiet", &base_ref]).await.is_err() {
        return Some(format!("its base branch {base} is gone, so its merge cannot be checked"));
    }
    let mut heads = tree_head.into_iter().collect::<Vec<_>>();
    if git::branch_exists(root, branch).await {
        heads.push(format!("refs/heads/{branch}"));
    }
    for head in &heads {
        if git::git(root, &["merge-base", "--is-ancestor", head, &base_ref]).await.is_ok() {
            continue;
        }
        let Some(merged) = a.merged_commit.as_deref() else {
            return Some(format!("branch {branch} is not merged into {base}"));
        };
        if let Some(reason) = work_after_merge(root, a, head, &base_ref, merged).await {
            return Some(format!("branch {branch} {reason}"));
        }
    }
    None
}

/// With a recorded `baton merge` (a squash leaves the branch's commits out of the base), is
/// there work on `head` the merge did not take? None when `head` is what the assignment ended
/// on. When `head` grew from there, the commits since the end (any of them may postdate the
/// merge: better kept than lost). Without that record, the commits not in the base made at or
/// after the merge commit (same second counts).
async fn work_after_merge(root: &Path, a: &Assignment, head: &str, base_ref: &str, merged: &str) -> Option<String> {
    let sha = match git::git(root, &["rev-parse", "--verify", "--quiet", &format!("{head}^{{commit}}")]).await {
        Ok(sha) => sha,
        Err(e) => return Some(format!("cannot be read: {e}")),
    };
    let sha = sha.trim();
    if a.final_head.as_deref() == Some(sha) {
        return None;
    }
    if let Some(end) = a.final_head.as_deref() {
        let since_end = format!("{end}..{sha}");
        if git::git(root, &["merge-base", "--is-ancestor", end, sha]).await.is_ok() {
            return match git::git(root, &["rev-list", "--count", &since_end]).await {
                Ok(n) => Some(format!("has {} commit(s) made after its merge", n.trim())),
                Err(e) => Some(format!("cannot be read: {e}")),
            };
        }
    }
    let merged_at = match git::git(root, &["show", "-s", "--format=%ct", merged]).await {
        Ok(t) => t.trim().parse::<i64>().ok(),
        Err(_) => None,
    };
    let Some(merged_at) = merged_at else {
        return Some(format!("was merged as {merged}, which this repository does not have"));
    };
    let times = match git::git(root, &["log", "--format=%ct", head, "--not", base_ref]).await {
        Ok(out) => out,
        Err(e) => return Some(format!("cannot be read: {e}")),
    };
    let late = times.lines().filter_map(|t| t.trim().parse::<i64>().ok()).filter(|t| *t >= merged_at).count();
    (late > 0).then(|| format!("has {late} commit(s) made after its merge"))
}

/// Removes `a`'s worktree (and its branch) when [`reason_to_keep`] finds nothing, checked now;
/// `dry_run` only says what would happen.
pub async fn retire(root: &Path, a: &Assignment, dry_run: bool) -> Cleaned {
    let mut c = Cleaned::of(a);
    if let Some(reason) = reason_to_keep(root, a).await {
        c.outcome = format!("kept: {reason}");
        return c;
    }
    if dry_run {
        c.outcome = "would be removed".into();
        return c;
    }
    // Never forced: git itself refuses a tree that changed since the check. The branch's work
    // is in the base (checked above), so deleting it loses nothing the base lacks.
    let tree = a.worktree.as_deref().map(Path::new).filter(|t| t.exists());
    worktree_rules::remove(root, a, tree, false, &mut c).await;
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_porcelain_list_reads_paths_heads_and_branches() {
        let out = "worktree /r\nHEAD aaa\nbranch refs/heads/main\n\nworktree /w/x\nHEAD bbb\ndetached\n\nworktree /w/y\nHEAD ccc\nbranch refs/heads/baton/y\nprunable gitdir file points to non-existent location\n";
        let list = parse_list(out);
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].branch.as_deref(), Some("refs/heads/main"));
        assert_eq!(list[1], Listed { path: "/w/x".into(), head: Some("bbb".into()), branch: None });
        assert_eq!(list[2].branch.as_deref(), Some("refs/heads/baton/y"));
    }
}
