//! One pass of the retention policy a person set in `[retention]`: what `baton gc`, `baton clean
//! --retention` and `GET /api/gc` share. Nothing is removed without a policy.
//!
//! Worktrees on this host of finished assignments are candidates under `worktrees = "merged"`
//! (at once) or `finished_after` (once the assignment ended that long ago); each is removed only
//! when git shows it clean and merged at that moment — [`crate::retire`] re-checks it against
//! `git worktree list` and the branch's merge state, never forces, and keeps dirty or unmerged
//! work, saying why. Transcripts of jobs finished longer ago than `transcripts_after` are dropped,
//! keeping results and costs; the agent CLIs' own session files that finished assignments' jobs
//! recorded go after `agent_sessions_after` ([`crate::agent_sessions`]). A dry run changes nothing and reports what would go. Each worktree
//! is measured before it goes, so the report says what space was (or would be) freed.

use crate::agent_sessions::{self, SessionFile};
use crate::retire;
use crate::worktree_rules::{self, Cleaned};
use baton_core::store::{AssignmentFilter, JobFilter};
use baton_core::time::Millis;
use baton_core::{Assignment, Config, Error, Job, Result, Store};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// What one pass did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GcReport {
    pub dry_run: bool,
    /// Worktrees removed (or, dry, that would be), and those kept with why.
    pub worktrees: Vec<GcWorktree>,
    /// Bytes the removed worktrees held (dry: those that would be removed hold).
    pub bytes_freed: u64,
    /// Finished jobs whose transcript events and prompt texts were dropped (or would be).
    pub transcripts_dropped: u64,
    /// The agent CLIs' session files of finished assignments' jobs removed (or, dry, that
    /// would be), and those kept with why.
    pub agent_sessions: Vec<SessionFile>,
    /// Bytes the removed session files held (dry: those that would be removed hold).
    pub agent_sessions_bytes_freed: u64,
}

/// One worktree the pass looked at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GcWorktree {
    #[serde(flatten)]
    pub cleaned: Cleaned,
    /// Its size on disk when the pass looked at it (`None`: it could not be read).
    pub bytes: Option<u64>,
}

/// The refusal when no policy is set, saying how to set one.
pub fn no_policy() -> Error {
    Error::invalid(
        "no retention policy is set, so nothing is removed: add [retention] worktrees = \"merged\", \
         finished_after = \"14d\", transcripts_after = \"30d\" and/or agent_sessions_after = \"30d\" to \
         .baton/config.toml",
    )
}

/// Applies `config`'s retention policy to namespace `ns` at `now`; refused without a policy.
pub async fn run(store: &dyn Store, config: &Config, ns: &str, now: Millis, dry_run: bool) -> Result<GcReport> {
    let policy = config.retention;
    if !policy.is_set() {
        return Err(no_policy());
    }
    let cutoff = |after_ms: u64| now.saturating_sub(i64::try_from(after_ms).unwrap_or(i64::MAX));
    let mut worktrees = Vec::new();
    if policy.worktrees_set() {
        let all = store.assignments(ns, &AssignmentFilter::default()).await?;
        let ended = match policy.finished_after_ms {
            Some(_) => ended_at(&all, &store.jobs(ns, &JobFilter::default()).await?),
            None => HashMap::new(),
        };
        // Worktrees live on the host that made them: another host's path is not there to check,
        // and judging it from here would forget a worktree that still exists.
        let here = crate::runner::host(config);
        let due = |a: &Assignment| {
            let old = |after| ended.get(a.id.as_str()).is_some_and(|at| *at < cutoff(after));
            policy.worktrees_merged || policy.finished_after_ms.is_some_and(old)
        };
        let candidates = all
            .iter()
            .filter(|a| !matches!(a.host.as_deref(), Some(h) if h != here))
            .filter(|a| worktree_rules::wants_cleaning(a) && due(a));
        for a in candidates {
            let bytes = match a.worktree.clone() {
                Some(tree) => tokio::task::spawn_blocking(move || disk_use(Path::new(&tree))).await.ok().flatten(),
                None => None,
            };
            let cleaned = retire::retire(&config.repo_root, a, dry_run).await;
            if cleaned.done {
                store.clear_workspace(ns, &a.id, cleaned.branch_kept()).await?;
            }
            worktrees.push(GcWorktree { cleaned, bytes });
        }
    }
    let transcripts_dropped = match policy.transcripts_after_ms {
        Some(after) => store.drop_transcripts(ns, cutoff(after), dry_run).await?,
        None => 0,
    };
    let agent_sessions = match policy.agent_sessions_after_ms {
        Some(after) => {
            let here = crate::runner::host(config);
            agent_sessions::sweep(store, config, ns, &here, cutoff(after), dry_run).await?
        }
        None => Vec::new(),
    };
    let agent_sessions_bytes_freed = agent_sessions
        .iter()
        .filter(|f| !f.outcome.starts_with("kept"))
        .map(|f| f.bytes)
        .fold(0u64, u64::saturating_add);
    let bytes_freed = worktrees
        .iter()
        .filter(|w| w.cleaned.done || (dry_run && !w.cleaned.outcome.starts_with("kept")))
        .filter_map(|w| w.bytes)
        .fold(0u64, u64::saturating_add);
    Ok(GcReport { dry_run, worktrees, bytes_freed, transcripts_dropped, agent_sessions, agent_sessions_bytes_freed })
}

