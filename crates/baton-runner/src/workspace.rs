//! Where a job runs: with `isolation = "worktree"`, each assignment gets a branch
//! `baton/<assignment id>` (from `create --base`, else the current HEAD) and its own git
//! worktree, created on its first job and reused by every later one; with `"none"`, the
//! repository root itself. baton never merges or deletes a branch on its own, and pushes only to
//! a `[sync]` remote; an assignment that moved here from another host starts its worktree at the
//! commit that host pushed.

use crate::git::{self, GitError};
use baton_core::config::{Isolation, BATON_DIR};
use baton_core::store::Workspace;
use baton_core::{Assignment, Config, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Mutex;

/// Why a job's folder could not be prepared; each message says what to do and goes into the
/// job's record.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(
        "isolation = \"worktree\" needs a git repository at {}; run `git init` there or set isolation = \"none\"",
        root.display()
    )]
    NotARepository { root: PathBuf },
    #[error(
        "the worktree folder {} already exists and is not this assignment's worktree; move it away and retry the job",
        path.display()
    )]
    FolderTaken { path: PathBuf },
    #[error(
        "the branch {branch} already exists but is not this assignment's; rename or delete it \
         (`git branch -m {branch} other-name`) and retry the job"
    )]
    BranchTaken { branch: String },
    #[error("cannot lock {} to create a worktree: {source}", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The lock's blocking task ended without an answer (the runtime is shutting down).
    #[error("{0}")]
    LockAbandoned(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Record(#[from] baton_core::Error),
    #[error("cannot run worktree_setup: {source}")]
    SetupSpawn {
        #[source]
        source: std::io::Error,
    },
}

/// The folder a job runs in, and its worktree if it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct JobDir {
    pub cwd: PathBuf,
    pub worktree: Option<PathBuf>,
}

/// Creates worktrees one at a time within a runner: git's own locks make concurrent
/// `git worktree add` in one repository fail intermittently.
#[derive(Debug, Default)]
pub struct Workspaces {
    creating: Mutex<()>,
}

impl Workspaces {
    /// The folder `assignment`'s next job runs in, creating its worktree on first use.
    pub async fn prepare(
        &self,
        store: &Arc<dyn Store>,
        config: &Config,
        host: &str,
        assignment: &Assignment,
    ) -> Result<JobDir, WorkspaceError> {
        if config.isolation == Isolation::None {
            return Ok(JobDir { cwd: config.repo_root.clone(), worktree: None });
        }
        if let Some(existing) = assignment.worktree.as_deref().map(PathBuf::from) {
            if existing.join(".git").exists() {
                return Ok(JobDir { cwd: existing.clone(), worktree: Some(existing) });
            }
        }
        let _one_at_a_time = self.creating.lock().await;
        let root = &config.repo_root;
        // Other runner processes on this repository create worktrees too, and concurrent
        // `git worktree add` commands read each other's half-written metadata.
        let repo_lock = RepoLock::acquire(&config.worktree_dir).await?;
        if !git::is_repository(root).await {
            return Err(WorkspaceError::NotARepository { root: root.clone() });
        }
        // The branch is named after the assignment's (unique) id, so a branch of that name is this
        // assignment's own — left behind, with its worktree, if a runner died while creating them.
        let own_branch = format!("baton/{}", assignment.id);
        let branch = assignment.branch.clone().unwrap_or_else(|| own_branch.clone());
        let path = config.worktree_dir.join(&assignment.id);
        let path_text = path.display().to_string();
        ignore_worktrees(root, &config.worktree_dir);
        if path.join(".git").exists()
            && git::git(&path, &["rev-parse", "--abbrev-ref", "HEAD"]).await.ok() == Some(branch.clone())
        {
            return self.record(store, host, assignment, branch, path, None).await;
        }
        if path.exists() && std::fs::read_dir(&path).map(|mut d| d.next().is_some()).unwrap_or(true) {
            return Err(WorkspaceError::FolderTaken { path });
        }
        if let Some(start) = crate::sync::start_point(config, assignment, &branch).await? {
            // Another host's work, fetched from the [sync] remote: the branch starts at its last push.
            add_worktree(root, &["-B", &branch, &path_text, &start]).await?;
        } else if git::branch_exists(root, &branch).await {
            if branch != own_branch && assignment.branch.as_deref() != Some(branch.as_str()) {
                return Err(WorkspaceError::BranchTaken { branch });
            }
            add_worktree(root, &[&path_text, &branch]).await?;
        } else {
            // A branch that began on another host starts where it began there.
            let base = assignment.base_commit.clone().or_else(|| assignment.base_ref.clone());
            let base = base.unwrap_or_else(|| "HEAD".to_string());
            add_worktree(root, &["-b", &branch, &path_text, "--end-of-options", &base]).await?;
        }
        // The commit the branch starts at: what `baton diff` and the review compare against.
        let base_commit = git::head(&path).await;
        // worktree_setup (installing dependencies, say) runs under the attempt's supervision once
        // the folder is recorded, and until it completed (see `setup_pending`).
        drop(repo_lock);
        self.record(store, host, assignment, branch, path, base_commit).await
    }

