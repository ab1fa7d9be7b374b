//! Checkpoint commits: the work of every attempt lands on its assignment's branch.
//!
//! Agents mostly do not commit (Claude Code commits only when asked), so after every attempt,
//! whatever its outcome, baton commits what the attempt left uncommitted — modified, deleted and
//! new files git does not ignore — on the assignment's branch. Commits the agent made stay as
//! they are. Left out, uncommitted, with a warning the PM sees: files `worktree_setup` created,
//! files matching `commit_exclude` (secrets) and files over `commit_max_file_bytes`. The
//! repository's hooks run as for any commit, under a time limit; a refusal is recorded, never
//! bypassed, and the changes stay in the worktree.
//!
//! Before an attempt starts, [`check_worktree`] refuses a worktree that is not on its branch
//! (detached, moved, mid-rebase), so nothing is ever committed on the wrong branch.

use crate::git::{self, GitError};
use baton_core::config::{CommitMode, Isolation};
use baton_core::{Config, JobType};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the repository's commit hooks may take.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a checkpoint waits for another git process to let go of the worktree's index.
const LOCK_PATIENCE: Duration = Duration::from_secs(5);
/// How often it looks whether the lock is free.
const LOCK_POLL: Duration = Duration::from_millis(20);
/// Bytes of a refusing hook's output kept in the warning.
const HOOK_OUTPUT_CHARS: usize = 600;
/// Files named in one warning before "and N more".
const LISTED_FILES: usize = 10;
/// The file in a worktree's git folder that lists what existed right after `worktree_setup`.
const SETUP_BASELINE: &str = "baton-setup-baseline";
/// The identity of checkpoint commits in a repository with none configured.
const FALLBACK_IDENTITY: [&str; 2] = ["user.name=baton", "user.email=baton@localhost"];

/// The attempt a checkpoint commits for, as its message and trailers name it.
#[derive(Debug, Clone)]
pub struct Author<'a> {
    pub assignment_id: &'a str,
    pub job_id: &'a str,
    pub job_type: JobType,
    pub attempt: u32,
    pub harness: &'a str,
    /// The job's summary line (or what stands in for it).
    pub summary: String,
}

/// What a checkpoint did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checkpoint {
    /// The checkpoint commit, when there was something to commit and it was made.
    pub commit: Option<String>,
    /// What the job's PM must know: files left out, a refused hook, a stale lock removed.
    pub warnings: Vec<String>,
}

/// Whether checkpoints apply: worktree isolation (never the person's own checkout) and
/// `commit = "checkpoint"`.
pub fn enabled(config: &Config) -> bool {
    config.commit == CommitMode::Checkpoint && config.isolation == Isolation::Worktree
}

/// Refuses a worktree an attempt must not start in: HEAD detached, on another branch than the
/// assignment's, on a branch that no longer exists, or in the middle of a rebase or merge.
pub async fn check_worktree(dir: &Path, branch: &str) -> Result<(), String> {
    let shown = dir.display();
    let fix = format!("(git -C {shown} switch {branch}), then retry the job");
    match git::git(dir, &["symbolic-ref", "-q", "HEAD"]).await {
        Ok(head) if head == format!("refs/heads/{branch}") => {}
        Ok(head) => {
            let on = head.strip_prefix("refs/heads/").unwrap_or(&head);
            return Err(format!("the worktree {shown} is on branch {on}, not {branch}: switch it back {fix}"));
        }
        Err(_) => return Err(format!("the worktree {shown} has a detached HEAD: check out {branch} {fix}")),
    }
    if git::head(dir).await.is_none() {
        return Err(format!(
            "the branch {branch} of worktree {shown} no longer exists (deleted by hand?): recreate it at the \
             commit you want (git -C {shown} branch {branch} <commit>), then retry the job"
        ));
    }
    for (marker, what) in [("rebase-merge", "a rebase"), ("rebase-apply", "a rebase"), ("MERGE_HEAD", "a merge")] {
        if git_path(dir, marker).await.is_some_and(|p| p.exists()) {
            return Err(format!(
                "the worktree {shown} is in the middle of {what}: finish or abort it (git -C {shown} status), \
                 then retry the job"
            ));
        }
    }
    Ok(())
}

