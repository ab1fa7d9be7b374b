//! The few git operations the runner needs, run as `git` processes (never through a shell).

use std::path::Path;
use tokio::process::Command;

/// Why a git command gave no answer; each message is one line for a job record or `clean`.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(
        "git is not installed (it is needed for worktree isolation; set isolation = \"none\" in \
         .baton/config.toml to run jobs in the checkout itself)"
    )]
    NotInstalled,
    #[error("cannot run git: {source}")]
    Spawn {
        #[source]
        source: std::io::Error,
    },
    /// git ran and refused; `message` is its stderr, joined into one line.
    #[error("git {command} failed: {message}")]
    Failed { command: String, message: String },
    #[error("unexpected output of git {command}: {output}")]
    UnexpectedOutput { command: String, output: String },
    #[error("git {command} did not finish within {}", baton_core::time::human_duration(limit.as_millis() as i64))]
    TimedOut { command: String, limit: std::time::Duration },
}

impl GitError {
    /// Whether git refused with a message containing `text`.
    pub fn says(&self, text: &str) -> bool {
        matches!(self, GitError::Failed { message, .. } if message.contains(text))
    }
}

/// `git -C dir` with terminal prompts off: the start of every git command baton runs.
///
/// Optional locks are off (`GIT_OPTIONAL_LOCKS=0`): a read such as `git status` otherwise takes
/// `index.lock` for a moment to save the stat data it refreshed, and a checkpoint commit starting
/// in that moment finds the index locked — `baton assignment`'s summary of a worktree, run while
/// the next job starts there, made that job's commit of the previous attempt's leftovers fail.
/// Commands that change the index still take the lock they need.
pub fn command(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command.arg("-C").arg(dir).env("GIT_TERMINAL_PROMPT", "0").env("GIT_OPTIONAL_LOCKS", "0");
    command
}

/// Why git could not be started at all.
pub fn spawn_error(e: std::io::Error) -> GitError {
    match e.kind() {
        std::io::ErrorKind::NotFound => GitError::NotInstalled,
        _ => GitError::Spawn { source: e },
    }
}

/// git's message (its output lines) joined into one line, for a job record.
fn one_line(text: &str) -> String {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

/// Runs `git -C dir ARGS`; stdout (trimmed) on success, else git's message in one line.
pub async fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let out = command(dir).args(args).output().await.map_err(spawn_error)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    } else {
        Err(GitError::Failed { command: args.join(" "), message: one_line(&String::from_utf8_lossy(&out.stderr)) })
    }
}

/// Runs `git -C dir [config…] ARGS` with `input` on stdin, killed after `limit` (a commit runs the
/// repository's hooks, which may hang); stdout and stderr together on failure.
pub async fn git_with_input(
    dir: &Path,
    config: &[String],
    args: &[&str],
    input: &[u8],
    limit: std::time::Duration,
) -> Result<String, GitError> {
    use std::process::Stdio;
    use tokio::io::AsyncWriteExt;
    let mut command = command(dir);
    for setting in config {
        command.arg("-c").arg(setting);
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(spawn_error)?;
    if let Some(mut stdin) = child.stdin.take() {
        let input = input.to_vec();
        tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
        });
    }
    let command_text = args.join(" ");
    let out = match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(out) => out.map_err(|source| GitError::Spawn { source })?,
        Err(_) => return Err(GitError::TimedOut { command: command_text, limit }),
    };
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    } else {
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        Err(GitError::Failed { command: command_text, message: one_line(&text) })
    }
}

/// Whether `dir` is inside a git working tree.
pub async fn is_repository(dir: &Path) -> bool {
    // Without a `.git` in `dir` or above it (and no GIT_DIR naming one elsewhere) git would say
    // no: answering that from the file system saves starting a process (about 1 ms), which
    // `baton create` outside a repository would otherwise pay on every call.
    if dir.is_absolute() && std::env::var_os("GIT_DIR").is_none() && !dir.ancestors().any(|d| d.join(".git").exists()) {
        return false;
    }
    git(dir, &["rev-parse", "--is-inside-work-tree"]).await.is_ok_and(|o| o == "true")
}

/// The commit HEAD points at, if any.
pub async fn head(dir: &Path) -> Option<String> {
    git(dir, &["rev-parse", "--verify", "--quiet", "HEAD"]).await.ok().filter(|h| !h.is_empty())
}

/// The state of a working tree when a job starts, so that what the job changed can be told apart
/// from changes that were already there.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// A commit holding the tracked files as they were (`git stash create`, which touches
    /// nothing), or HEAD when the tree was clean.
    pub base: String,
    /// Untracked files that already existed.
    pub untracked: Vec<String>,
}

/// Takes a [`Snapshot`] of `dir`, if it is a git working tree with a commit.
pub async fn snapshot(dir: &Path) -> Option<Snapshot> {
    let head = head(dir).await?;
    let stash = git(dir, &["stash", "create"]).await.ok().filter(|s| !s.is_empty());
    let untracked = untracked(dir).await;
    Some(Snapshot { base: stash.unwrap_or(head), untracked })
}

async fn untracked(dir: &Path) -> Vec<String> {
    let list = git(dir, &["ls-files", "--others", "--exclude-standard"]).await.unwrap_or_default();
    list.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// What changed since `since`, committed or not: `git diff --stat` plus new untracked files.
/// `None` when nothing changed.
pub async fn diff_stat(dir: &Path, since: &Snapshot) -> Option<String> {
    let stat = git(dir, &["diff", "--stat=120", &since.base]).await.ok()?;
    let mut text = stat;
    for file in untracked(dir).await.iter().filter(|f| !since.untracked.contains(f)) {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!(" {file} | new file, not yet added to git"));
    }
    (!text.trim().is_empty()).then_some(text)
}

/// `git diff --stat` between two commits: exactly what the PM prompt tells the reader to run.
pub async fn commit_diff_stat(dir: &Path, before: &str, after: &str) -> Option<String> {
    let stat = git(dir, &["diff", "--stat=120", before, after, "--"]).await.ok()?;
    (!stat.trim().is_empty()).then_some(stat)
}

/// Whether a local branch exists.
pub async fn branch_exists(dir: &Path, branch: &str) -> bool {
    git(dir, &["rev-parse", "--verify", "--quiet", &format!("refs/heads/{branch}")]).await.is_ok()
}

/// Commits on `branch` that no other branch, remote branch or tag contains.
pub async fn unmerged_commits(dir: &Path, branch: &str) -> Result<usize, GitError> {
    // With --branches, an --exclude pattern is matched without the refs/heads/ prefix.
    let exclude = format!("--exclude={branch}");
    let out =
        git(dir, &["rev-list", "--count", branch, "--not", &exclude, "--branches", "--remotes", "--tags"]).await?;
    out.trim().parse().map_err(|_| GitError::UnexpectedOutput { command: "rev-list".into(), output: out.clone() })
}

/// Whether a working tree has uncommitted changes (tracked or untracked).
pub async fn is_dirty(dir: &Path) -> Result<bool, GitError> {
    Ok(!git(dir, &["status", "--porcelain"]).await?.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refusal_keeps_gits_own_words() {
        let dir = tempfile::tempdir().unwrap();
        let err = git(dir.path(), &["rev-parse", "HEAD"]).await.unwrap_err();
        assert!(err.says("not a git repository"), "{err}");
        assert!(err.to_string().starts_with("git rev-parse HEAD failed: "), "{err}");
        assert!(!is_repository(dir.path()).await);
    }
}
