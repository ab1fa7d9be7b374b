//! One attempt of one job, from prompt to recorded result.
//!
//! The supervisor renders the prompt, spawns the agent in its own process group with the prompt
//! on stdin, streams stdout through the harness parser into the transcript, keeps the tail of
//! stderr, renews the lease, and stops the whole group on timeout, cancellation, a lost lease or
//! shutdown. Every store write presents the claim's fencing token; once the lease is gone the
//! supervisor writes nothing more.

use crate::invocation::{self, JobIdentity};
use crate::process::{self, Tail};
use crate::transcript::Transcript;
use crate::{git, prompt, templates};
use baton_core::store::{AgentProcess, AttemptResult, AttemptStart, Claim, EnginePolicy, Lease};
use baton_core::time::human_duration;
use baton_core::{Config, ErrorKind, Job, Store};
use baton_harness::{Event, ExitInfo, FailureClass, LineSplitter, Outcome, StreamParser};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

/// Bytes of stderr kept for the error message.
const STDERR_TAIL: usize = 64 * 1024;
/// How long stdout may stay open after the agent exited (a process that escaped its group).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);
/// Transcript batches are written at least this often while events arrive.
const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// What every supervisor of a runner shares.
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub policy: EnginePolicy,
    pub namespace: String,
    pub lease_ms: u64,
    /// Between SIGTERM and SIGKILL of an agent's process group.
    pub kill_grace: Duration,
    pub transcript_cap: u64,
    /// The folder of the running `baton` binary, first on the agent's PATH.
    pub baton_dir: Option<PathBuf>,
    /// The `baton` binary that runs the lifeline supervisor; `None` spawns agents directly.
    pub lifeline: Option<PathBuf>,
    /// This machine's host name, recorded with each agent.
    pub host: String,
    /// Creates assignments' worktrees.
    pub workspaces: crate::workspace::Workspaces,
    /// Whether the repository root is a git working tree: only then are jobs' git changes
    /// recorded (outside git that would cost a failing `git` process per job).
    pub in_git: bool,
}

/// Why the runner asks a supervisor to stop its agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopRequest {
    /// The job is no longer this runner's (cancelled, or taken over): stop, write nothing.
    LeaseGone,
    /// Graceful shutdown ran out of patience: stop and re-queue without charging the attempt.
    Shutdown,
}

/// How a supervised attempt ended, for the runner's log.
#[derive(Debug, Clone)]
pub struct AttemptEnd {
    pub job_id: String,
    /// The job as recorded, or `None` when the lease was gone and nothing was written.
    pub recorded: Option<Job>,
    pub elapsed: Duration,
}

/// Why the agent was stopped, if it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stopped {
    Timeout,
    LeaseGone,
    Shutdown,
}

/// Runs one claimed attempt to its end.
pub async fn supervise(
    shared: Arc<Shared>,
    claim: Claim,
    stop: watch::Receiver<Option<StopRequest>>,
) -> baton_core::Result<AttemptEnd> {
    let started = Instant::now();
    let job_id = claim.job.id.clone();
    let result = match prepare_and_run(&shared, &claim, stop).await? {
        Some(result) => result,
        None => return Ok(AttemptEnd { job_id, recorded: None, elapsed: started.elapsed() }),
    };
    let recorded = finish_with_retries(&shared, &claim, result).await?;
    Ok(AttemptEnd { job_id, recorded, elapsed: started.elapsed() })
}

