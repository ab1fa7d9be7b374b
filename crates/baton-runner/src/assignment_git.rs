//! What an assignment produced, read from git on this host: its base, how many commits its
//! branch is ahead, the diff stat of its whole change, whether its worktree holds uncommitted
//! work, and the unified diff of the whole assignment (`base_commit..branch`) or of one job
//! (`git_head_before..git_head_after`).
//!
//! Everything here only reads. The commands are the ones a person would type, so the figures
//! baton shows can be reproduced by hand; stored values reach git after `--end-of-options`, so
//! none can be taken for an option.

use crate::git::{self, GitError};
use baton_core::{Assignment, Job, JobStatus};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt};

/// Lines of unified diff the API and the dashboard show before cutting.
pub const SHOWN_LINES: usize = 5000;
/// Bytes shown before cutting: a few minified lines can be megabytes on their own.
pub const SHOWN_BYTES: usize = 2 << 20;
/// How long reading an assignment's summary may take: `baton assignment` and the API answer
/// without the figures rather than hang on a huge or locked repository.
const SUMMARY_LIMIT: Duration = Duration::from_secs(10);
/// Uncommitted files named in a warning before "and N more".
const LISTED_FILES: usize = 5;

/// The figures `baton assignment` and `GET /api/assignments/{id}` add to an assignment. Each is
/// `None` when it cannot be computed here (no worktree yet, another host, no recorded base).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Stored on the assignment itself; repeated here for the views, not in its JSON.
    #[serde(skip)]
    pub base_commit: Option<String>,
    #[serde(skip)]
    pub base_branch: Option<String>,
    /// Commits on the branch since `base_commit` (`git rev-list --count base..branch`).
    pub commits_ahead: Option<u32>,
    /// `git diff --stat=120 base branch`; empty when the branch changed nothing.
    pub diff_stat: Option<String>,
    /// Whether the worktree has changes that are on no commit (with `commit = "off"`, after a
    /// refused commit hook, or files a checkpoint left out).
    pub worktree_dirty: Option<bool>,
    /// Those files (what `git status` lists), for the warning.
    #[serde(skip)]
    pub uncommitted: Vec<String>,
}

impl Summary {
    /// The plain warning a person sees when the worktree holds uncommitted work.
    pub fn dirty_warning(&self, worktree: &str) -> Option<String> {
        match self.worktree_dirty {
            Some(true) => uncommitted_warning(&self.uncommitted, worktree, ""),
            _ => None,
        }
    }
}

/// "The worktree has uncommitted changes …" naming the first few `files` (`also` adds where else
/// they are missing); `None` when there are none.
pub fn uncommitted_warning(files: &[String], worktree: &str, also: &str) -> Option<String> {
    if files.is_empty() {
        return None;
    }
    let mut named = files.iter().take(LISTED_FILES).cloned().collect::<Vec<_>>().join(", ");
    if files.len() > LISTED_FILES {
        named.push_str(&format!(" and {} more", files.len() - LISTED_FILES));
    }
    Some(format!(
        "the worktree has uncommitted changes that are not on the branch{also} ({named}); see git -C {worktree} status"
    ))
}

/// An assignment's JSON with its [`Summary`] fields: what `baton assignment --json` and
/// `GET /api/assignments/{id}` print.
#[derive(Debug, Serialize)]
pub struct WithSummary<'a, T: Serialize> {
    #[serde(flatten)]
    pub item: &'a T,
    #[serde(flatten)]
    pub git: &'a Summary,
}

/// Why there is no diff to show; each message is one line that says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(
        "assignment {id} has no branch yet: its first job has not run in a worktree (with isolation = \"worktree\")"
    )]
    NoBranch { id: String },
    #[error("assignment {id}'s worktree is on host {host}, not on this one ({here}): run this there")]
    OtherHost { id: String, host: String, here: String },
    #[error("assignment {id} has no recorded base commit; compare by hand: git diff <its base>..{branch}")]
    NoBase { id: String, branch: String },
    #[error("assignment {id}'s branch {branch} no longer exists here (removed by baton clean or by hand)")]
    BranchGone { id: String, branch: String },
    #[error("job {job} has not changed anything yet: it has not started (its status is {status})")]
    JobNotStarted { job: String, status: JobStatus },
    #[error("job {job} ran without recorded commits (outside a worktree); baton diff {assignment} shows the assignment's change")]
    JobWithoutCommits { job: String, assignment: String },
    #[error("job {job} is still running: its change is known once it ends (baton diff {assignment} shows what is committed so far)")]
    JobRunning { job: String, assignment: String },
    #[error("cannot read the diff: {0}")]
    Git(#[from] GitError),
}

