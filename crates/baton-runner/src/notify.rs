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
        .env("BATON_ASSIGNMENT_REASON", &reason)
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
