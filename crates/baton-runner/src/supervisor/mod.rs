//! One attempt of one job, from prompt to recorded result.
//!
//! The supervisor renders the prompt, spawns the agent in its own process group with the prompt
//! on stdin, streams stdout through the harness parser into the transcript, keeps the tail of
//! stderr, renews the lease, and stops the whole group on timeout, cancellation, a lost lease or
//! shutdown. Every store write presents the claim's fencing token; once the lease is gone the
//! supervisor writes nothing more.
//!
//! - [`setup`]: the job's folder, prompt and command line — failures there are permanent;
//! - [`agent`]: the spawned process group and the tasks feeding its pipes;
//! - [`attempt`]: the running attempt as a state machine, one method per event;
//! - [`result`]: what is recorded, from the harness's outcome and why the agent stopped.

mod agent;
mod attempt;
mod result;
mod setup;
pub(crate) mod timer;
mod worktree_setup;

pub use setup::SetupError;

use crate::session::{self, Plan};
use crate::sync::Pushed;
use crate::{checkpoint, git};
use agent::{EarlyFork, Started};
use attempt::Attempt;
use baton_core::store::{AttemptResult, Claim, EnginePolicy};
use baton_core::time::Clock;
use baton_core::{Config, Job, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

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
    /// The supervisor host that forks each attempt's lifeline supervisor (see
    /// [`crate::lifeline`]); `None` spawns agents directly.
    pub lifeline: Option<crate::lifeline::client::Host>,
    /// Runs the commands agents type in this process (see [`crate::agent_socket::in_process`]).
    pub agent_commands: Option<Arc<dyn crate::agent_socket::in_process::Executor>>,
    /// How everything an attempt starts is kept inside it (with a lifeline only).
    pub containment: Option<crate::containment::Containment>,
    /// The filesystem sandbox every agent runs in.
    pub sandbox: crate::sandbox::Sandbox,
    /// This machine's host name, recorded with each agent.
    pub host: String,
    /// Creates assignments' worktrees.
    pub workspaces: crate::workspace::Workspaces,
    /// Whether the repository root is a git working tree: only then are jobs' git changes
    /// recorded (outside git that would cost a failing `git` process per job).
    pub in_git: bool,
    /// Stamps transcript events: the store's clock, so a transcript and its job agree.
    pub clock: Arc<dyn Clock>,
    /// Set once the runner is shutting down.
    pub shutting_down: std::sync::atomic::AtomicBool,
}

/// Why the runner asks a supervisor to stop its agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopRequest {
    /// The job is no longer this runner's (cancelled, or taken over): stop, write nothing.
    LeaseGone,
    /// Graceful shutdown ran out of patience: stop and re-queue without charging the attempt.
    Shutdown,
    /// A second shutdown signal: stop at once, without the kill grace, and re-queue.
    ShutdownNow,
}

/// How a supervised attempt ended, for the runner's log.
#[derive(Debug, Clone)]
pub struct AttemptEnd {
    pub job_id: String,
    /// The job as recorded, or `None` when the lease was gone and nothing was written.
    pub recorded: Option<Job>,
    pub elapsed: Duration,
}

/// Runs one claimed attempt to its end.
pub async fn supervise(
    shared: Arc<Shared>,
    claim: Claim,
    stop: watch::Receiver<Option<StopRequest>>,
) -> baton_core::Result<AttemptEnd> {
    let started = Instant::now();
    let job_id = claim.job.id.clone();
    let early = EarlyFork::ask(&shared);
    let result = match prepare_and_run(&shared, &claim, stop, early).await? {
        Some(result) => result,
        None => {
            confirm_stopped(&shared, &claim).await;
            return Ok(AttemptEnd { job_id, recorded: None, elapsed: started.elapsed() });
        }
    };
    let recorded = finish_with_retries(&shared, &claim, result).await?;
    if recorded.is_none() {
        // Cancelled after the agent ended, before its result was recorded.
        confirm_stopped(&shared, &claim).await;
    }
    Ok(AttemptEnd { job_id, recorded, elapsed: started.elapsed() })
}