/// Commits what the attempt left uncommitted in `dir` on `branch`.
pub async fn commit(dir: &Path, branch: &str, author: &Author<'_>, config: &Config) -> Checkpoint {
    let mut done = Checkpoint::default();
    if let Err(refusal) = check_worktree(dir, branch).await {
        done.warnings.push(format!("nothing was committed: {refusal}"));
        return done;
    }
    if let Some(warning) = clear_stale_lock(dir).await {
        let held = warning.starts_with("nothing was committed");
        done.warnings.push(warning);
        if held {
            return done;
        }
    }
    let changed = match changed_files(dir).await {
        Ok(files) => files,
        Err(e) => {
            done.warnings.push(format!("nothing was committed: cannot list the changes: {e}"));
            return done;
        }
    };
    let selection = select(dir, changed, &setup_baseline(dir).await, config);
    done.warnings.extend(selection.warnings());
    if selection.commit.is_empty() {
        return done;
    }
    let identity = identity(dir).await;
    let mut paths = Vec::new();
    for file in &selection.commit {
        paths.extend_from_slice(file.as_bytes());
        paths.push(0);
    }
    let stage = ["--literal-pathspecs", "add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul"];
    if let Err(e) = git::git_with_input(dir, &[], &stage, &paths, HOOK_TIMEOUT).await {
        done.warnings.push(format!("nothing was committed: staging failed: {e}"));
        return done;
    }
    match git::git_with_input(dir, &identity, &["commit", "-q", "-F", "-"], message(author).as_bytes(), HOOK_TIMEOUT)
        .await
    {
        Ok(_) => done.commit = git::head(dir).await,
        Err(e) => {
            // The changes stay in the worktree, unstaged as the agent left them.
            let _ = git::git(dir, &["reset", "-q"]).await;
            done.warnings.push(refused(&e, dir));
        }
    }
    done
}

/// Records which files exist (untracked or changed) right after a worktree was created and set
/// up: checkpoints never commit them.
pub async fn record_setup_baseline(dir: &Path) {
    let Some(path) = git_path(dir, SETUP_BASELINE).await else { return };
    let files = changed_files(dir).await.unwrap_or_default();
    let mut text = Vec::new();
    for file in &files {
        text.extend_from_slice(file.as_bytes());
        text.push(0);
    }
    if let Err(e) = std::fs::write(&path, text) {
        tracing::warn!(path = %path.display(), "cannot record the worktree's setup baseline: {e}");
    }
}

/// The checkpoint commit's message: `<type>: <summary>`, a blank line, and trailers.
pub fn message(author: &Author<'_>) -> String {
    let summary: String = author.summary.lines().next().unwrap_or_default().chars().take(200).collect();
    format!(
        "{}: {}\n\nBaton-Assignment: {}\nBaton-Job: {}\nBaton-Attempt: {}\nBaton-Harness: {}\n",
        author.job_type, summary, author.assignment_id, author.job_id, author.attempt, author.harness
    )
}

fn refused(e: &GitError, dir: &Path) -> String {
    let shown = dir.display();
    match e {
        GitError::TimedOut { limit, .. } => format!(
            "the checkpoint commit's hooks did not finish within {}s; the changes stay uncommitted in {shown}",
            limit.as_secs()
        ),
        GitError::Failed { message, .. } => {
            let mut output: String = message.chars().take(HOOK_OUTPUT_CHARS).collect();
            if message.chars().count() > HOOK_OUTPUT_CHARS {
                output.push('…');
            }
            format!(
                "the checkpoint commit was refused (a commit hook?): {output}; the changes stay uncommitted in {shown}"
            )
        }
        other => format!("the checkpoint commit failed: {other}; the changes stay uncommitted in {shown}"),
    }
}

/// The repository's identity when it has one, else baton's own: a checkpoint never fails for a
/// missing `user.email`.
async fn identity(dir: &Path) -> Vec<String> {
    let mut fallback = Vec::new();
    for (key, setting) in [("user.name", FALLBACK_IDENTITY[0]), ("user.email", FALLBACK_IDENTITY[1])] {
        if !git::git(dir, &["config", key]).await.is_ok_and(|v| !v.is_empty()) {
            fallback.push(setting.to_string());
        }
    }
    fallback
}

/// A path inside the worktree's own git folder.
async fn git_path(dir: &Path, name: &str) -> Option<PathBuf> {
    let path = git::git(dir, &["rev-parse", "--path-format=absolute", "--git-path", name]).await.ok()?;
    Some(PathBuf::from(path))
}

/// Removes an `index.lock` whose git process is gone (an agent killed mid-commit), saying so; or
/// says nothing can be committed while a live git process holds it past [`LOCK_PATIENCE`].
async fn clear_stale_lock(dir: &Path) -> Option<String> {
    let lock = git_path(dir, "index.lock").await?;
    // A live git (a person's `git status` in the worktree, say) holds the lock for moments:
    // wait for it a little before giving the commit up.
    let patience = tokio::time::Instant::now() + LOCK_PATIENCE;
    loop {
        if !lock.exists() {
            return None;
        }
        match git_process_in(dir) {
            Some(pid) if tokio::time::Instant::now() >= patience => {
                return Some(format!(
                    "nothing was committed: {} is held by a running git process (pid {pid})",
                    lock.display()
                ));
            }
            Some(_) => tokio::time::sleep(LOCK_POLL).await,
            None => break,
        }
    }
    if !lock.exists() {
        return None;
    }
    match std::fs::remove_file(&lock) {
        Ok(()) => Some(format!("removed a stale {} left by a git process that is gone", lock.display())),
        Err(e) => Some(format!("nothing was committed: cannot remove the stale {}: {e}", lock.display())),
    }
}

