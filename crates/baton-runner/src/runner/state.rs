//! The claim loop's state and its steps. Each round: [`Runner::begin_round`] delivers hooks and
//! claims what fits (or says the run is over), [`Runner::next_wake`] picks when to look again,
//! [`Runner::wait`] turns whatever happens first into an [`Event`], and [`Runner::handle`]
//! acts on it with one method per event.

use super::trouble::Trouble;
use super::{engine_policy, host, RunSummary, RunnerOptions};
use crate::supervisor::timer::Timer;
use crate::supervisor::{self, AttemptEnd, Shared, StopRequest};
use baton_core::store::{ChangeFeed, Changes, Claim, RunnerInfo};
use baton_core::time::{human_duration, Millis};
use baton_core::{ids, Config, Error, Result, Store};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::{JoinError, JoinSet};
use tokio::time::{sleep_until, Instant};

/// What a finished supervisor task hands back: its claim's token, its job, how it ended.
type Ended = (i64, String, Result<AttemptEnd>);

/// Whether the loop goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Continue,
    Exit,
}

/// What ended a wait.
pub(super) enum Event {
    /// The shutdown future resolved: claim nothing more.
    ShutdownAsked,
    /// The shutdown grace ran out: stop the agents still running.
    GraceOver,
    /// A second shutdown signal: stop the agents at once.
    StopNow,
    /// The store's change feed fired (or failed).
    Changed(Result<Changes>),
    /// A supervisor task ended (or panicked); boxed, as it carries the recorded job.
    AttemptEnded(Box<std::result::Result<Ended, JoinError>>),
    /// Something was due: a back-off ending, a lease to take over, a heartbeat, a retry.
    Due,
}

impl Event {
    /// Whether the next round must look for work again. Only transcript events were appended:
    /// that never makes a job claimable or a deadline nearer, so the runner waits on with the
    /// wake-up time it had — a running agent's every flush would otherwise cost a claim, a
    /// notification delivery and a deadline read.
    pub(super) fn needs_round(&self) -> bool {
        !matches!(self, Event::Changed(Ok(changes)) if !changes.queue)
    }
}

/// A registered runner and everything its loop keeps between rounds.
pub(super) struct Runner {
    store: Arc<dyn Store>,
    config: Arc<Config>,
    options: RunnerOptions,
    shared: Arc<Shared>,
    runner_id: String,
    feed: Box<dyn ChangeFeed>,
    /// Keyed by the claim's fencing token, not the job id: a job retried after a back-off can be
    /// claimed again before the task of its previous attempt has been reaped.
    active: HashMap<i64, watch::Sender<Option<StopRequest>>>,
    tasks: JoinSet<Ended>,
    hooks: JoinSet<()>,
    trouble: Trouble,
    summary: RunSummary,
    heartbeat_every: Duration,
    heartbeat_at: Instant,
    grace_at: Timer,
    stopping: bool,
    stopping_now: bool,
    /// A database fault no wait can mend (the file removed, replaced or damaged): the run
    /// stops its agents and ends with it.
    fatal: Option<Error>,
    /// The namespace's next schedule slot, as the last round read it ([`crate::schedule`]).
    slots: crate::schedule::Slots,
    /// When the last round began, by the store's clock: what was due by then it looked at.
    round_at: Millis,
}

impl Runner {
    /// Stops the upkeep and hands its lease back, so another runner on this host takes it over at
    /// its next pass instead of after the lease ran out.
    pub async fn end_upkeep(&self, upkeep: tokio::task::JoinHandle<()>) {
        upkeep.abort();
        let _ = upkeep.await;
        let s = &self.shared;
        if let Err(e) = crate::upkeep::release(s.store.as_ref(), &s.namespace, &s.host, &self.runner_id).await {
            tracing::debug!("could not hand back the upkeep lease: {e}");
        }
    }

    /// Starts this runner's hourly upkeep ([`crate::upkeep`]); it stops when the handle is aborted.
    pub fn spawn_upkeep(&self) -> tokio::task::JoinHandle<()> {
        let s = &self.shared;
        tokio::spawn(crate::upkeep::run(
            s.store.clone(),
            s.config.clone(),
            s.clock.clone(),
            s.namespace.clone(),
            s.host.clone(),
            self.runner_id.clone(),
        ))
    }

