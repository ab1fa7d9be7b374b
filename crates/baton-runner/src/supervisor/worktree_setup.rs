//! `worktree_setup` under the same supervision as an agent: through the lifeline, in the
//! attempt's containment, recorded on the attempt (so a runner taking the job over on this host
//! kills a setup left behind), with the lease renewed, its own time limit (`timeout_ms`, apart
//! from the agent's), and stopped by a cancel or a shutdown like an agent.
//!
//! Its output becomes the first section of the job's transcript (a `worktree_setup` tool call
//! and its result). Only a setup that finished with exit 0 is marked done (see
//! [`crate::workspace::mark_setup_done`]); one that failed, timed out or was killed is run
//! again, from the start, before the next agent works in that tree — so a setup must be safe
//! to re-run.

use super::agent::end_cgroup;
use super::result::{self, Stopped};
use super::{SetupError, Shared, StopRequest};
use crate::containment::{cgroup, Containment};
use crate::lifeline;
use crate::process::{self, Supervisor, Tail};
use crate::transcript::Transcript;
use crate::workspace::WorkspaceError;
use baton_core::store::{AgentProcess, AttemptResult, AttemptStart, Claim, Lease};
use baton_core::time::human_duration;
use baton_core::ErrorKind;
use baton_harness::Event;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

/// Bytes of the setup's output kept for the transcript and the job's error.
const OUTPUT_TAIL: usize = 16 * 1024;
/// Of that, what goes into the job's error message.
const ERROR_TAIL: usize = 2000;
/// The lifeline escalates itself; the runner's own SIGKILL comes this much later.
const BACKSTOP: Duration = Duration::from_secs(2);

/// How a setup ended, when it did not complete.
pub(super) enum NotDone {
    /// Recorded as the attempt's result (failed, timed out, or released by a shutdown).
    Result(Box<AttemptResult>),
    /// The lease is gone: nothing more may be written.
    LeaseGone,
}