/// Records the result, retrying while the database is unreachable: the result is the whole point
/// of the run. Past the lease the store refuses it anyway, and the job is taken over.
async fn finish_with_retries(
    shared: &Shared,
    claim: &Claim,
    result: AttemptResult,
) -> baton_core::Result<Option<baton_core::Job>> {
    let give_up_at = Instant::now() + Duration::from_millis(shared.lease_ms);
    let mut pause = Duration::from_millis(100);
    loop {
        match shared.store.finish_attempt(&claim.job.id, claim.token, result.clone(), &shared.policy).await {
            Ok(recorded) => return Ok(recorded),
            Err(e) if Instant::now() + pause < give_up_at => {
                tracing::warn!(job = %claim.job.id, "recording the result failed: {e}; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// A failure found before the agent could run (template, harness, spawn): permanent.
fn setup_failure(message: String) -> AttemptResult {
    AttemptResult {
        released: false,
        result: None,
        success: Some(false),
        error: Some(message),
        error_kind: Some(ErrorKind::Permanent),
        exit_code: None,
        session_id: None,
        tokens_in: None,
        tokens_out: None,
        cost_usd: None,
        transcript_truncated: false,
        git_head_after: None,
        diff_stat: None,
    }
}

async fn prepare_and_run(
    shared: &Shared,
    claim: &Claim,
    stop: watch::Receiver<Option<StopRequest>>,
) -> baton_core::Result<Option<AttemptResult>> {
    let job = &claim.job;
    let config = &shared.config;
    let detail = shared.store.assignment(&shared.namespace, &job.assignment_id).await?;
    let dir = match shared.workspaces.prepare(&shared.store, config, &shared.host, &detail.assignment).await {
        Ok(dir) => dir,
        Err(message) => return Ok(Some(setup_failure(message))),
    };
    let context = prompt::context(&config.repo_root, &dir.cwd, &detail, job);
    let prompt = match templates::render(&config.repo_root, job.job_type, &context) {
        Ok(prompt) => prompt,
        Err(e) => return Ok(Some(setup_failure(e.to_string()))),
    };
    let prompt_file = std::env::temp_dir().join(format!("baton-prompt-{}-{}.md", job.id, claim.attempt));
    // Only harnesses that name `{prompt_file}` get one; the rest read the prompt on stdin.
    let wants_file = config.harnesses.get(&job.harness).is_some_and(|h| {
        h.command.iter().flatten().chain(&h.args).any(|arg| arg.contains(baton_harness::command::PROMPT_FILE))
    });
    if wants_file {
        if let Err(e) = std::fs::write(&prompt_file, &prompt) {
            return Ok(Some(setup_failure(format!("cannot write the prompt to {}: {e}", prompt_file.display()))));
        }
    }
    let identity = JobIdentity {
        job,
        token: claim.token,
        namespace: &shared.namespace,
        database_url: &config.database_url,
        baton_dir: shared.baton_dir.as_deref(),
        worktree: dir.worktree.as_deref(),
    };
    let result = match invocation::prepare(config, &identity, &prompt_file) {
        Ok(invocation) => run_agent(shared, claim, &invocation, &dir.cwd, prompt, stop).await,
        Err(message) => Ok(Some(setup_failure(message))),
    };
    if wants_file {
        let _ = std::fs::remove_file(&prompt_file);
    }
    result
}

async fn run_agent(
    shared: &Shared,
    claim: &Claim,
    invocation: &invocation::Invocation,
    cwd: &std::path::Path,
    prompt: String,
    mut stop: watch::Receiver<Option<StopRequest>>,
) -> baton_core::Result<Option<AttemptResult>> {
    let job = &claim.job;
    let head_before = if shared.in_git { git::head(cwd).await } else { None };
    let snapshot = if head_before.is_some() { git::snapshot(cwd).await } else { None };
    // A runner that died on this host may have left this job's previous agent running (if its
    // lifeline could not stop it): it must not keep editing while a new agent starts.
    if let Some(previous) = claim.previous_agent.as_ref().filter(|p| p.host == shared.host) {
        if process::stop_orphan(previous.pgid, previous.start_time) {
            tracing::warn!(job = %job.id, pgid = previous.pgid, "stopped the agent a lost runner left behind");
        }
    }
    let lifeline = shared.lifeline.as_deref();
    let mut child = match process::spawn(&invocation.argv, cwd, &invocation.env, lifeline) {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Some(setup_failure(not_found(&job.harness, &invocation.argv[0]))));
        }
        Err(e) => {
            return Ok(Some(setup_failure(format!(
                "cannot start harness `{}` ({}): {e}",
                job.harness, invocation.argv[0]
            ))));
        }
    };
    let Some(pgid) = child.id() else {
        return Ok(Some(setup_failure(format!("harness `{}` exited before it could be supervised", job.harness))));
    };
    let agent =
        process::start_time(pgid).map(|start_time| AgentProcess { host: shared.host.clone(), pgid, start_time });
    let start = AttemptStart { agent, git_head_before: head_before.clone(), prompt: None };
    if !shared.store.record_start(&job.id, claim.token, &start).await? {
        process::signal_group(pgid, libc::SIGKILL);
        return Ok(None);
    }

    // A separate task: an agent that reads its prompt slowly must not stall the supervisor.
    // Through the lifeline the pipe then stays open until this attempt ends (dropping the
    // sender closes it); without it, stdin is closed right after the prompt.
    let (lifeline_hold, lifeline_release) = tokio::sync::oneshot::channel::<()>();
    if let Some(mut stdin) = child.stdin.take() {
        let framed = lifeline.is_some();
        tokio::spawn(async move {
            if framed {
                let _ = stdin.write_all(&crate::lifeline::frame_prompt(prompt.as_bytes())).await;
                let _ = stdin.flush().await;
                let _ = lifeline_release.await;
            } else {
                let _ = stdin.write_all(prompt.as_bytes()).await;
            }
            let _ = stdin.shutdown().await;
        });
    }
    let stderr_task = child.stderr.take().map(|mut stderr| {
        tokio::spawn(async move {
            let mut tail = Tail::new(STDERR_TAIL);
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n) = stderr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                tail.push(&buf[..n]);
            }
            tail.text()
        })
    });
    let Some(mut stdout) = child.stdout.take() else {
        return Ok(Some(setup_failure("the agent's stdout could not be read".to_string())));
    };

    let mut parser = StreamParser::new(invocation.format);
    let mut splitter = LineSplitter::new(baton_harness::DEFAULT_MAX_LINE);
    let mut transcript = Transcript::new(shared.transcript_cap);
    let mut buf = vec![0u8; 64 * 1024];
    let far_future = Instant::now() + Duration::from_secs(86_400 * 365);
    let timeout_at = Instant::now() + invocation.timeout;
    let renew_every = Duration::from_millis((shared.lease_ms / 3).max(1));
    let mut renew_at = Instant::now() + renew_every;
    let mut flush_at = far_future;
    let mut kill_at = far_future;
    let mut drain_until = far_future;
    let mut stopped: Option<Stopped> = None;
    let mut exit: Option<std::process::ExitStatus> = None;
    let mut stdout_open = true;
    let mut lease_held = true;
    let mut stop_open = true;

    let terminate = |why: Stopped, stopped: &mut Option<Stopped>, kill_at: &mut Instant| {
        if stopped.is_none() {
            *stopped = Some(why);
            process::signal_group(pgid, libc::SIGTERM);
            *kill_at = Instant::now() + shared.kill_grace;
        }
    };

    while stdout_open || exit.is_none() {
        tokio::select! {
            read = stdout.read(&mut buf), if stdout_open => match read {
                Ok(0) | Err(_) => {
                    stdout_open = false;
                    if let Some(line) = std::mem::replace(&mut splitter, LineSplitter::new(1)).finish() {
                        parser.feed(&line).iter().for_each(|e| transcript.push(e));
                    }
                }
                Ok(n) => {
                    for line in splitter.push(&buf[..n]) {
                        parser.feed(&line).iter().for_each(|e| transcript.push(e));
                    }
                    if transcript.has_pending() && flush_at == far_future {
                        flush_at = Instant::now() + FLUSH_EVERY;
                    }
                }
            },
            status = child.wait(), if exit.is_none() => {
                exit = Some(status.map_err(|e| baton_core::Error::io("waiting for the agent", e))?);
                // Whatever the agent left behind in its group goes with it.
                process::signal_group(pgid, libc::SIGKILL);
                drain_until = Instant::now() + DRAIN_AFTER_EXIT;
            }
            _ = sleep_until(drain_until), if exit.is_some() && stdout_open => {
                stdout_open = false;
            }
            _ = sleep_until(flush_at), if lease_held => {
                flush_at = far_future;
                if !flush(shared, claim, &mut transcript).await? {
                    lease_held = false;
                    terminate(Stopped::LeaseGone, &mut stopped, &mut kill_at);
                }
            }
            _ = sleep_until(renew_at), if lease_held => {
                renew_at = Instant::now() + renew_every;
                match shared.store.renew_lease(&job.id, claim.token, shared.lease_ms).await {
                    Ok(Lease::Held { .. }) => {}
                    Ok(Lease::Gone) => {
                        lease_held = false;
                        terminate(Stopped::LeaseGone, &mut stopped, &mut kill_at);
                    }
                    // The database may be back before the lease runs out; if not, the next
                    // renewal says Gone and the agent is stopped then.
                    Err(e) => tracing::warn!(job = %job.id, "renewing the lease failed: {e}"),
                }
            }
            _ = sleep_until(timeout_at), if stopped.is_none() => {
                terminate(Stopped::Timeout, &mut stopped, &mut kill_at);
            }
            _ = sleep_until(kill_at), if exit.is_none() => {
                process::signal_group(pgid, libc::SIGKILL);
                kill_at = far_future;
            }
            changed = stop.changed(), if stopped.is_none() && stop_open => {
                // The runner dropping its end is no request: only an explicit one stops the agent.
                let request = if changed.is_ok() { *stop.borrow() } else { None };
                stop_open = changed.is_ok();
                match request {
                    Some(StopRequest::LeaseGone) => {
                        lease_held = false;
                        terminate(Stopped::LeaseGone, &mut stopped, &mut kill_at);
                    }
                    Some(StopRequest::Shutdown) => terminate(Stopped::Shutdown, &mut stopped, &mut kill_at),
                    None => {}
                }
            }
        }
        if transcript.batch_full() && lease_held && !flush(shared, claim, &mut transcript).await? {
            lease_held = false;
            terminate(Stopped::LeaseGone, &mut stopped, &mut kill_at);
        }
    }

    drop(lifeline_hold);
    if stopped == Some(Stopped::LeaseGone) || !lease_held {
        return Ok(None);
    }
    let status = exit.unwrap_or_default();
    let stderr_tail = match stderr_task {
        Some(task) => tokio::time::timeout(DRAIN_AFTER_EXIT, task).await.ok().and_then(Result::ok).unwrap_or_default(),
        None => String::new(),
    };
    if status.code() == Some(crate::lifeline::NOT_FOUND_EXIT) && stderr_tail.contains(crate::lifeline::NOT_FOUND_MARKER)
    {
        return Ok(Some(setup_failure(not_found(&job.harness, &invocation.argv[0]))));
    }
    let exit_info = ExitInfo { code: status.code(), signal: status.signal() };
    parser.flush().iter().for_each(|e| transcript.push(e));
    let outcome = parser.finish(exit_info, &stderr_tail);
    if !transcript.saw_result {
        // Text harnesses (and agents that died early) report no result event; logs still end
        // with the verdict.
        transcript.push(&Event::Result { success: outcome.success, text: None, error: outcome.error.clone() });
    }
    if !flush(shared, claim, &mut transcript).await? {
        return Ok(None);
    }
    let mut result = attempt_result(outcome, stopped, invocation.timeout, transcript.truncated);
    if let Some(snapshot) = &snapshot {
        result.git_head_after = git::head(cwd).await;
        result.diff_stat = git::diff_stat(cwd, snapshot).await;
    }
    Ok(Some(result))
}

fn not_found(harness: &str, program: &str) -> String {
    format!("harness `{harness}` not found on PATH (it runs `{program}`); install it or set `command` in [harness.{harness}]")
}

/// Writes the queued transcript events; `false` when the lease is gone.
async fn flush(shared: &Shared, claim: &Claim, transcript: &mut Transcript) -> baton_core::Result<bool> {
    if !transcript.has_pending() {
        return Ok(true);
    }
    let events = transcript.take();
    match shared.store.append_events(&claim.job.id, claim.token, claim.attempt, events.clone()).await {
        Ok(held) => Ok(held),
        Err(e) => {
            // Kept for the next flush; a lost lease is noticed by the renewals.
            tracing::warn!(job = %claim.job.id, "storing transcript events failed: {e}");
            transcript.put_back(events);
            Ok(true)
        }
    }
}

fn attempt_result(outcome: Outcome, stopped: Option<Stopped>, timeout: Duration, truncated: bool) -> AttemptResult {
    let (error_kind, error) = match stopped {
        Some(Stopped::Timeout) => (
            Some(ErrorKind::Timeout),
            Some(format!(
                "timed out after {} (timeout_ms = {}); baton stopped the agent's whole process group",
                human_duration(timeout.as_millis() as i64),
                timeout.as_millis()
            )),
        ),
        Some(Stopped::Shutdown) => (Some(ErrorKind::Cancelled), Some("the runner shut down; re-queued".to_string())),
        _ if outcome.success => (None, None),
        _ => {
            let kind = match outcome.failure {
                Some(FailureClass::Transient) => ErrorKind::Transient,
                _ => ErrorKind::Permanent,
            };
            (Some(kind), outcome.error.clone().or_else(|| Some("the agent failed without saying why".to_string())))
        }
    };
    AttemptResult {
        released: stopped == Some(Stopped::Shutdown),
        result: outcome.result,
        success: Some(outcome.success && stopped.is_none()),
        error,
        error_kind,
        exit_code: outcome.exit_code,
        session_id: outcome.session_id,
        tokens_in: outcome.tokens_in.map(|t| t as i64),
        tokens_out: outcome.tokens_out.map(|t| t as i64),
        cost_usd: outcome.cost_usd,
        transcript_truncated: truncated,
        git_head_after: None,
        diff_stat: None,
    }
}