impl DiffError {
    /// Whether git itself failed (a fault), rather than the diff not existing (yet, or here).
    pub fn is_fault(&self) -> bool {
        matches!(self, DiffError::Git(_))
    }
}

/// Two commits to compare, and the folder git runs in.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    pub dir: PathBuf,
    pub from: String,
    pub to: String,
    /// The assignment's worktree, when it still exists here.
    pub worktree: Option<PathBuf>,
}

/// One changed file, from `git diff --numstat`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileChange {
    pub path: String,
    /// The path before a rename.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// Lines added and removed; `None` for a binary file.
    pub added: Option<u64>,
    pub removed: Option<u64>,
    pub binary: bool,
}

/// A diff as the API, the dashboard and `baton diff --json` show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub assignment_id: String,
    /// The job whose change this is; `None` for the whole assignment.
    pub job_id: Option<String>,
    /// The commits compared: the base (or the job's start) and the branch (or the job's end).
    pub from: String,
    pub to: String,
    pub files: Vec<FileChange>,
    /// `git diff --stat=120 from to`.
    pub diff_stat: String,
    /// The unified diff, cut after [`Limits`] when `truncated`; `None` when only the stat was asked for.
    pub diff: Option<String>,
    pub truncated: bool,
    /// The command that prints all of it.
    pub command: String,
}

/// How much unified diff to read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub lines: usize,
    pub bytes: usize,
}

impl Limits {
    /// What a page shows.
    pub const SHOWN: Limits = Limits { lines: SHOWN_LINES, bytes: SHOWN_BYTES };
    /// Everything (`baton diff`).
    pub const ALL: Limits = Limits { lines: usize::MAX, bytes: usize::MAX };
}

/// Where git can read this assignment's commits: its worktree when it is on this host, else
/// the repository itself (the branch outlives a removed worktree).
fn git_dir(a: &Assignment, repo_root: &Path, here: &str) -> Result<(PathBuf, Option<PathBuf>), DiffError> {
    if let Some(host) = a.host.as_deref().filter(|h| *h != here) {
        return Err(DiffError::OtherHost { id: a.id.clone(), host: host.to_string(), here: here.to_string() });
    }
    let tree = a.worktree.as_deref().map(PathBuf::from).filter(|t| t.join(".git").exists());
    match tree {
        Some(tree) => Ok((tree.clone(), Some(tree))),
        None => Ok((repo_root.to_path_buf(), None)),
    }
}

/// The whole assignment: its base commit against its branch's tip.
pub async fn assignment_range(a: &Assignment, repo_root: &Path, here: &str) -> Result<Range, DiffError> {
    let Some(branch) = a.branch.clone() else {
        return Err(DiffError::NoBranch { id: a.id.clone() });
    };
    let (dir, worktree) = git_dir(a, repo_root, here)?;
    let Some(base) = a.base_commit.clone() else {
        return Err(DiffError::NoBase { id: a.id.clone(), branch });
    };
    let Some(tip) = commit_of(&dir, &format!("refs/heads/{branch}")).await else {
        return Err(DiffError::BranchGone { id: a.id.clone(), branch });
    };
    Ok(Range { dir, from: base, to: tip, worktree })
}

/// One job: the commit its latest attempt started at against the one it ended at.
pub async fn job_range(a: &Assignment, job: &Job, repo_root: &Path, here: &str) -> Result<Range, DiffError> {
    let (before, after) = match (&job.git_head_before, &job.git_head_after) {
        (Some(before), Some(after)) => (before.clone(), after.clone()),
        _ if job.status == JobStatus::Running => {
            return Err(DiffError::JobRunning { job: job.id.clone(), assignment: a.id.clone() })
        }
        _ if job.started_at.is_none() => {
            return Err(DiffError::JobNotStarted { job: job.id.clone(), status: job.status })
        }
        _ => return Err(DiffError::JobWithoutCommits { job: job.id.clone(), assignment: a.id.clone() }),
    };
    let (dir, worktree) = git_dir(a, repo_root, here)?;
    Ok(Range { dir, from: before, to: after, worktree })
}

