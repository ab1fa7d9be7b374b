//! `[retention] agent_sessions_after` on the real CLIs: after a job ran, the session files each
//! CLI really wrote (claude's project folder, codex's rollout under its `CODEX_HOME`, gemini's
//! chat) are what `baton gc` finds by the recorded session id, and removes.

use crate::bench::{Cli, RealBench};
use std::path::{Path, PathBuf};

/// Files under `dir` that belong to session `sid`: named by it, or (gemini) by its first 8
/// characters in a `session-…` chat file.
fn files_of(dir: &Path, sid: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let (path, name) = (e.path(), e.file_name().to_string_lossy().into_owned());
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                pending.push(path);
            } else if name.contains(sid)
                || (name.starts_with("session-") && name.ends_with(&format!("-{}.jsonl", &sid[..8])))
            {
                found.push(path);
            }
        }
    }
    found
}

fn removes_its_sessions(cli: Cli) {
    let real = RealBench::start(cli, "ok");
    let (aid, jid) = real.assignment("implement", cli.name());
    real.run_until_idle();
    let job = real.job(&jid);
    assert_eq!(job["status"], "complete", "{}", real.explain(&jid));
    let sid = job["session_id"].as_str().unwrap_or_default().to_string();
    let dir = real.bench.sandbox.dir.path().to_path_buf();
    let written = files_of(&dir, &sid);
    assert!(!written.is_empty(), "{}: the CLI wrote session {sid} somewhere under the bench", cli.name());
    real.ok(&["update-assignment", &aid, "--status", "complete"]);

    let config = real.bench.sandbox.repo().join(".baton/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n[retention]\nagent_sessions_after = \"1s\"\n")).unwrap();
    real.bench.wait_for("the assignment to be a second old", || {
        real.json(&["gc", "--dry-run"])["agent_sessions"].as_array().is_some_and(|s| !s.is_empty())
    });
    let report = real.json(&["gc"]);
    let entries = report["agent_sessions"].as_array().cloned().unwrap_or_default();
    assert!(entries.iter().all(|e| e["session_id"] == sid.as_str() && e["outcome"] == "removed"), "{report:#}");
    let left = files_of(&dir, &sid);
    assert!(left.is_empty(), "{}: still there: {left:?} (report {report:#})", cli.name());
    real.done();
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn claude_sessions_are_removed() {
    removes_its_sessions(Cli::Claude);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn codex_sessions_are_removed() {
    removes_its_sessions(Cli::Codex);
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn gemini_sessions_are_removed() {
    removes_its_sessions(Cli::Gemini);
}
