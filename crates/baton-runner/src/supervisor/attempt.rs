//! A running attempt as a state machine: [`Attempt::dispatch`] waits for the next [`Event`]
//! and hands it to the one method that knows what it means; the methods change the state and
//! the timers, and the waiting decides nothing.
//!
//! The agent runs until both its process exited and its stdout closed. A stop — timeout, lost
//! lease, shutdown — sends SIGTERM to the whole group, then SIGKILL after the kill grace; the
//! first reason to stop is the one recorded.
//!
//! A job cancelled under this claim keeps its lease while the agent exits (it is *stopping*, and
//! its assignment waits: `baton_core::engine::stopping`): the renewals go on for that stop only,
//! until the agent is gone or the store says the job is not stopping under this claim.
//!
//! The lease is kept by this runner's own clock too: once its deadline passes without a renewal
//! the database confirmed, the agent is stopped and nothing more is written — without waiting
//! to reach the database, which a partitioned host may never do (another host takes the job
//! over after that deadline). No write is awaited past the deadline either.

use super::agent::Agent;
use super::result::{self, Stopped};
use super::timer::Timer;
use super::{Shared, StopRequest};
use crate::invocation::Invocation;
use crate::process;
use crate::transcript::Transcript;
use baton_core::engine::spend::Usage;
use baton_core::store::{AttemptResult, Claim, Lease};
use baton_harness::{Event as HarnessEvent, ExitInfo, LineSplitter, StreamParser};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

/// How long stdout may stay open after the agent exited (a process that escaped its group).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);
/// Transcript batches are written at least this often while events arrive.
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Bytes read from stdout at a time.
const READ_CHUNK: usize = 64 * 1024;
/// With a lifeline, the supervisor itself escalates to SIGKILL after the kill grace (it must
/// outlive its tree to sweep it); the runner's own SIGKILL of the group comes this much later,
/// for a supervisor that hangs.
const LIFELINE_BACKSTOP: Duration = Duration::from_secs(2);

/// What woke the attempt up.
enum Event {
    /// A read of the agent's stdout returned: bytes, end of file (0) or an error.
    OutputRead(std::io::Result<usize>),
    AgentExited(std::io::Result<ExitStatus>),
    /// The agent exited but its stdout stayed open past [`DRAIN_AFTER_EXIT`].
    DrainOver,
    FlushDue,
    RenewDue,
    /// The lease's deadline passed without a confirmed renewal.
    LeaseExpired,
    TimedOut,
    /// The kill grace after SIGTERM ran out.
    KillDue,
    StopRequested(Option<StopRequest>),
    /// The runner dropped its end of the stop channel: no request, and none will come.
    StopChannelClosed,
}

/// One attempt's state between the agent's start and its end.
pub(super) struct Attempt<'a> {
    shared: &'a Shared,
    claim: &'a Claim,
    invocation: &'a Invocation,
    pgid: u32,
    parser: StreamParser,
    splitter: LineSplitter,
    transcript: Transcript,
    renew_every: Duration,
    timeout_at: Instant,
    renew_at: Instant,
    flush_at: Timer,
    kill_at: Timer,
    drain_until: Timer,
    /// Why the agent was stopped; set once.
    stopped: Option<Stopped>,
    /// With [`Stopped::Budget`]: the budget reached, with its figures.
    budget_stop: Option<String>,
    exit: Option<ExitStatus>,
    stdout_open: bool,
    /// Cleared for good once the store says the lease is gone: nothing more is written.
    lease_held: bool,
    /// Set once the store said the lease is gone (a cancel, most often): the stop's lease is
    /// renewed while the agent exits. Cleared when the store refuses (the job was taken over, or
    /// the stop was freed) or when the lease ran out by this runner's clock.
    renewing_stop: bool,
    /// When the lease runs out unless a renewal is confirmed before: the claim's expiry, then
    /// the send time of each confirmed renewal plus the lease length.
    lease_deadline: Instant,
    stop_open: bool,
}