/// The full commit a ref or commit names, if it names one.
async fn commit_of(dir: &Path, name: &str) -> Option<String> {
    let spec = format!("{name}^{{commit}}");
    git::git(dir, &["rev-parse", "--verify", "--quiet", "--end-of-options", &spec]).await.ok().filter(|c| !c.is_empty())
}

impl Range {
    /// `git diff --stat=120 from to`, as `baton assignment` and the PM prompt show it.
    pub async fn stat(&self) -> Result<String, GitError> {
        git::git(&self.dir, &["diff", "--stat=120", "--no-ext-diff", "--end-of-options", &self.from, &self.to, "--"])
            .await
    }

    /// Commits reachable from `to` but not from `from`.
    pub async fn commits_ahead(&self) -> Result<u32, GitError> {
        let range = format!("{}..{}", self.from, self.to);
        let out = git::git(&self.dir, &["rev-list", "--count", "--end-of-options", &range, "--"]).await?;
        out.trim().parse().map_err(|_| GitError::UnexpectedOutput { command: "rev-list --count".into(), output: out })
    }

    /// Every changed file with its added and removed line counts.
    pub async fn files(&self) -> Result<Vec<FileChange>, GitError> {
        let args = ["diff", "--numstat", "-z", "--no-ext-diff", "--end-of-options", &self.from, &self.to, "--"];
        let out = git::git(&self.dir, &args).await?;
        Ok(parse_numstat(&out))
    }

    /// The unified diff, read up to `limits`; `true` with it when it was cut.
    pub async fn text(&self, limits: Limits) -> Result<(String, bool), GitError> {
        let args = ["diff", "--no-color", "--no-ext-diff", "--end-of-options", &self.from, &self.to, "--"];
        read_limited(&self.dir, &args, limits).await
    }

    /// Everything a diff view shows: files, stat and (unless `stat_only`) the text.
    pub async fn diff(
        &self,
        a: &Assignment,
        job: Option<&Job>,
        limits: Limits,
        stat_only: bool,
    ) -> Result<Diff, GitError> {
        let files = self.files().await?;
        let diff_stat = self.stat().await?;
        let (diff, truncated) = if stat_only {
            (None, false)
        } else {
            let (text, cut) = self.text(limits).await?;
            (Some(text), cut)
        };
        let command = match job {
            Some(job) => format!("baton diff {} --job {}", a.id, job.id),
            None => format!("baton diff {}", a.id),
        };
        Ok(Diff {
            assignment_id: a.id.clone(),
            job_id: job.map(|j| j.id.clone()),
            from: self.from.clone(),
            to: self.to.clone(),
            files,
            diff_stat,
            diff,
            truncated,
            command,
        })
    }
}

/// The [`Summary`] of an assignment, as far as it can be computed on this host within a time
/// limit. Never fails: what cannot be read stays `None`.
pub async fn summary(a: &Assignment, repo_root: &Path, here: &str) -> Summary {
    let mut s =
        Summary { base_commit: a.base_commit.clone(), base_branch: a.base_branch.clone(), ..Summary::default() };
    let read = async {
        let mut found = Summary::default();
        if let Ok(range) = assignment_range(a, repo_root, here).await {
            found.commits_ahead = range.commits_ahead().await.ok();
            found.diff_stat = range.stat().await.ok();
        }
        if let Some(files) = leftovers(a, repo_root, here).await {
            found.worktree_dirty = Some(!files.is_empty());
            found.uncommitted = files;
        }
        found
    };
    if let Ok(found) = tokio::time::timeout(SUMMARY_LIMIT, read).await {
        s.commits_ahead = found.commits_ahead;
        s.diff_stat = found.diff_stat;
        s.worktree_dirty = found.worktree_dirty;
        s.uncommitted = found.uncommitted;
    }
    s
}

/// The files in the assignment's worktree that are on no commit; `None` when it has no worktree
/// on this host or git cannot tell.
pub async fn leftovers(a: &Assignment, repo_root: &Path, here: &str) -> Option<Vec<String>> {
    match git_dir(a, repo_root, here) {
        Ok((_, Some(tree))) => uncommitted(&tree).await.ok(),
        _ => None,
    }
}