    /// Registers a new runner in the store and subscribes to its changes.
    pub async fn register(store: Arc<dyn Store>, config: Arc<Config>, options: RunnerOptions) -> Result<Runner> {
        let runner_id = ids::new_runner_id();
        let ns = options.namespace.clone();
        let lease_ms = config.lease_ms;
        let host = host(&config);
        let now = options.clock.now();
        let info = RunnerInfo {
            id: runner_id.clone(),
            namespace: ns.clone(),
            host: host.clone(),
            pid: std::process::id(),
            started_at: now,
            heartbeat_at: now,
            concurrency: options.concurrency as u32,
            lease_ms,
            jobs: Vec::new(),
            lost: false,
            containment: options.containment.as_ref().map(|c| c.name().to_string()),
        };
        store.register_runner(&info).await?;
        let swept = crate::agent_socket::sweep_stale();
        if swept > 0 {
            tracing::debug!(swept, "removed the agent sockets of runners that died");
        }
        if let Some(crate::containment::Containment::Cgroup { parent }) = &options.containment {
            let ended = crate::containment::leftovers::sweep(store.as_ref(), &ns, parent).await;
            if ended > 0 {
                tracing::info!(ended, "ended the attempt cgroups that runners killed outright left behind");
            }
        }
        // Its own claims do not wake it: each round follows them up itself.
        let feed = store.subscribe_runner(&runner_id)?;
        let shared = Arc::new(Shared {
            store: store.clone(),
            config: config.clone(),
            policy: engine_policy(&config),
            namespace: ns.clone(),
            lease_ms,
            kill_grace: options.kill_grace,
            transcript_cap: options.transcript_cap,
            baton_dir: options.baton_dir.clone(),
            lifeline: options.lifeline.clone().map(crate::lifeline::client::Host::new),
            containment: options.containment.clone(),
            agent_commands: options.agent_commands.clone(),
            sandbox: crate::sandbox::select(config.sandbox),
            host,
            workspaces: Default::default(),
            in_git: crate::git::is_repository(&config.repo_root).await,
            clock: options.clock.clone(),
            shutting_down: Default::default(),
        });
        if let Some(host) = &shared.lifeline {
            host.warm();
        }
        let containment = match &options.containment {
            Some(containment) => containment.to_string(),
            None => "process group only (no lifeline supervisor)".to_string(),
        };
        tracing::info!(
            runner = %runner_id, namespace = %ns, concurrency = options.concurrency, containment = %containment,
            sandbox = shared.sandbox.name(), "runner started"
        );
        let heartbeat_every = Duration::from_millis((lease_ms / 3).max(50));
        Ok(Runner {
            summary: RunSummary { runner_id: runner_id.clone(), attempts: 0 },
            store,
            config,
            options,
            shared,
            runner_id,
            feed,
            active: HashMap::new(),
            tasks: JoinSet::new(),
            hooks: JoinSet::new(),
            trouble: Trouble::default(),
            heartbeat_every,
            heartbeat_at: Instant::now() + heartbeat_every,
            grace_at: Timer::default(),
            stopping: false,
            stopping_now: false,
            fatal: None,
            slots: Default::default(),
            round_at: Millis::MIN,
        })
    }

    /// The start of a round: claims, then hooks and schedules — or the end of the run, when it is
    /// stopping and nothing runs any more, or (with `until_idle`) nothing is left to do.
    pub async fn begin_round(&mut self) -> Step {
        self.trouble.tick();
        self.round_at = self.options.clock.now();
        // Claims first: a ready job's pickup waits for nothing else. An assignment a schedule
        // creates below wakes the next round, which claims its job.
        if !self.stopping {
            self.claim_what_fits().await;
        }
        crate::notify::deliver(&self.store, &self.config, &self.options.namespace, &mut self.hooks).await;
        while self.hooks.try_join_next().is_some() {}
        if self.stopping {
            return if self.active.is_empty() { Step::Exit } else { Step::Continue };
        }
        self.fire_schedules().await;
        if self.options.until_idle && self.active.is_empty() {
            match self.store.is_idle(&self.options.namespace).await {
                Ok(true) => return Step::Exit,
                Ok(false) => {}
                Err(e) => self.database_trouble("checking for work failed", e),
            }
        }
        Step::Continue
    }

    /// Fires the namespace's due schedule slots (the store lets one runner per slot create the
    /// assignment) and notes when the next one is.
    async fn fire_schedules(&mut self) {
        let (ns, now) = (&self.options.namespace, self.options.clock.now());
        let by = format!("runner {} on {}", self.runner_id, self.shared.host);
        match crate::schedule::fire_due(self.store.as_ref(), &self.config, ns, now, &by, &self.slots).await {
            Ok(slots) => self.slots = slots,
            Err(e) => self.database_trouble("firing schedules failed", e),
        }
    }

    /// Claims ready jobs until `concurrency` run or none is ready.
    async fn claim_what_fits(&mut self) {
        while self.active.len() < self.options.concurrency {
            let (ns, lease_ms, policy) = (&self.options.namespace, self.shared.lease_ms, &self.shared.policy);
            match self.store.claim_next(ns, &self.runner_id, lease_ms, policy).await {
                // A claim that left nothing ready ends the claiming: another one would find
                // nothing, and would hold the store while the attempt just started waits for it.
                Ok(Some(claim)) if !claim.more_ready => {
                    self.start_attempt(claim);
                    break;
                }
                Ok(Some(claim)) => self.start_attempt(claim),
                Ok(None) => break,
                Err(e) => {
                    self.database_trouble("claiming a job failed", e);
                    break;
                }
            }
        }
    }

