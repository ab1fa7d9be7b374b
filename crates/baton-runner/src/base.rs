//! What an assignment is based on, settled when it is created: the `--base` ref checked against
//! the repository (so a typo or an option-like string never reaches the runner's git commands)
//! and the branch its work will be merged back into (`baton merge`). The CLI's `create` and the
//! HTTP API's both call [`resolve`], so they refuse the same refs with the same words.

use crate::git;
use baton_core::{Error, Result};
use std::path::Path;

/// Checks `base` (when given) in the repository at `root` and returns the assignment's base
/// branch: the branch `base` names, or without `base` the checkout's current branch. `None` for a
/// commit, a tag, a remote branch, a detached HEAD, or a folder that is not a git repository.
pub async fn resolve(root: &Path, base: Option<&str>) -> Result<Option<String>> {
    let in_repo = git::is_repository(root).await;
    let Some(base) = base else {
        return Ok(if in_repo { current_branch(root).await } else { None });
    };
    if !in_repo {
        return Err(Error::invalid(format!(
            "--base needs a git repository, and {} is not one (leave --base out, or run baton in a git checkout)",
            root.display()
        )));
    }
    // `--end-of-options` keeps a ref such as `-b evil` from being read as an option.
    let commit = format!("{base}^{{commit}}");
    if git::git(root, &["rev-parse", "--verify", "--quiet", "--end-of-options", &commit]).await.is_err() {
        return Err(Error::invalid(format!(
            "--base `{base}` is not a branch, tag or commit of this repository (see git branch --list)"
        )));
    }
    let full = git::git(root, &["rev-parse", "--verify", "--symbolic-full-name", "--end-of-options", base])
        .await
        .unwrap_or_default();
    Ok(full.strip_prefix("refs/heads/").map(str::to_string))
}

/// The branch the checkout at `dir` is on; `None` when its HEAD is detached.
pub async fn current_branch(dir: &Path) -> Option<String> {
    git::git(dir, &["symbolic-ref", "--quiet", "--short", "HEAD"]).await.ok().filter(|b| !b.is_empty())
}