/// Files in a worktree that are on no commit: changed, deleted or new and not ignored. Files
/// `worktree_setup` created are not counted (checkpoints leave them out on purpose, and say so).
async fn uncommitted(tree: &Path) -> Result<Vec<String>, GitError> {
    let out = git::git(tree, &["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"]).await?;
    let from_setup = crate::checkpoint::setup_baseline(tree).await;
    Ok(out
        .split('\0')
        .filter(|entry| entry.len() > 3)
        .map(|entry| entry[3..].to_string())
        .filter(|file| !from_setup.contains(file))
        .collect())
}

/// Parses `git diff --numstat -z`: `added\tremoved\tpath\0`, or for a rename
/// `added\tremoved\t\0old\0new\0`; binary files count `-`.
fn parse_numstat(out: &str) -> Vec<FileChange> {
    let mut files = Vec::new();
    let mut fields = out.split('\0');
    while let Some(entry) = fields.next() {
        let mut parts = entry.splitn(3, '\t');
        let (Some(added), Some(removed), Some(path)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let (path, old_path) = if path.is_empty() {
            let old = fields.next().unwrap_or_default().to_string();
            (fields.next().unwrap_or_default().to_string(), Some(old))
        } else {
            (path.to_string(), None)
        };
        let binary = added == "-" && removed == "-";
        files.push(FileChange { path, old_path, added: added.parse().ok(), removed: removed.parse().ok(), binary });
    }
    files
}

/// Runs `git -C dir ARGS` and reads its output up to `limits` (whole lines; a single line over
/// the byte limit is cut inside), stopping git once enough is read.
async fn read_limited(dir: &Path, args: &[&str], limits: Limits) -> Result<(String, bool), GitError> {
    use std::process::Stdio;
    let mut child = git::command(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(git::spawn_error)?;
    let command = args.join(" ");
    let mut stderr = child.stderr.take();
    // Read alongside stdout, so a chatty stderr cannot fill its pipe and stall git.
    let errors = tokio::spawn(async move {
        let mut text = Vec::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = stderr.read_to_end(&mut text).await;
        }
        text
    });
    let Some(stdout) = child.stdout.take() else {
        return Err(GitError::UnexpectedOutput { command, output: "no output pipe".into() });
    };
    let mut reader = tokio::io::BufReader::new(stdout);
    let mut text = Vec::new();
    let mut line = Vec::new();
    let mut lines = 0usize;
    let mut truncated = false;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).await.map_err(|source| GitError::Spawn { source })?;
        if n == 0 {
            break;
        }
        if lines >= limits.lines || text.len() >= limits.bytes {
            truncated = true;
            break;
        }
        let room = limits.bytes - text.len();
        if line.len() > room {
            text.extend_from_slice(&line[..room]);
            truncated = true;
            break;
        }
        text.extend_from_slice(&line);
        lines += 1;
    }
    let mut shown = String::from_utf8_lossy(&text).into_owned();
    if truncated {
        // Cutting inside a multi-byte character leaves a replacement character; drop it.
        if shown.ends_with('\u{fffd}') && !text.ends_with("\u{fffd}".as_bytes()) {
            shown.pop();
        }
        let _ = child.start_kill();
        let _ = child.wait().await;
        return Ok((shown, true));
    }
    let status = child.wait().await.map_err(|source| GitError::Spawn { source })?;
    let stderr = errors.await.unwrap_or_default();
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        let message = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ");
        return Err(GitError::Failed { command, message });
    }
    Ok((shown, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numstat_reads_plain_renamed_and_binary_files() {
        let out = ["3\t1\tsrc/a.rs", "-\t-\tlogo.png", "5\t2\t", "old name.txt", "new name.txt", ""].join("\0");
        let files = parse_numstat(&out);
        assert_eq!(files.len(), 3);
        assert_eq!(
            files[0],
            FileChange { path: "src/a.rs".into(), old_path: None, added: Some(3), removed: Some(1), binary: false }
        );
        assert!(files[1].binary && files[1].added.is_none());
        assert_eq!(files[2].path, "new name.txt");
        assert_eq!(files[2].old_path.as_deref(), Some("old name.txt"));
    }

    fn git_in(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@baton.invalid", "-c", "commit.gpgsign=false"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }

    /// A repository with a base commit and a branch two commits ahead of it.
    fn repository() -> (tempfile::TempDir, Assignment) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git_in(root, &["init", "-q", "-b", "main"]);
        std::fs::write(root.join("a.txt"), "one\n").unwrap();
        git_in(root, &["add", "a.txt"]);
        git_in(root, &["commit", "-q", "-m", "base"]);
        let base = git_in(root, &["rev-parse", "HEAD"]);
        git_in(root, &["switch", "-q", "-c", "baton/a1"]);
        let body: String = (0..20).map(|i| format!("line {i}\n")).collect();
        std::fs::write(root.join("b.txt"), body).unwrap();
        git_in(root, &["add", "b.txt"]);
        git_in(root, &["commit", "-q", "-m", "one"]);
        std::fs::write(root.join("a.txt"), "two\n").unwrap();
        git_in(root, &["commit", "-q", "-am", "two"]);
        let a = Assignment {
            id: "a1".into(),
            namespace: "ns".into(),
            north_star: "ship it".into(),
            status: baton_core::AssignmentStatus::Active,
            reason: None,
            created_at: 0,
            updated_at: 0,
            max_jobs: 5,
            budget_usd: None,
            cost_usd: None,
            budget_tokens: None,
            tokens_spent: None,
            job_count: 0,
            base_ref: None,
            branch: Some("baton/a1".into()),
            worktree: Some(root.display().to_string()),
            host: Some("here".into()),
            base_branch: Some("main".into()),
            base_commit: Some(base),
            context: String::new(),
            merged_commit: None,
            pushed_commit: None,
            final_head: None,
            activated_at: None,
        };
        (dir, a)
    }

    #[tokio::test]
    async fn the_summary_counts_commits_and_reproduces_the_stat() {
        let (dir, a) = repository();
        let s = summary(&a, dir.path(), "here").await;
        assert_eq!(s.commits_ahead, Some(2));
        let stat = s.diff_stat.clone().unwrap();
        let by_hand = git_in(dir.path(), &["diff", "--stat=120", a.base_commit.as_deref().unwrap(), "baton/a1"]);
        assert_eq!(stat, by_hand);
        assert_eq!(s.worktree_dirty, Some(false));

        std::fs::write(dir.path().join("notes.txt"), "left behind\n").unwrap();
        let s = summary(&a, dir.path(), "here").await;
        assert_eq!(s.worktree_dirty, Some(true));
        assert!(s.dirty_warning("/tree").unwrap().contains("notes.txt"), "{s:?}");
    }

    #[tokio::test]
    async fn what_cannot_be_computed_here_is_none() {
        let (dir, mut a) = repository();
        let elsewhere = summary(&a, dir.path(), "another-host").await;
        assert_eq!((elsewhere.commits_ahead, elsewhere.worktree_dirty), (None, None));
        let err = assignment_range(&a, dir.path(), "another-host").await.unwrap_err();
        assert!(err.to_string().contains("on host here"), "{err}");
        a.branch = None;
        let err = assignment_range(&a, dir.path(), "here").await.unwrap_err();
        assert!(err.to_string().contains("has no branch yet"), "{err}");
        // A stored value that looks like an option is a revision to git, never an option.
        a.branch = Some("baton/a1".into());
        a.base_commit = Some("--output=/tmp/baton-evil".into());
        let range = assignment_range(&a, dir.path(), "here").await.unwrap();
        assert!(range.stat().await.is_err());
        assert!(!Path::new("/tmp/baton-evil").exists());
    }

    #[tokio::test]
    async fn a_long_diff_is_cut_at_the_limit() {
        let (dir, a) = repository();
        let range = assignment_range(&a, dir.path(), "here").await.unwrap();
        let (all, cut) = range.text(Limits::ALL).await.unwrap();
        assert!(!cut && all.contains("+line 19\n") && all.contains("-one\n+two\n"), "{all}");
        let (some, cut) = range.text(Limits { lines: 5, bytes: usize::MAX }).await.unwrap();
        assert!(cut);
        assert_eq!(some.lines().count(), 5);
        assert!(all.starts_with(&some));
        let (bytes, cut) = range.text(Limits { lines: usize::MAX, bytes: 30 }).await.unwrap();
        assert!(cut && bytes.len() <= 30);
        let files = range.files().await.unwrap();
        let names: Vec<_> = files.iter().map(|f| (f.path.as_str(), f.added, f.removed)).collect();
        assert_eq!(names, vec![("a.txt", Some(1), Some(1)), ("b.txt", Some(20), Some(0))]);
    }
}