impl<'a> Attempt<'a> {
    /// The state right after the agent (process group `pgid`) started.
    pub fn new(shared: &'a Shared, claim: &'a Claim, invocation: &'a Invocation, pgid: u32) -> Attempt<'a> {
        let now = Instant::now();
        let renew_every = Duration::from_millis((shared.lease_ms / 3).max(1));
        let left = claim.lease_expires_at.saturating_sub(shared.clock.now());
        let lease_deadline = now + Duration::from_millis(u64::try_from(left).unwrap_or(0));
        Attempt {
            shared,
            claim,
            invocation,
            pgid,
            parser: StreamParser::new(invocation.format),
            splitter: LineSplitter::new(baton_harness::DEFAULT_MAX_LINE),
            transcript: Transcript::new(shared.transcript_cap, shared.clock.clone()),
            renew_every,
            timeout_at: now + invocation.timeout,
            renew_at: now + renew_every,
            flush_at: Timer::default(),
            kill_at: Timer::default(),
            drain_until: Timer::default(),
            stopped: None,
            budget_stop: None,
            exit: None,
            stdout_open: true,
            lease_held: true,
            renewing_stop: false,
            lease_deadline,
            stop_open: true,
        }
    }

    /// Runs the attempt until the agent exited and its stdout closed.
    pub async fn dispatch(
        &mut self,
        agent: &mut Agent,
        mut stop: watch::Receiver<Option<StopRequest>>,
    ) -> baton_core::Result<()> {
        let mut buf = vec![0u8; READ_CHUNK];
        while self.stdout_open || self.exit.is_none() {
            let event = tokio::select! {
                read = agent.stdout.read(&mut buf), if self.stdout_open => Event::OutputRead(read),
                status = agent.child.wait(), if self.exit.is_none() => Event::AgentExited(status),
                _ = self.drain_until.due(), if self.exit.is_some() && self.stdout_open => Event::DrainOver,
                _ = self.flush_at.due(), if self.lease_held => Event::FlushDue,
                _ = sleep_until(self.renew_at), if self.lease_held || self.renewing_stop => Event::RenewDue,
                _ = sleep_until(self.lease_deadline), if self.lease_held => Event::LeaseExpired,
                _ = sleep_until(self.timeout_at), if self.stopped.is_none() => Event::TimedOut,
                _ = self.kill_at.due(), if self.exit.is_none() => Event::KillDue,
                // Open after a first stop too: a second shutdown signal cuts the grace short.
                changed = stop.changed(), if self.exit.is_none() && self.stop_open => match changed {
                    Ok(()) => Event::StopRequested(*stop.borrow()),
                    Err(_) => Event::StopChannelClosed,
                },
            };
            match event {
                Event::OutputRead(read) => self.on_output(read.map(|n| &buf[..n])),
                Event::AgentExited(status) => self.on_exit(status)?,
                Event::DrainOver => self.stdout_open = false,
                Event::FlushDue => self.on_flush_due().await?,
                Event::RenewDue => self.on_renew_due().await,
                Event::LeaseExpired => self.on_lease_expired(),
                Event::TimedOut => self.stop(Stopped::Timeout),
                Event::KillDue => self.on_kill_due(),
                Event::StopRequested(request) => self.on_stop_requested(request),
                Event::StopChannelClosed => self.stop_open = false,
            }
            if self.transcript.batch_full() && self.lease_held {
                self.flush_or_stop().await?;
            }
        }
        Ok(())
    }

    /// Bytes of stdout become transcript events; end of file ends the last line.
    fn on_output(&mut self, read: std::io::Result<&[u8]>) {
        match read {
            Ok([]) | Err(_) => {
                self.stdout_open = false;
                if let Some(line) = std::mem::replace(&mut self.splitter, LineSplitter::new(1)).finish() {
                    self.parser.feed(&line).iter().for_each(|e| self.transcript.push(e));
                }
            }
            Ok(bytes) => {
                for line in self.splitter.push(bytes) {
                    self.parser.feed(&line).iter().for_each(|e| self.transcript.push(e));
                }
                self.check_budget();
                if self.transcript.has_pending() && !self.flush_at.is_set() {
                    self.flush_at = Timer::at(Instant::now() + FLUSH_EVERY);
                }
            }
        }
    }

    /// Stops the agent once the usage it streamed (claude, per message) reaches what was left
    /// of a budget. codex and gemini stream none: their usage is checked when the attempt ends.
    fn check_budget(&mut self) {
        if self.stopped.is_some() || !self.invocation.budget.is_watching() {
            return;
        }
        let Some(running) = self.parser.running_usage() else { return };
        let count = |t: Option<u64>| t.map(|t| i64::try_from(t).unwrap_or(i64::MAX));
        let usage = Usage {
            tokens_in: count(running.tokens_in),
            tokens_out: count(running.tokens_out),
            cache_read: count(running.cache_read_tokens),
            cache_write: count(running.cache_write_tokens),
            reported_usd: None,
        };
        if let Some(reason) = self.invocation.budget.crossed(&usage) {
            tracing::info!(job = %self.claim.job.id, "{reason}");
            self.budget_stop = Some(reason);
            self.stop(Stopped::Budget);
        }
    }

    fn on_exit(&mut self, status: std::io::Result<ExitStatus>) -> baton_core::Result<()> {
        self.exit = Some(status.map_err(|e| baton_core::Error::io("waiting for the agent", e))?);
        // Whatever the agent left behind in its group goes with it.
        process::signal_group(self.pgid, libc::SIGKILL);
        self.drain_until = Timer::at(Instant::now() + DRAIN_AFTER_EXIT);
        Ok(())
    }

    async fn on_flush_due(&mut self) -> baton_core::Result<()> {
        self.flush_at = Timer::default();
        self.flush_or_stop().await
    }

    async fn on_renew_due(&mut self) {
        if !self.lease_held {
            return self.renew_stop().await;
        }
        let sent = Instant::now();
        self.renew_at = sent + self.renew_every;
        let job = &self.claim.job.id;
        let renewal = self.shared.store.renew_lease(job, self.claim.token, self.shared.lease_ms);
        match tokio::time::timeout_at(self.lease_deadline, renewal).await {
            // The database extended it from no earlier than `sent`.
            Ok(Ok(Lease::Held { .. })) => self.lease_deadline = sent + Duration::from_millis(self.shared.lease_ms),
            Ok(Ok(Lease::Gone)) => self.lease_gone(),
            // The database may be back before the lease runs out; if not, the deadline stops
            // the agent.
            Ok(Err(e)) => tracing::warn!(job = %job, "renewing the lease failed: {e}"),
            Err(_) => self.on_lease_expired(),
        }
    }

    /// Keeps the lease of this claim's cancelled job while the agent exits, so its assignment
    /// stays busy however long the kill grace is against the lease.
    async fn renew_stop(&mut self) {
        let sent = Instant::now();
        self.renew_at = sent + self.renew_every;
        let job = &self.claim.job.id;
        let renewal = self.shared.store.renew_stop(job, self.claim.token, self.shared.lease_ms);
        // After the cancel, `lease_deadline` is the stop's: past it the store may have freed it already.
        match tokio::time::timeout_at(self.lease_deadline.max(self.renew_at), renewal).await {
            Ok(Ok(true)) => self.lease_deadline = sent + Duration::from_millis(self.shared.lease_ms),
            // Taken over, or the stop was freed: there is nothing of this claim's left to keep.
            Ok(Ok(false)) => self.renewing_stop = false,
            Ok(Err(e)) => tracing::warn!(job = %job, "renewing the stop's lease failed: {e}"),
            Err(_) => tracing::warn!(job = %job, "renewing the stop's lease got no answer"),
        }
    }

    /// The deadline passed with no renewal confirmed: another runner may hold the job by now.
    fn on_lease_expired(&mut self) {
        if self.lease_held {
            tracing::warn!(job = %self.claim.job.id, "the lease ran out without a renewal; stopping the agent");
            self.lease_gone();
            // By this runner's clock, not the store's word: nothing of the claim is kept.
            self.renewing_stop = false;
        }
    }

    fn on_kill_due(&mut self) {
        process::signal_group(self.pgid, libc::SIGKILL);
        self.kill_at = Timer::default();
    }

    fn on_stop_requested(&mut self, request: Option<StopRequest>) {
        match request {
            Some(StopRequest::LeaseGone) => self.lease_gone(),
            Some(StopRequest::Shutdown) => self.stop(Stopped::Shutdown),
            Some(StopRequest::ShutdownNow) => self.stop_now(),
            None => {}
        }
    }

    /// A second shutdown signal: the tree goes at once, and the job is released all the same.
    /// The lifeline takes SIGINT as "no grace" and sweeps everything before it exits; without
    /// one, the group is killed directly.
    fn stop_now(&mut self) {
        if self.stopped.is_none() {
            self.stopped = Some(Stopped::Shutdown);
        }
        if self.shared.lifeline.is_some() {
            // SAFETY: signalling the supervisor we spawned; it leads the group `pgid`.
            unsafe {
                libc::kill(self.pgid as libc::pid_t, libc::SIGINT);
            }
            self.kill_at = Timer::at(Instant::now() + LIFELINE_BACKSTOP);
        } else {
            process::signal_group(self.pgid, libc::SIGKILL);
        }
    }

    /// The job is no longer this runner's: stop the agent and write nothing more for the attempt
    /// (when it was cancelled, only its stop's lease is renewed until the agent is gone).
    fn lease_gone(&mut self) {
        if self.lease_held {
            // At once: the stop keeps the assignment busy only while its lease lasts.
            self.renewing_stop = true;
            self.renew_at = Instant::now();
        }
        self.lease_held = false;
        self.stop(Stopped::LeaseGone);
    }

    /// SIGTERM to the group, SIGKILL after the grace; the first reason is the one kept.
    fn stop(&mut self, why: Stopped) {
        if self.stopped.is_none() {
            self.stopped = Some(why);
            process::signal_group(self.pgid, libc::SIGTERM);
            let backstop = if self.shared.lifeline.is_some() { LIFELINE_BACKSTOP } else { Duration::ZERO };
            self.kill_at = Timer::at(Instant::now() + self.shared.kill_grace + backstop);
        }
    }

    /// Writes the queued transcript events; a refusal, or no answer before the lease's deadline,
    /// means the lease is gone.
    async fn flush_or_stop(&mut self) -> baton_core::Result<()> {
        let write = flush(self.shared, self.claim, &mut self.transcript);
        match tokio::time::timeout_at(self.lease_deadline, write).await {
            Ok(held) => {
                if !held? {
                    self.lease_gone();
                }
            }
            Err(_) => self.on_lease_expired(),
        }
        Ok(())
    }

    /// The result to record once the agent is gone, or `None` when the lease was lost.
    pub async fn conclude(self, mut agent: Agent) -> baton_core::Result<Option<AttemptResult>> {
        agent.release_stdin();
        agent.end_tree().await;
        let Attempt {
            shared,
            claim,
            invocation,
            mut parser,
            mut transcript,
            stopped,
            budget_stop,
            exit,
            lease_held,
            lease_deadline,
            ..
        } = self;
        if stopped == Some(Stopped::LeaseGone) || !lease_held {
            return Ok(None);
        }
        let status = exit.unwrap_or_default();
        let stderr_tail = agent.stderr_tail(DRAIN_AFTER_EXIT).await;
        if status.code() == Some(crate::lifeline::NOT_FOUND_EXIT)
            && stderr_tail.contains(crate::lifeline::NOT_FOUND_MARKER)
        {
            let missing =
                super::SetupError::NotFound { harness: claim.job.harness.clone(), program: invocation.argv[0].clone() };
            return Ok(Some(result::setup_failure(missing)));
        }
        let exit_info = ExitInfo { code: status.code(), signal: status.signal() };
        // Killed by a signal while its runner shuts down: stopped with the runner (a service
        // manager signals every process of the service), so released rather than charged.
        let stopped = match stopped {
            None if exit_info.signal.is_some() && shared.shutting_down.load(std::sync::atomic::Ordering::SeqCst) => {
                Some(Stopped::Shutdown)
            }
            other => other,
        };
        parser.flush().iter().for_each(|e| transcript.push(e));
        let outcome = parser.finish(exit_info, &stderr_tail);
        if !transcript.saw_result {
            // Text harnesses (and agents that died early) report no result event; logs still
            // end with the verdict.
            transcript.push(&HarnessEvent::Result {
                success: outcome.success,
                text: None,
                error: outcome.error.clone(),
            });
        }
        // No write past the lease's deadline: the job may be another runner's by now.
        if Instant::now() >= lease_deadline {
            return Ok(None);
        }
        let mut result =
            result::attempt_result(outcome, stopped, budget_stop, invocation.timeout, transcript.truncated);
        // What is left of the transcript (earlier writes that failed included) is stored with the
        // result, in its transaction.
        result.transcript_tail = transcript.take();
        Ok(Some(result))
    }
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
            transcript.write_failed(events);
            Ok(true)
        }
    }
}