    /// Records the assignment's workspace and returns its job folder.
    async fn record(
        &self,
        store: &Arc<dyn Store>,
        host: &str,
        assignment: &Assignment,
        branch: String,
        path: PathBuf,
        base_commit: Option<String>,
    ) -> Result<JobDir, WorkspaceError> {
        let workspace = Workspace { branch, worktree: path.display().to_string(), host: host.to_string(), base_commit };
        store.set_workspace(&assignment.namespace, &assignment.id, &workspace).await?;
        Ok(JobDir { cwd: path.clone(), worktree: Some(path) })
    }
}

/// An exclusive `flock` on a file in the worktree folder, held while a worktree is created; the
/// kernel releases it when the file closes, even if the process dies.
struct RepoLock {
    _file: std::fs::File,
}

impl RepoLock {
    async fn acquire(worktree_dir: &Path) -> Result<RepoLock, WorkspaceError> {
        let path = worktree_dir.join(".lock");
        let describe = |source: std::io::Error| WorkspaceError::Lock { path: path.clone(), source };
        std::fs::create_dir_all(worktree_dir).map_err(describe)?;
        let file =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(describe)?;
        tokio::task::spawn_blocking(move || {
            use std::os::fd::AsRawFd;
            // SAFETY: flock on a descriptor we own; blocking is fine on this blocking thread.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                Ok(RepoLock { _file: file })
            } else {
                Err(WorkspaceError::Lock { path, source: std::io::Error::last_os_error() })
            }
        })
        .await?
    }
}

/// `git worktree add ARGS`. A registration left by a worktree folder that was deleted is
/// overridden (`-f`) rather than pruned: `git worktree prune` would also drop the registration of
/// a worktree another runner process is creating at that moment.
async fn add_worktree(root: &Path, args: &[&str]) -> Result<(), GitError> {
    let mut add = vec!["worktree", "add"];
    add.extend_from_slice(args);
    match git::git(root, &add).await {
        Err(e) if e.says("already registered") => {
            add.insert(2, "-f");
            git::git(root, &add).await.map(drop)
        }
        other => other.map(drop),
    }
}

/// Keeps the default worktree folder (inside `.baton/`) out of the repository's `git status`.
fn ignore_worktrees(root: &Path, worktree_dir: &Path) {
    let baton_dir = root.join(BATON_DIR);
    let Ok(relative) = worktree_dir.strip_prefix(&baton_dir) else { return };
    let ignore = baton_dir.join(".gitignore");
    let line = format!("/{}/", relative.display());
    let current = std::fs::read_to_string(&ignore).unwrap_or_default();
    if !current.lines().any(|l| l.trim() == line) {
        let _ = std::fs::create_dir_all(&baton_dir);
        let _ = std::fs::write(&ignore, format!("{current}{line}\n"));
    }
}

/// The file that says `worktree_setup` completed in `worktree`: in the worktree's own git folder
/// (`.git/worktrees/<name>/`), so it goes with the worktree and a recreated tree runs its setup.
fn setup_marker(worktree: &Path) -> Option<PathBuf> {
    let dot_git = worktree.join(".git");
    if dot_git.is_dir() {
        return Some(dot_git.join("baton-setup-done"));
    }
    let pointer = std::fs::read_to_string(&dot_git).ok()?;
    let git_dir = PathBuf::from(pointer.trim().strip_prefix("gitdir:")?.trim());
    Some(worktree.join(git_dir).join("baton-setup-done"))
}

/// Whether `worktree_setup` still has to run (or run again) in `worktree` before an agent may.
pub fn setup_pending(config: &Config, worktree: &Path) -> bool {
    config.worktree_setup.is_some() && !setup_marker(worktree).is_some_and(|m| m.exists())
}

/// Records that `worktree_setup` completed in `worktree`.
pub fn mark_setup_done(worktree: &Path) -> std::io::Result<()> {
    let marker = setup_marker(worktree)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "the worktree has no .git"))?;
    std::fs::write(marker, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[tokio::test]
    async fn a_lock_that_cannot_be_taken_says_where_and_keeps_its_cause() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the worktree folder should be.
        let blocked = dir.path().join("worktrees");
        std::fs::write(&blocked, "").unwrap();
        let Err(err) = RepoLock::acquire(&blocked).await else { panic!("a lock under a file") };
        assert!(err.to_string().starts_with(&format!("cannot lock {}", blocked.join(".lock").display())), "{err}");
        assert!(err.source().is_some_and(|cause| cause.is::<std::io::Error>()), "{err:?}");
    }
}