/// A live `git` process working in `dir`, if any (from /proc).
fn git_process_in(dir: &Path) -> Option<u32> {
    let dir = std::fs::canonicalize(dir).ok()?;
    let entries = std::fs::read_dir("/proc").ok()?;
    entries.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
        if comm.trim() != "git" {
            return None;
        }
        let cwd = std::fs::read_link(entry.path().join("cwd")).ok()?;
        cwd.starts_with(&dir).then_some(pid)
    })
}

/// Every path git reports as changed or untracked (not ignored), renames as their two paths.
async fn changed_files(dir: &Path) -> Result<Vec<String>, GitError> {
    let out = git::git_with_input(
        dir,
        &[],
        &["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"],
        b"",
        HOOK_TIMEOUT,
    )
    .await?;
    Ok(out.split('\0').filter(|entry| entry.len() > 3).map(|entry| entry[3..].to_string()).collect())
}

/// The paths listed in the worktree's setup baseline.
pub async fn setup_baseline(dir: &Path) -> Vec<String> {
    let Some(path) = git_path(dir, SETUP_BASELINE).await else { return Vec::new() };
    let text = std::fs::read(path).unwrap_or_default();
    String::from_utf8_lossy(&text).split('\0').filter(|p| !p.is_empty()).map(str::to_string).collect()
}

/// Which changed files a checkpoint commits, and which it leaves out and why.
#[derive(Debug, Default, PartialEq)]
struct Selection {
    commit: Vec<String>,
    from_setup: Vec<String>,
    excluded: Vec<String>,
    too_large: Vec<String>,
}

impl Selection {
    fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.excluded.is_empty() {
            out.push(format!(
                "left out of the checkpoint commit (they match commit_exclude), uncommitted: {}",
                listed(&self.excluded)
            ));
        }
        if !self.too_large.is_empty() {
            out.push(format!(
                "left out of the checkpoint commit (larger than commit_max_file_bytes), uncommitted: {}",
                listed(&self.too_large)
            ));
        }
        if !self.from_setup.is_empty() {
            out.push(format!("{SETUP_WARNING}; add them to .gitignore): {}", listed(&self.from_setup)));
        }
        out
    }
}

/// The opening of the warning about files `worktree_setup` created.
const SETUP_WARNING: &str = "left out of the checkpoint commit (worktree_setup created them";

/// Whether a checkpoint warning is the one about files `worktree_setup` created.
pub fn is_setup_warning(warning: &str) -> bool {
    warning.starts_with(SETUP_WARNING)
}

fn listed(files: &[String]) -> String {
    let mut text = files.iter().take(LISTED_FILES).cloned().collect::<Vec<_>>().join(", ");
    if files.len() > LISTED_FILES {
        text.push_str(&format!(" and {} more", files.len() - LISTED_FILES));
    }
    text
}

fn select(dir: &Path, changed: Vec<String>, baseline: &[String], config: &Config) -> Selection {
    let mut selection = Selection::default();
    for file in changed {
        if baseline.contains(&file) {
            selection.from_setup.push(file);
        } else if config.commit_exclude.iter().any(|pattern| excluded_by(pattern, &file)) {
            selection.excluded.push(file);
        } else if std::fs::metadata(dir.join(&file)).is_ok_and(|m| m.len() > config.commit_max_file_bytes) {
            selection.too_large.push(file);
        } else {
            selection.commit.push(file);
        }
    }
    selection
}

/// Whether `pattern` (`*` matches any run of characters but `/`) matches the path or its file name.
fn excluded_by(pattern: &str, path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    glob(pattern.as_bytes(), path.as_bytes()) || glob(pattern.as_bytes(), name.as_bytes())
}

fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob(&pattern[1..], text) || (!text.is_empty() && text[0] != b'/' && glob(pattern, &text[1..]))
        }
        (Some(b'?'), Some(c)) if *c != b'/' => glob(&pattern[1..], &text[1..]),
        (Some(p), Some(c)) if p == c => glob(&pattern[1..], &text[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_matched_by_name_or_path() {
        for (pattern, path, expected) in [
            (".env", ".env", true),
            (".env", "app/.env", true),
            ("*.pem", "certs/server.pem", true),
            ("*.key", "id.keys", false),
            ("config/*.json", "config/a.json", true),
            ("config/*.json", "config/deep/a.json", false),
        ] {
            assert_eq!(excluded_by(pattern, path), expected, "{pattern} vs {path}");
        }
    }

    #[test]
    fn the_message_has_a_subject_and_trailers() {
        let author = Author {
            assignment_id: "a1",
            job_id: "j1",
            job_type: JobType::Implement,
            attempt: 2,
            harness: "claude",
            summary: "made the failing test pass\nmore".into(),
        };
        assert_eq!(
            message(&author),
            "implement: made the failing test pass\n\nBaton-Assignment: a1\nBaton-Job: j1\nBaton-Attempt: 2\n\
             Baton-Harness: claude\n"
        );
    }
}
