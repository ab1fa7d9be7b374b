//! Sharing an assignment's branch through the `[sync]` git remote, so that another host can
//! continue the assignment when its host is gone.
//!
//! After an attempt moved the branch, the runner pushes `baton/<id>` — that branch only — fenced
//! like every other write: only while the attempt's lease holds, within the lease's remaining
//! time (60 s at most), and with `--force-with-lease` against the commit the database says was
//! pushed last, so a stale runner's late push can never overwrite a newer host's work. A refused
//! or failed push is a warning on the job, never a lost change: the commit stays on this host's
//! branch and the next push carries it. A host taking the assignment over fetches the branch
//! back from the remote ([`fetch`]).

use crate::git::{self, GitError};
use crate::supervisor::Shared;
use baton_core::store::{Claim, Lease};
use std::path::Path;
use std::time::Duration;

/// The longest a push or fetch may take, whatever the lease leaves.
pub const GIT_LIMIT: Duration = Duration::from_secs(60);

/// How a push ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The remote's branch is at this commit, recorded on the job and the assignment.
    Recorded(String),
    /// Nothing to push: the remote already has this commit.
    UpToDate,
    /// Not pushed or not recorded: this warning says why, for the PM and for people.
    Warning(String),
    /// The lease is gone: nothing was pushed or written.
    LeaseGone,
}

/// Pushes `head` as the assignment's branch `branch` to `remote` for the attempt of `claim`.
pub async fn push(shared: &Shared, remote: &str, claim: &Claim, cwd: &Path, branch: &str, head: &str) -> Pushed {
    let (store, job) = (&shared.store, &claim.job);
    let assignment = match store.assignment(&shared.namespace, &job.assignment_id).await {
        Ok(detail) => detail.assignment,
        Err(e) => return Pushed::Warning(format!("{branch} was not pushed to {remote}: reading its last push: {e}")),
    };
    let expected = assignment.pushed_commit.unwrap_or_default();
    if expected == head {
        return Pushed::UpToDate;
    }
    // The lease must hold for the whole push: renewed first, and the push given only what remains.
    let limit = match store.renew_lease(&job.id, claim.token, shared.lease_ms).await {
        Ok(Lease::Held { expires_at }) => {
            let left = expires_at.saturating_sub(shared.clock.now());
            GIT_LIMIT.min(Duration::from_millis(u64::try_from(left).unwrap_or(0)))
        }
        Ok(Lease::Gone) => return Pushed::LeaseGone,
        Err(e) => return Pushed::Warning(format!("{branch} was not pushed to {remote}: renewing the lease: {e}")),
    };
    let lease = format!("--force-with-lease=refs/heads/{branch}:{expected}");
    let refspec = format!("{head}:refs/heads/{branch}");
    let args = ["push", "--porcelain", "--no-verify", &lease, "--", remote, &refspec];
    if let Err(e) = git::git_with_input(cwd, &[], &args, b"", limit).await {
        return Pushed::Warning(push_failure(branch, remote, head, &expected, &e));
    }
    match store.record_push(&job.id, claim.token, head).await {
        Ok(true) => Pushed::Recorded(head.to_string()),
        Ok(false) => Pushed::LeaseGone,
        Err(e) => Pushed::Warning(format!("{branch} was pushed to {remote} at {head} but not recorded: {e}")),
    }
}

/// The warning for a push git refused or could not finish.
fn push_failure(branch: &str, remote: &str, head: &str, expected: &str, e: &GitError) -> String {
    let short = |c: &str| c.chars().take(12).collect::<String>();
    let why = if e.says("stale info") || e.says("rejected") {
        let last =
            if expected.is_empty() { "no push".to_string() } else { format!("the last push, {}", short(expected)) };
        format!("the remote's branch is not at {last} (another host may have pushed since)")
    } else {
        e.to_string()
    };
    format!(
        "{branch} was not pushed to {remote}: {why}; commit {} is on this host only until a later push carries it",
        short(head)
    )
}

/// Fetches `branch` from `remote` into the local branch of the same name, so a worktree can be
/// created at `commit`; fails when the remote's branch does not contain `commit`.
pub async fn fetch(root: &Path, remote: &str, branch: &str, commit: &str) -> Result<(), GitError> {
    let refspec = format!("+refs/heads/{branch}:refs/remotes/baton-sync/{branch}");
    git::git_with_input(root, &[], &["fetch", "--no-tags", "--", remote, &refspec], b"", GIT_LIMIT).await?;
    git::git(root, &["cat-file", "-e", &format!("{commit}^{{commit}}")]).await.map(drop)
}

/// Where a new worktree of `assignment` starts when its work comes from the `[sync]` remote: its
/// last pushed commit, fetched when this checkout lacks it; `None` when this host's own branch
/// already holds that commit (or nothing was pushed) and the branch is used as it is.
pub async fn start_point(
    config: &baton_core::Config,
    assignment: &baton_core::Assignment,
    branch: &str,
) -> Result<Option<String>, GitError> {
    let (Some(remote), Some(pushed)) = (&config.sync_remote, &assignment.pushed_commit) else { return Ok(None) };
    let root = config.repo_root.as_path();
    if git::branch_exists(root, branch).await
        && git::git(root, &["merge-base", "--is-ancestor", pushed, &format!("refs/heads/{branch}")]).await.is_ok()
    {
        return Ok(None);
    }
    if git::git(root, &["cat-file", "-e", &format!("{pushed}^{{commit}}")]).await.is_err() {
        fetch(root, remote, branch, pushed).await?;
    }
    Ok(Some(pushed.clone()))
}
