//! `[notify]` hooks: when an assignment is blocked or complete, or a job failed, run the person's
//! command with the assignment's JSON on stdin.
//!
//! Changes are written to an outbox in the transaction that makes them (whoever makes them: a
//! runner, a PM agent's CLI call, a person), and each is taken by exactly one runner — so a hook
//! runs once per assignment per change, however many runners there are. A failing or slow hook
//! is logged and never holds anything up.

use baton_core::store::{Notification, NotifyEvent};
use baton_core::{Config, Store};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

/// The most of a reason handed over in `BATON_ASSIGNMENT_REASON`; the whole of it is in the JSON
/// on stdin. One environment string past 128 KiB makes `exec` fail.
const REASON_ENV_BYTES: usize = 32 * 1024;

/// A hook still running after this is stopped.
const HOOK_TIMEOUT: Duration = Duration::from_secs(60);
/// Notifications taken per round.
const BATCH: u32 = 50;

/// Takes waiting notifications of `ns` and starts their hooks in `running` (the runner waits for
/// them before it exits).
pub async fn deliver(store: &Arc<dyn Store>, config: &Arc<Config>, ns: &str, running: &mut JoinSet<()>) {
    let hooks = &config.notify;
    if hooks.on_blocked.is_none() && hooks.on_complete.is_none() && hooks.on_failed_job.is_none() {
        return;
    }
    let taken = match store.take_notifications(ns, BATCH).await {
        Ok(taken) => taken,
        Err(e) => {
            tracing::warn!("reading notifications failed: {e}");
            return;
        }
    };
    for notification in taken {
        let hook = match notification.event {
            NotifyEvent::Blocked => &hooks.on_blocked,
            NotifyEvent::Complete => &hooks.on_complete,
            NotifyEvent::FailedJob => &hooks.on_failed_job,
        };
        let Some(command) = hook.clone().filter(|c| !c.trim().is_empty()) else { continue };
        let detail = match store.assignment(ns, &notification.assignment_id).await {
            Ok(detail) => detail,
            Err(e) => {
                tracing::warn!(assignment = %notification.assignment_id, "notify hook skipped: {e}");
                continue;
            }
        };
        let json = serde_json::to_vec(&detail).unwrap_or_default();
        let cwd = config.repo_root.clone();
        let reason = detail.assignment.reason.clone().unwrap_or_default();
        let status = match notification.event {
            NotifyEvent::Blocked => "blocked".to_string(),
            NotifyEvent::Complete => "complete".to_string(),
            NotifyEvent::FailedJob => detail.assignment.status.to_string(),
        };
        running.spawn(run_hook(command, cwd, json, notification, status, reason));
    }
}

async fn run_hook(
    command: String,
    cwd: std::path::PathBuf,
    json: Vec<u8>,
    n: Notification,
    status: String,
    reason: String,
) {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(&command)
        .current_dir(&cwd)
        .env("BATON_ASSIGNMENT_ID", &n.assignment_id)
        .env("BATON_ASSIGNMENT_STATUS", &status)
        .env("BATON_ASSIGNMENT_REASON", env_value(&reason))
        .env("BATON_NOTIFY_EVENT", n.event.as_str())
        .env_remove("BATON_JOB_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    match &n.job_id {
        Some(job) => cmd.env("BATON_JOB_ID", job),
        None => cmd.env_remove("BATON_JOB_ID"),
    };
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            tracing::warn!(event = n.event.as_str(), "notify hook `{command}` could not start: {e}");
            return;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&json).await;
    }
    match tokio::time::timeout(HOOK_TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(out)) if out.status.success() => {
            tracing::info!(assignment = %n.assignment_id, event = n.event.as_str(), "notify hook ran")
        }
        Ok(Ok(out)) => tracing::warn!(
            assignment = %n.assignment_id, event = n.event.as_str(),
            "notify hook `{command}` failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()
        ),
        Ok(Err(e)) => tracing::warn!(event = n.event.as_str(), "notify hook `{command}` failed: {e}"),
        Err(_) => {
            tracing::warn!(event = n.event.as_str(), "notify hook `{command}` ran past {HOOK_TIMEOUT:?}; stopped")
        }
    }
}

/// `text` as an environment value the hook can always be started with: no NUL byte (which
/// `exec` cannot carry; the hook would not start and its notification would be lost) and at most
/// [`REASON_ENV_BYTES`], cut at a character boundary.
fn env_value(text: &str) -> String {
    let mut value = text.replace('\0', "\u{FFFD}");
    if value.len() > REASON_ENV_BYTES {
        let mut end = REASON_ENV_BYTES;
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        value.truncate(end);
        value.push('…');
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reason_with_a_nul_byte_or_of_a_megabyte_still_runs_the_hook() {
        let tmp = tempfile::tempdir().unwrap();
        for (i, reason) in ["needs\0input".to_string(), "x".repeat(1 << 20)].into_iter().enumerate() {
            let marker = tmp.path().join(format!("ran-{i}"));
            let command = format!("printf '%s' \"$BATON_ASSIGNMENT_REASON\" | head -c 20 > '{}'", marker.display());
            let n =
                Notification { id: 1, assignment_id: "a1".into(), job_id: None, event: NotifyEvent::Blocked, at: 0 };
            run_hook(command, tmp.path().to_path_buf(), b"{}".to_vec(), n, "blocked".into(), reason.clone()).await;
            let seen = std::fs::read_to_string(&marker).unwrap_or_else(|e| panic!("hook {i} did not run: {e}"));
            let expected: String = reason.replace('\0', "\u{FFFD}").chars().take(20).collect();
            assert!(expected.starts_with(&seen) && !seen.is_empty(), "{seen:?}");
        }
    }
}