/// When each assignment's work ended, which is what retention ages are counted from: its last
/// job's end, else (no job ever ended) its last change. Not its last change alone: a merge, or
/// the removal of its worktree, changes a finished assignment without making its work younger.
pub(crate) fn ended_at<'a>(assignments: &'a [Assignment], jobs: &[Job]) -> HashMap<&'a str, Millis> {
    let mut last_job_end: HashMap<&str, Millis> = HashMap::new();
    for job in jobs {
        if let Some(finished) = job.finished_at {
            let at = last_job_end.entry(job.assignment_id.as_str()).or_insert(finished);
            *at = (*at).max(finished);
        }
    }
    assignments
        .iter()
        .map(|a| (a.id.as_str(), last_job_end.get(a.id.as_str()).copied().unwrap_or(a.updated_at)))
        .collect()
}

/// Bytes of the regular files under `dir`, symbolic links not followed; `None` when `dir`
/// cannot be read at all.
pub fn disk_use(dir: &Path) -> Option<u64> {
    let mut total = 0u64;
    let mut pending = vec![std::fs::read_dir(dir).ok()?];
    while let Some(entries) = pending.pop() {
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if let Ok(sub) = std::fs::read_dir(entry.path()) {
                    pending.push(sub);
                }
            } else if meta.is_file() {
                total = total.saturating_add(meta.len());
            }
        }
    }
    Some(total)
}

/// `1.5 GiB`, `12.0 MiB`, `800 B`: a size as people read it.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The report as `baton gc` prints it: each worktree by name, then the space and transcripts.
pub fn describe(report: &GcReport, config: &Config) -> String {
    let mut text = String::new();
    for w in &report.worktrees {
        let c = &w.cleaned;
        let place = c.worktree.as_deref().unwrap_or("-");
        let size = w.bytes.map(|b| format!(" ({})", human_bytes(b))).unwrap_or_default();
        text.push_str(&format!("{}  {place}{size}  {}\n", c.assignment, c.outcome));
    }
    let policy = config.retention;
    if policy.worktrees_set() {
        if report.worktrees.is_empty() {
            text.push_str("no finished assignment's worktree is due for removal\n");
        } else {
            let verb = if report.dry_run { "would free" } else { "freed" };
            text.push_str(&format!("{verb} {}\n", human_bytes(report.bytes_freed)));
        }
    }
    if policy.transcripts_after_ms.is_some() {
        let verb = if report.dry_run { "would drop" } else { "dropped" };
        text.push_str(&format!("{verb} the transcripts of {} finished job(s)\n", report.transcripts_dropped));
    }
    if policy.agent_sessions_after_ms.is_some() {
        for f in &report.agent_sessions {
            text.push_str(&format!(
                "{}  {} session {}  {} ({})  {}\n",
                f.assignment,
                f.harness,
                f.session_id,
                f.path,
                human_bytes(f.bytes),
                f.outcome
            ));
        }
        let gone = report.agent_sessions.iter().filter(|f| !f.outcome.starts_with("kept")).count();
        let verb = if report.dry_run { "would remove" } else { "removed" };
        text.push_str(&format!(
            "{verb} {gone} agent session file(s) of finished assignments, {}\n",
            human_bytes(report.agent_sessions_bytes_freed)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(800), "800 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(20 * 1024 * 1024 * 1024), "20.0 GiB");
    }

    #[test]
    fn disk_use_sums_the_files_of_a_tree() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("a/b")).expect("dirs");
        std::fs::write(dir.path().join("a/one"), [0u8; 100]).expect("file");
        std::fs::write(dir.path().join("a/b/two"), [0u8; 23]).expect("file");
        assert_eq!(disk_use(dir.path()), Some(123));
        assert_eq!(disk_use(&dir.path().join("missing")), None);
    }
}