    /// Supervises `claim` on a task of its own.
    fn start_attempt(&mut self, claim: Claim) {
        let job = &claim.job;
        tracing::info!(
            job = %job.id, assignment = %job.assignment_id, r#type = %job.job_type,
            harness = %job.harness, attempt = claim.attempt, "job started"
        );
        let (stop_tx, stop_rx) = watch::channel(None);
        self.active.insert(claim.token, stop_tx);
        let (shared, token, id) = (self.shared.clone(), claim.token, job.id.clone());
        self.tasks.spawn(async move { (token, id, supervisor::supervise(shared, claim, stop_rx).await) });
    }

    /// When to look again without being woken: a back-off ending, a lease to take over, a
    /// heartbeat, the next 00:00 UTC (its claim resumes what the daily cap blocked) — or, while
    /// the database is in trouble, a growing retry timer.
    pub async fn next_wake(&mut self) -> Instant {
        let mut wake_at = self.heartbeat_at;
        let now = self.options.clock.now();
        let midnight = baton_core::engine::spend::utc_day_start(now) + 86_400_000;
        wake_at = wake_at.min(Instant::now() + Duration::from_millis((midnight - now).max(1) as u64));
        if !self.stopping {
            // Not what was due when the round began: a back-off over while every slot is busy
            // would otherwise wake the runner every two milliseconds until one frees.
            match self.store.next_deadline(&self.options.namespace, self.round_at).await {
                Ok(Some(deadline)) => {
                    // The deadline is by the store's clock; the runner sleeps on its own timer.
                    let in_ms = (deadline - self.options.clock.now()).max(1) as u64 + 1;
                    wake_at = wake_at.min(Instant::now() + Duration::from_millis(in_ms));
                }
                Ok(None) => {}
                Err(e) => self.database_trouble("reading deadlines failed", e),
            }
            if let Some(slot) = self.slots.next {
                // By the store's clock, like the deadlines. A due slot that did not fire (the
                // database's clock behind this host's, a failure) is looked at again later.
                let in_ms = (slot - self.options.clock.now()).max(self.slots.retry_floor_ms()) as u64;
                wake_at = wake_at.min(Instant::now() + Duration::from_millis(in_ms));
            }
        }
        if let Some(retry_at) = self.trouble.retry_at() {
            wake_at = wake_at.min(retry_at);
        }
        wake_at
    }

    /// Waits for whatever happens first.
    pub async fn wait(
        &mut self,
        shutdown: &mut Pin<&mut impl Future<Output = ()>>,
        now: &mut Pin<&mut impl Future<Output = ()>>,
        wake_at: Instant,
    ) -> Event {
        tokio::select! {
            _ = shutdown, if !self.stopping => Event::ShutdownAsked,
            _ = now, if self.stopping && !self.stopping_now => Event::StopNow,
            _ = self.grace_at.due(), if self.stopping => Event::GraceOver,
            changes = self.feed.changed() => Event::Changed(changes),
            Some(joined) = self.tasks.join_next() => Event::AttemptEnded(Box::new(joined)),
            _ = sleep_until(wake_at) => Event::Due,
        }
    }

    pub async fn handle(&mut self, event: Event) {
        match event {
            Event::ShutdownAsked => self.on_shutdown_asked(),
            Event::GraceOver => self.on_grace_over(),
            Event::StopNow => self.on_stop_now(),
            Event::Changed(changes) => self.on_changed(changes).await,
            Event::AttemptEnded(joined) => self.on_attempt_ended(*joined),
            Event::Due => self.on_due().await,
        }
    }

    /// No new jobs; running ones get the shutdown grace to finish.
    fn on_shutdown_asked(&mut self) {
        self.stopping = true;
        // An agent killed by a signal from now on was most likely stopped with the runner (a
        // service manager signals the whole service): released, not charged.
        self.shared.shutting_down.store(true, std::sync::atomic::Ordering::SeqCst);
        self.grace_at = Timer::at(Instant::now() + self.options.shutdown_grace);
        tracing::info!(
            running = self.active.len(),
            "shutting down: no new jobs; running ones get {} to finish",
            human_duration(self.options.shutdown_grace.as_millis() as i64)
        );
    }

    /// The grace is over: stop the agents, to be re-queued without charging their attempts.
    fn on_grace_over(&mut self) {
        self.grace_at = Timer::default();
        for stop in self.active.values() {
            let _ = stop.send(Some(StopRequest::Shutdown));
        }
    }