/// The attempt wrote nothing because its lease is gone. When that was a cancel, the job still
/// holds its assignment: now that the agent's whole tree is stopped and what it left is
/// committed, release it so the assignment's next job (the PM that follows the cancel) may
/// start in the worktree. A failure here only delays it: the lease runs out on its own.
async fn confirm_stopped(shared: &Shared, claim: &Claim) {
    match shared.store.release_stopped(&claim.job.id, claim.token).await {
        Ok(true) => tracing::info!(job = %claim.job.id, "the cancelled job's agent is stopped; its assignment goes on"),
        Ok(false) => {}
        Err(e) => tracing::warn!(
            job = %claim.job.id,
            "could not confirm the cancelled job's stop: {e}; its assignment goes on when the lease runs out"
        ),
    }
}

/// Records the result, retrying while the database is unreachable: the result is the whole point
/// of the run. Past the lease the store refuses it anyway, and the job is taken over.
async fn finish_with_retries(
    shared: &Shared,
    claim: &Claim,
    mut result: AttemptResult,
) -> baton_core::Result<Option<baton_core::Job>> {
    let give_up_at = Instant::now() + Duration::from_millis(shared.lease_ms);
    let mut pause = Duration::from_millis(100);
    loop {
        match shared.store.finish_attempt(&claim.job.id, claim.token, result.clone(), &shared.policy).await {
            Ok(recorded) => return Ok(recorded),
            // The result matters more than its transcript (a full disk may take the one and not
            // the other): at once again without the events, saying they are missing.
            Err(e) if !result.transcript_tail.is_empty() => {
                tracing::warn!(job = %claim.job.id, "storing transcript events failed: {e}; recording the result without them");
                let lost = std::mem::take(&mut result.transcript_tail).len();
                result.transcript_error = Some(crate::transcript::lost_events(lost, &e));
            }
            Err(e) if Instant::now() + pause < give_up_at => {
                tracing::warn!(job = %claim.job.id, "recording the result failed: {e}; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// The attempt's result, or `None` when the lease was gone and nothing may be written.
///
/// A continuation whose CLI does not know the session (its files are gone, or it never was
/// this machine's) runs again at once as a fresh session, in the same attempt and without
/// charging a retry: the job itself is fine, only the session could not carry over.
async fn prepare_and_run(
    shared: &Shared,
    claim: &Claim,
    mut stop: watch::Receiver<Option<StopRequest>>,
    mut early: Option<EarlyFork>,
) -> baton_core::Result<Option<AttemptResult>> {
    let mut forced = None;
    loop {
        let prepared = match setup::prepare(shared, claim, forced.take()).await? {
            Ok(prepared) => prepared,
            Err(e) => return Ok(Some(result::setup_failure(e))),
        };
        if let Some(ended) = run_worktree_setup(shared, claim, &prepared, &mut stop).await? {
            prepared.remove_prompt_file();
            return Ok(ended);
        }
        let result = run_agent(shared, claim, &prepared, stop.clone(), early.take()).await;
        prepared.remove_prompt_file();
        let Some(mut result) = result? else { return Ok(None) };
        if let Plan::Resume { source, .. } = &prepared.plan {
            let error = result.error.as_deref().unwrap_or_default();
            if result.success != Some(true) && session::unknown_session(error) {
                let id = source.session_id.as_deref().unwrap_or_default();
                forced =
                    Some(format!("{} does not know session {id} of job {}: {error}", claim.job.harness, source.id));
                continue;
            }
        }
        record_session(shared, claim, &prepared.plan, &mut result);
        return Ok(Some(result));
    }
}

/// Runs `worktree_setup` when the job's worktree has not completed it: no agent starts on a tree
/// whose setup has not completed. `Some(ended)` when the attempt ends here (the setup failed, or
/// the lease is gone); `None` to go on to the agent.
async fn run_worktree_setup(
    shared: &Shared,
    claim: &Claim,
    prepared: &setup::Prepared,
    stop: &mut watch::Receiver<Option<StopRequest>>,
) -> baton_core::Result<Option<Option<AttemptResult>>> {
    let (Some(tree), Some(command)) = (&prepared.worktree, &shared.config.worktree_setup) else { return Ok(None) };
    if !crate::workspace::setup_pending(&shared.config, tree) {
        return Ok(None);
    }
    let not_done = match worktree_setup::run(shared, claim, command, tree, stop).await? {
        None => crate::workspace::mark_setup_done(tree)
            .err()
            .map(|e| worktree_setup::NotDone::Result(Box::new(result::setup_failure(SetupError::SetupMark(e))))),
        Some(not_done) => Some(not_done),
    };
    Ok(match not_done {
        None => {
            // What the setup created is its own, never an agent's: checkpoints leave it out.
            checkpoint::record_setup_baseline(tree).await;
            None
        }
        Some(worktree_setup::NotDone::Result(result)) => Some(Some(*result)),
        Some(worktree_setup::NotDone::LeaseGone) => Some(None),
    })
}

/// What the attempt's result says about its session and model.
fn record_session(shared: &Shared, claim: &Claim, plan: &Plan, result: &mut AttemptResult) {
    let job = &claim.job;
    let harness = shared.config.harnesses.get(&job.harness);
    result.session_mode = Some(plan.mode());
    result.session_host = Some(shared.host.clone());
    result.model = job.model.clone().or_else(|| harness.and_then(|h| h.model.clone()));
    match plan {
        Plan::Fresh { fallback, .. } => result.session_fallback_reason = fallback.clone(),
        Plan::Resume { earlier_tokens: (earlier_in, earlier_out), .. } => {
            // codex reports a resumed thread's usage from its start: keep this job's own share.
            if harness.is_some_and(|h| h.format == baton_harness::Format::Codex) {
                let own =
                    |reported: Option<i64>, earlier: i64| reported.map(|r| if r >= earlier { r - earlier } else { r });
                result.tokens_in = own(result.tokens_in, *earlier_in);
                result.tokens_out = own(result.tokens_out, *earlier_out);
            }
        }
    }
}

async fn run_agent(
    shared: &Shared,
    claim: &Claim,
    prepared: &setup::Prepared,
    stop: watch::Receiver<Option<StopRequest>>,
    early: Option<EarlyFork>,
) -> baton_core::Result<Option<AttemptResult>> {
    let cwd = prepared.cwd.as_path();
    let mut warnings = Vec::new();
    if let (Some(branch), Some(previous)) = (&prepared.checkpoint_branch, &prepared.previous) {
        // What an earlier attempt left (it was cancelled, or its runner died) is its work, not
        // this attempt's: committed under its name before this one starts.
        warnings.extend(commit_leftovers(shared, cwd, branch, &claim.job.assignment_id, previous).await);
    }
    let head_before = if shared.in_git { git::head(cwd).await } else { None };
    let snapshot = if head_before.is_some() { git::snapshot(cwd).await } else { None };
    let mut agent =
        match agent::start(shared, claim, &prepared.invocation, cwd, &prepared.prompt, head_before.clone(), early)
            .await?
        {
            Started::Running(agent) => *agent,
            Started::Refused(e) => return Ok(Some(result::setup_failure(e))),
            Started::LeaseGone => return Ok(None),
        };
    let mut attempt = Attempt::new(shared, claim, &prepared.invocation, agent.pgid);
    attempt.dispatch(&mut agent, stop).await?;
    let concluded = attempt.conclude(agent).await?;
    // The agent's tree is gone: its token is accepted no more.
    prepared.socket.close();
    let Some(mut result) = concluded else {
        checkpoint_after_cancel(shared, claim, prepared).await;
        return Ok(None);
    };
    match (&prepared.checkpoint_branch, &head_before) {
        (Some(branch), Some(before)) => {
            let author = author_of(claim, summary_of(&result));
            let checkpoint = checkpoint::commit(cwd, branch, &author, &shared.config).await;
            warnings.extend(checkpoint.warnings);
            result.git_head_after = git::head(cwd).await;
            result.diff_stat = match &result.git_head_after {
                Some(after) if after != before => git::commit_diff_stat(cwd, before, after).await,
                _ => None,
            };
        }
        _ => {
            if let Some(snapshot) = &snapshot {
                record_changes(&mut result, cwd, snapshot).await;
            }
        }
    }
    if let (Some(remote), Some(branch), Some(head)) =
        (&shared.config.sync_remote, &prepared.checkpoint_branch, &result.git_head_after)
    {
        match crate::sync::push(shared, remote, claim, cwd, branch, head).await {
            Pushed::Recorded(commit) => tracing::info!(job = %claim.job.id, %commit, "pushed {branch} to {remote}"),
            Pushed::UpToDate => {}
            Pushed::Warning(text) => warnings.push(text),
            Pushed::LeaseGone => return Ok(None),
        }
    }
    if !warnings.is_empty() && !shared.store.add_warnings(&claim.job.id, claim.token, claim.attempt, &warnings).await? {
        return Ok(None);
    }
    Ok(Some(result))
}

/// What the job changed in its folder, without checkpoint commits: the commit it left HEAD at
/// and a diff stat against the snapshot taken when it started (uncommitted changes included).
async fn record_changes(result: &mut AttemptResult, cwd: &Path, since: &git::Snapshot) {
    result.git_head_after = git::head(cwd).await;
    result.diff_stat = git::diff_stat(cwd, since).await;
}

/// The checkpoint's author: this attempt.
fn author_of(claim: &Claim, summary: String) -> checkpoint::Author<'_> {
    checkpoint::Author {
        assignment_id: &claim.job.assignment_id,
        job_id: &claim.job.id,
        job_type: claim.job.job_type,
        attempt: claim.attempt,
        harness: &claim.job.harness,
        summary,
    }
}

/// The commit subject for an attempt: its report's `Summary:` line, else its first line, else how
/// it ended.
fn summary_of(result: &AttemptResult) -> String {
    let text = result.result.as_deref().unwrap_or_default();
    if let Some(summary) = baton_core::report_summary(text) {
        return summary.to_string();
    }
    if let Some(line) = text.lines().map(str::trim).find(|l| !l.is_empty()) {
        return line.to_string();
    }
    match (result.error_kind, &result.error) {
        (Some(kind), Some(error)) => format!("attempt ended ({kind}): {}", error.lines().next().unwrap_or_default()),
        _ => "attempt ended without a report".to_string(),
    }
}

/// Commits what an earlier attempt left in the worktree, as that attempt.
async fn commit_leftovers(
    shared: &Shared,
    cwd: &Path,
    branch: &str,
    assignment_id: &str,
    previous: &setup::PreviousAttempt,
) -> Vec<String> {
    if !git::is_dirty(cwd).await.unwrap_or(false) {
        return Vec::new();
    }
    let author = checkpoint::Author {
        assignment_id,
        job_id: &previous.job_id,
        job_type: previous.job_type,
        attempt: previous.attempt,
        harness: &previous.harness,
        summary: "what the attempt left uncommitted when it was stopped".to_string(),
    };
    let done = checkpoint::commit(cwd, branch, &author, &shared.config).await;
    if let Some(commit) = &done.commit {
        tracing::info!(job = %previous.job_id, %commit, "committed what an interrupted attempt left");
    }
    // What worktree_setup made is reported by the attempt's own checkpoint, not twice.
    done.warnings.into_iter().filter(|w| !checkpoint::is_setup_warning(w)).collect()
}

/// A cancelled job's attempt writes nothing to the store, but when its assignment ended no later
/// job will commit what it left: commit it now. (When the assignment goes on, the next attempt
/// commits the leftovers before it starts, with no risk of sweeping in its own work.)
async fn checkpoint_after_cancel(shared: &Shared, claim: &Claim, prepared: &setup::Prepared) {
    let Some(branch) = &prepared.checkpoint_branch else { return };
    let Ok(detail) = shared.store.assignment(&shared.namespace, &claim.job.assignment_id).await else { return };
    let cancelled = detail.jobs.iter().any(|j| j.id == claim.job.id && j.status == baton_core::JobStatus::Cancelled);
    if cancelled && detail.assignment.status.is_final() {
        let author = author_of(claim, "stopped when its assignment ended".to_string());
        let done = checkpoint::commit(&prepared.cwd, branch, &author, &shared.config).await;
        for warning in done.warnings {
            tracing::warn!(job = %claim.job.id, "{warning}");
        }
    }
}
