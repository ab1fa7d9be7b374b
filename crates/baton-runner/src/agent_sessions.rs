//! The agent CLIs' own session files for `[retention] agent_sessions_after`: finding the files
//! of the sessions baton's jobs recorded, and removing them once the job's assignment ended that
//! long ago. Only recorded sessions go — a person's own sessions in the same folders stay.
//!
//! Where each CLI keeps them (as the real CLIs write them, see docs and the harness captures):
//! - claude: `$CLAUDE_CONFIG_DIR` or `~/.claude`, `projects/<the working directory with every
//!   character but letters and digits turned into '-'>/<session>.jsonl`, plus a `<session>/`
//!   folder when subagents ran;
//! - codex: `$CODEX_HOME` or `~/.codex`, `sessions/YYYY/MM/DD/rollout-<time>-<session>.jsonl`;
//! - gemini: `~/.gemini/tmp/<project>/chats/session-<time>-<first 8 of the session>.jsonl`,
//!   whose first line names the whole session id.
//!
//! The folders are found from the harness's `env` over the runner's own (a harness may set
//! `HOME`, `CODEX_HOME` or `CLAUDE_CONFIG_DIR`). A session another job still needs (one of an
//! assignment that is not due, which may carry it on) is kept. Links are never followed.

use baton_core::store::{AssignmentFilter, JobFilter};
use baton_core::time::Millis;
use baton_core::{Config, Job, Result, Store};
use baton_harness::Format;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One session file (or folder) of a finished assignment's job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionFile {
    pub assignment: String,
    pub job: String,
    pub harness: String,
    pub session_id: String,
    pub path: String,
    /// Its size when the pass looked at it.
    pub bytes: u64,
    /// `removed`, `would be removed`, or `kept: …` with why.
    pub outcome: String,
}

/// Where one CLI, under one home, keeps its sessions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Place {
    Claude(PathBuf),
    Codex(PathBuf),
    Gemini(PathBuf),
}

/// The session folder of a harness of `format` with environment `var`.
fn place(format: Format, var: &dyn Fn(&str) -> Option<String>) -> Option<Place> {
    let home = || var("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    let own = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    match format {
        Format::Claude => own("CLAUDE_CONFIG_DIR").or_else(|| Some(home()?.join(".claude"))).map(Place::Claude),
        Format::Codex => own("CODEX_HOME").or_else(|| Some(home()?.join(".codex"))).map(Place::Codex),
        Format::Gemini => home().map(|h| Place::Gemini(h.join(".gemini"))),
        _ => None,
    }
}

/// A session id as the CLIs make them (UUIDs): nothing that could name another path.
fn plausible_id(id: &str) -> bool {
    (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn entries(dir: &Path) -> Vec<(String, PathBuf, std::fs::FileType)> {
    let Ok(read) = std::fs::read_dir(dir) else { return Vec::new() };
    read.flatten().filter_map(|e| Some((e.file_name().into_string().ok()?, e.path(), e.file_type().ok()?))).collect()
}

/// Every session file under `place`, by session id.
fn index(place: &Place) -> HashMap<String, Vec<PathBuf>> {
    let mut found: HashMap<String, Vec<PathBuf>> = HashMap::new();
    let mut add = |id: &str, path: PathBuf| {
        if plausible_id(id) {
            found.entry(id.to_string()).or_default().push(path);
        }
    };
    match place {
        Place::Claude(base) => {
            for (_, project, kind) in entries(&base.join("projects")) {
                if !kind.is_dir() {
                    continue;
                }
                for (name, path, kind) in entries(&project) {
                    if let Some(id) = name.strip_suffix(".jsonl").filter(|_| kind.is_file()) {
                        add(id, path);
                    } else if kind.is_dir() && name != "memory" {
                        // A session's subagents keep their transcripts in a folder named by it.
                        add(&name, path);
                    }
                }
            }
        }
        Place::Codex(base) => {
            let mut folders = vec![(base.join("sessions"), 0)];
            while let Some((dir, depth)) = folders.pop() {
                for (name, path, kind) in entries(&dir) {
                    if kind.is_dir() && depth < 3 {
                        folders.push((path, depth + 1));
                    } else if kind.is_file() && name.starts_with("rollout-") {
                        // rollout-2026-12-01T15-38-05-<36-character id>.jsonl
                        let stem = name.strip_suffix(".jsonl").unwrap_or_default();
                        if let Some(id) = stem.len().checked_sub(36).and_then(|at| stem.get(at..)) {
                            add(id, path);
                        }
                    }
                }
            }
        }
        Place::Gemini(base) => {
            for (_, project, kind) in entries(&base.join("tmp")) {
                if !kind.is_dir() {
                    continue;
                }
                for (name, path, kind) in entries(&project.join("chats")) {
                    if kind.is_file() && name.starts_with("session-") && name.ends_with(".jsonl") {
                        if let Some(id) = gemini_session_id(&path) {
                            add(&id, path);
                        }
                    }
                }
            }
        }
    }
    found
}

/// The `sessionId` on the first line of a gemini chat file.
fn gemini_session_id(path: &Path) -> Option<String> {
    use std::io::{BufRead, Read};
    let file = std::fs::File::open(path).ok()?;
    let mut first = String::new();
    std::io::BufReader::new(file.take(64 * 1024)).read_line(&mut first).ok()?;
    let head: serde_json::Value = serde_json::from_str(&first).ok()?;
    head.get("sessionId")?.as_str().map(str::to_string)
}

/// Bytes of a file, or of the files under a folder; links count as nothing.
fn size(path: &Path) -> u64 {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => m.len(),
        Ok(m) if m.is_dir() => crate::gc::disk_use(path).unwrap_or(0),
        _ => 0,
    }
}

/// Removes a session file or folder (never through a link), then its claude project folder
/// when nothing else is left in it.
fn remove(path: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        std::fs::remove_dir_all(path)?;
    } else {
        std::fs::remove_file(path)?;
    }
    if let Some(parent) = path.parent() {
        // Both fail, harmlessly, unless empty: a person's own sessions there keep the folder.
        let _ = std::fs::remove_dir(parent.join("memory"));
        let _ = std::fs::remove_dir(parent);
    }
    Ok(())
}