/// Runs `setup` in `dir` for `claim`'s attempt; `Ok(None)` when it completed.
pub(super) async fn run(
    shared: &Shared,
    claim: &Claim,
    setup: &str,
    dir: &Path,
    stop: &mut watch::Receiver<Option<StopRequest>>,
) -> baton_core::Result<Option<NotDone>> {
    let job = &claim.job;
    let group = match &shared.containment {
        Some(Containment::Cgroup { parent }) if shared.lifeline.is_some() => {
            let name = format!("baton-{}-{}-setup", job.id, claim.attempt);
            match cgroup::create(parent, &name) {
                Ok(group) => Some(group),
                Err(source) => {
                    let e = SetupError::Cgroup { path: parent.join(name), source };
                    return Ok(Some(NotDone::Result(Box::new(result::setup_failure(e)))));
                }
            }
        }
        _ => None,
    };
    let argv = vec!["sh".to_string(), "-c".to_string(), setup.to_string()];
    let env = vec![
        ("BATON_ASSIGNMENT_ID".to_string(), job.assignment_id.clone()),
        ("BATON_WORKTREE".to_string(), dir.display().to_string()),
    ];
    let options = lifeline::Options { cgroup: group.clone(), grace: Some(shared.kill_grace) };
    let supervisor = shared.lifeline.as_ref().map(|host| Supervisor { host, options: &options, forked: None });
    let mut child = match process::spawn(&argv, dir, &env, &[], supervisor) {
        Ok(child) => child,
        Err(source) => {
            let e = SetupError::Workspace(WorkspaceError::SetupSpawn { source });
            return Ok(Some(NotDone::Result(Box::new(result::setup_failure(e)))));
        }
    };
    let pgid = child.id();
    let agent = process::start_time(pgid).map(|start_time| AgentProcess {
        host: shared.host.clone(),
        pgid,
        start_time,
        cgroup: group.as_ref().map(|g| g.display().to_string()),
    });
    let start = AttemptStart { agent, git_head_before: None, ..Default::default() };
    let mut stdin = child.stdin.take();
    if let (Some(input), true) = (stdin.as_mut(), shared.lifeline.is_some()) {
        // The lifeline reads an (empty) prompt and the go first; the pipe then stays open until
        // the end. The setup starts at once: it is the worktree's, no agent's.
        let mut framed = lifeline::frame_prompt(b"");
        framed.push(lifeline::GO);
        let _ = input.write_all(&framed).await;
        let _ = input.flush().await;
    } else {
        stdin = None;
    }
    let output = Arc::new(Mutex::new(Tail::new(OUTPUT_TAIL)));
    let drains = [drain(child.stdout.take(), output.clone()), drain(child.stderr.take(), output.clone())];
    let held = shared.store.record_start(&job.id, claim.token, &start).await?;

    let timeout = Duration::from_millis(shared.config.timeout_ms);
    let renew_every = Duration::from_millis((shared.lease_ms / 3).max(1));
    let started = Instant::now();
    let mut renew_at = started + renew_every;
    let mut kill_at: Option<Instant> = None;
    let mut stopped: Option<Stopped> = if held { None } else { Some(Stopped::LeaseGone) };
    let mut stop_open = true;
    if !held {
        process::signal_group(pgid, libc::SIGKILL);
    }
    let status = loop {
        let kill_due = async {
            match kill_at {
                Some(at) => sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            status = child.wait() => break status.ok(),
            _ = sleep_until(renew_at), if stopped != Some(Stopped::LeaseGone) => {
                renew_at = Instant::now() + renew_every;
                match shared.store.renew_lease(&job.id, claim.token, shared.lease_ms).await {
                    Ok(Lease::Held { .. }) => {}
                    Ok(Lease::Gone) => stop_tree(pgid, &mut stopped, &mut kill_at, Stopped::LeaseGone, shared),
                    Err(e) => tracing::warn!(job = %job.id, "renewing the lease during worktree_setup failed: {e}"),
                }
            }
            _ = sleep_until(started + timeout), if stopped.is_none() => {
                stop_tree(pgid, &mut stopped, &mut kill_at, Stopped::Timeout, shared);
            }
            _ = kill_due => {
                process::signal_group(pgid, libc::SIGKILL);
                kill_at = None;
            }
            changed = stop.changed(), if stop_open => match changed.map(|()| *stop.borrow()) {
                Ok(Some(StopRequest::LeaseGone)) => {
                    stop_tree(pgid, &mut stopped, &mut kill_at, Stopped::LeaseGone, shared)
                }
                Ok(Some(StopRequest::Shutdown)) => {
                    stop_tree(pgid, &mut stopped, &mut kill_at, Stopped::Shutdown, shared)
                }
                Ok(Some(StopRequest::ShutdownNow)) => {
                    stopped.get_or_insert(Stopped::Shutdown);
                    process::signal_group(pgid, libc::SIGKILL);
                }
                Ok(None) => {}
                // The runner dropped its end: no request will come; the setup runs to its end.
                Err(_) => stop_open = false,
            },
        }
    };
    drop(stdin);
    process::signal_group(pgid, libc::SIGKILL);
    if let Some(group) = group {
        end_cgroup(group).await;
    }
    for task in drains {
        let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
    }
    let text = output.lock().map(|t| t.text()).unwrap_or_default();
    let succeeded = stopped.is_none() && status.is_some_and(|s| s.success());
    if stopped == Some(Stopped::LeaseGone) {
        return Ok(Some(NotDone::LeaseGone));
    }
    let mut transcript = Transcript::new(shared.transcript_cap, shared.clock.clone());
    transcript.push(&Event::ToolUse {
        id: Some("worktree_setup".to_string()),
        name: "worktree_setup".to_string(),
        input: serde_json::json!({ "command": setup }),
    });
    transcript.push(&Event::ToolResult {
        id: Some("worktree_setup".to_string()),
        output: text.clone(),
        is_error: !succeeded,
    });
    if !shared.store.append_events(&job.id, claim.token, claim.attempt, transcript.take()).await? {
        return Ok(Some(NotDone::LeaseGone));
    }
    if succeeded {
        return Ok(None);
    }
    let tail = one_line_tail(&text);
    let result = match stopped {
        Some(Stopped::Shutdown) => shut_down(),
        // Killed by a signal while the runner shuts down: stopped with it (see the attempt's rule).
        None if status.is_some_and(|s| s.signal().is_some()) && shared.shutting_down.load(Ordering::SeqCst) => {
            shut_down()
        }
        Some(_) => result::failure(
            ErrorKind::Timeout,
            format!(
                "worktree_setup `{setup}` timed out after {} (timeout_ms = {}); baton stopped it, and it runs again \
                 before the next job: {tail}",
                human_duration(timeout.as_millis() as i64),
                timeout.as_millis()
            ),
        ),
        None => {
            let status = status.map(|s| s.to_string()).unwrap_or_else(|| "no exit status".to_string());
            result::failure(
                ErrorKind::Permanent,
                format!(
                    "worktree_setup `{setup}` failed ({status}) in {}; it runs again before the next job: {tail}",
                    dir.display()
                ),
            )
        }
    };
    Ok(Some(NotDone::Result(Box::new(result))))
}

fn shut_down() -> AttemptResult {
    result::failure(ErrorKind::Cancelled, "the runner shut down during worktree_setup; re-queued".to_string())
}

/// SIGTERM to the setup's group (the lifeline sweeps the rest), SIGKILL after the grace.
fn stop_tree(pgid: u32, stopped: &mut Option<Stopped>, kill_at: &mut Option<Instant>, why: Stopped, shared: &Shared) {
    if stopped.is_none() || why == Stopped::LeaseGone {
        *stopped = Some(why);
    }
    if kill_at.is_none() {
        process::signal_group(pgid, libc::SIGTERM);
        *kill_at = Some(Instant::now() + shared.kill_grace + BACKSTOP);
    }
}

/// Copies a pipe into the shared tail until it closes.
fn drain(pipe: Option<impl AsyncRead + Unpin + Send + 'static>, into: Arc<Mutex<Tail>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(mut pipe) = pipe else { return };
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            if let Ok(mut tail) = into.lock() {
                tail.push(&buf[..n]);
            }
        }
    })
}

/// The end of the output, on one line, for an error message.
fn one_line_tail(text: &str) -> String {
    let tail: String = text.chars().rev().take(ERROR_TAIL).collect::<Vec<_>>().into_iter().rev().collect();
    tail.trim().replace('\n', " | ")
}