    /// A second signal: no more grace; stop every agent now and release its job.
    fn on_stop_now(&mut self) {
        self.stopping_now = true;
        self.grace_at = Timer::default();
        tracing::info!(running = self.active.len(), "stopping now: running jobs are stopped and re-queued");
        for stop in self.active.values() {
            let _ = stop.send(Some(StopRequest::ShutdownNow));
        }
    }

    async fn on_changed(&mut self, changes: Result<Changes>) {
        let queue_changed = match changes {
            Ok(changes) => changes.queue,
            Err(e) => {
                self.trouble.note(&format!("waiting for changes failed: {e}"));
                // A broken feed answers at once: pause instead of spinning.
                if let Some(retry_at) = self.trouble.retry_at() {
                    sleep_until(retry_at).await;
                }
                true
            }
        };
        if queue_changed && !self.active.is_empty() {
            self.stop_revoked().await;
        }
    }

    /// A cancel (or a takeover) revokes the lease: stop those agents now rather than at their
    /// next renewal.
    async fn stop_revoked(&mut self) {
        match self.store.held_leases(&self.runner_id).await {
            Ok(held) => {
                let held: Vec<i64> = held.into_iter().map(|(_, token)| token).collect();
                for (token, stop) in &self.active {
                    if !held.contains(token) {
                        let _ = stop.send(Some(StopRequest::LeaseGone));
                    }
                }
            }
            Err(e) => self.database_trouble("reading held leases failed", e),
        }
    }

    fn on_attempt_ended(&mut self, joined: std::result::Result<Ended, JoinError>) {
        if let Ok((token, job_id, end)) = joined {
            self.active.remove(&token);
            report(&job_id, end, &mut self.summary);
        } else {
            // A supervisor panicked: forget jobs whose task is gone; their leases expire.
            self.active.retain(|_, stop| !stop.is_closed());
        }
    }

    async fn on_due(&mut self) {
        if Instant::now() >= self.heartbeat_at {
            self.heartbeat_at = Instant::now() + self.heartbeat_every;
            match self.store.heartbeat_runner(&self.runner_id).await {
                Ok(()) => {}
                Err(e) if e.is_permanent_database_fault() => self.give_up(e),
                Err(e) => tracing::warn!("heartbeat failed: {e}"),
            }
        }
    }

    /// A failed database call: waited out when it may pass (busy, a server restarting), the end
    /// of the run when it cannot.
    fn database_trouble(&mut self, what: &str, e: Error) {
        if e.is_permanent_database_fault() {
            self.give_up(e);
        } else {
            self.trouble.note(&format!("{what}: {e}"));
        }
    }

    /// Stops claiming and stops every running agent: nothing this runner records from now on
    /// would reach the database people read.
    fn give_up(&mut self, e: Error) {
        if self.fatal.is_some() {
            return;
        }
        tracing::error!(running = self.active.len(), "{e}; stopping the runner and its agents");
        self.fatal = Some(e);
        self.stopping = true;
        for stop in self.active.values() {
            let _ = stop.send(Some(StopRequest::Shutdown));
        }
    }

    /// Delivers what the last jobs changed, lets running hooks finish (each has its own
    /// timeout), and records the runner as stopped — or, after a fault that ended the run,
    /// returns that fault.
    pub async fn stop(mut self) -> Result<RunSummary> {
        if let Some(fatal) = self.fatal.take() {
            while self.hooks.join_next().await.is_some() {}
            return Err(fatal);
        }
        crate::notify::deliver(&self.store, &self.config, &self.options.namespace, &mut self.hooks).await;
        while self.hooks.join_next().await.is_some() {}
        self.store.stop_runner(&self.runner_id).await?;
        tracing::info!(runner = %self.runner_id, attempts = self.summary.attempts, "runner stopped");
        Ok(self.summary)
    }
}

fn report(job_id: &str, end: Result<AttemptEnd>, summary: &mut RunSummary) {
    match end {
        Ok(AttemptEnd { recorded: Some(job), elapsed, .. }) => {
            summary.attempts += 1;
            let took = human_duration(elapsed.as_millis() as i64);
            match &job.error {
                None => tracing::info!(job = %job_id, status = %job.status, took = %took, "job ended"),
                Some(error) => {
                    tracing::warn!(job = %job_id, status = %job.status, took = %took, error = %error, "job ended")
                }
            }
        }
        Ok(AttemptEnd { recorded: None, .. }) => {
            tracing::info!(job = %job_id, "job stopped: it was cancelled or taken over; nothing recorded")
        }
        Err(e) => {
            tracing::error!(job = %job_id, "supervising the job failed: {e}; its lease will expire and it will be retried")
        }
    }
}