/// The session files of the jobs of `ns`'s assignments on `host` that ended before `cutoff`;
/// removed unless `dry_run`.
pub async fn sweep(
    store: &dyn Store,
    config: &Config,
    ns: &str,
    host: &str,
    cutoff: Millis,
    dry_run: bool,
) -> Result<Vec<SessionFile>> {
    let assignments = store.assignments(ns, &AssignmentFilter::default()).await?;
    let jobs = store.jobs(ns, &JobFilter::default()).await?;
    let ended = crate::gc::ended_at(&assignments, &jobs);
    let due: HashSet<String> = assignments
        .iter()
        .filter(|a| a.status.is_final() && ended.get(a.id.as_str()).is_some_and(|at| *at < cutoff))
        .filter(|a| !matches!(a.host.as_deref(), Some(h) if h != host))
        .map(|a| a.id.clone())
        .collect();
    let still_needed: HashSet<String> =
        jobs.iter().filter(|j| !due.contains(&j.assignment_id)).filter_map(|j| j.session_id.clone()).collect();
    // Sessions live on the machine that ran them; a session recorded elsewhere is not here.
    let here = |j: &Job| j.session_host.as_deref().is_none_or(|h| h == host);
    let wanted: Vec<&Job> = jobs
        .iter()
        .filter(|j| due.contains(&j.assignment_id) && here(j))
        .filter(|j| j.session_id.as_deref().is_some_and(plausible_id))
        .collect();
    let config = config.clone();
    let owned: Vec<Job> = wanted.into_iter().cloned().collect();
    // A sweep that died (a panic, a bug) is an error, not an empty report that looks like "none".
    tokio::task::spawn_blocking(move || collect(&config, &owned, &still_needed, dry_run))
        .await
        .map_err(|e| baton_core::Error::io("looking for agent session files", std::io::Error::other(e.to_string())))
}

fn collect(config: &Config, jobs: &[Job], still_needed: &HashSet<String>, dry_run: bool) -> Vec<SessionFile> {
    let mut indexes: HashMap<Place, HashMap<String, Vec<PathBuf>>> = HashMap::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut report = Vec::new();
    for job in jobs {
        let (Some(id), Some(harness)) = (job.session_id.as_deref(), config.harnesses.get(&job.harness)) else {
            continue;
        };
        let env: BTreeMap<String, String> = harness.env.clone();
        let var = |name: &str| env.get(name).cloned().or_else(|| std::env::var(name).ok());
        let Some(place) = place(harness.format, &var) else { continue };
        let index = indexes.entry(place.clone()).or_insert_with(|| index(&place));
        for path in index.get(id).cloned().unwrap_or_default() {
            if !seen.insert(path.clone()) {
                continue;
            }
            let bytes = size(&path);
            let outcome = if still_needed.contains(id) {
                "kept: a job of an assignment that is not due recorded the same session".to_string()
            } else if dry_run {
                "would be removed".to_string()
            } else {
                match remove(&path) {
                    Ok(()) => "removed".to_string(),
                    Err(e) => format!("kept: {e}"),
                }
            };
            report.push(SessionFile {
                assignment: job.assignment_id.clone(),
                job: job.id.clone(),
                harness: job.harness.clone(),
                session_id: id.to_string(),
                path: path.display().to_string(),
                bytes,
                outcome,
            });
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_could_name_another_path_are_never_looked_up() {
        assert!(plausible_id("11111111-2222-4333-8444-555555555555"));
        for bad in ["", "..", "../../etc", "a/b", "short", "x".repeat(65).as_str()] {
            assert!(!plausible_id(bad), "{bad}");
        }
    }

    #[test]
    fn each_cli_keeps_its_sessions_where_its_env_says() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        let home = env(&[("HOME", "/h")]);
        assert_eq!(place(Format::Claude, &home), Some(Place::Claude("/h/.claude".into())));
        assert_eq!(place(Format::Codex, &home), Some(Place::Codex("/h/.codex".into())));
        assert_eq!(place(Format::Gemini, &home), Some(Place::Gemini("/h/.gemini".into())));
        let own = env(&[("HOME", "/h"), ("CODEX_HOME", "/c"), ("CLAUDE_CONFIG_DIR", "/k")]);
        assert_eq!(place(Format::Codex, &own), Some(Place::Codex("/c".into())));
        assert_eq!(place(Format::Claude, &own), Some(Place::Claude("/k".into())));
        assert_eq!(place(Format::Text, &home), None);
    }
}
