//! The claim loop of `baton run`: keeps up to `concurrency` jobs running, wakes on pushed changes,
//! heartbeats, notices cancelled jobs, and shuts down gracefully.

use crate::supervisor::{self, AttemptEnd, Shared, StopRequest};
use crate::transcript;
use baton_core::store::{EnginePolicy, JobDefaults, RunnerInfo};
use baton_core::time::{human_duration, now_ms};
use baton_core::{ids, Config, JobType, Result, Store};
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};

/// How `baton run` behaves.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    pub namespace: String,
    /// Jobs run at once (one per assignment at most).
    pub concurrency: usize,
    /// Exit once nothing runs, is ready, or waits out a back-off.
    pub until_idle: bool,
    /// How long running jobs may finish after a shutdown signal before they are stopped.
    pub shutdown_grace: Duration,
    /// Between SIGTERM and SIGKILL of an agent's process group.
    pub kill_grace: Duration,
    /// Per-job cap on stored transcript bytes.
    pub transcript_cap: u64,
    /// The `baton` binary's folder, put first on agents' PATH.
    pub baton_dir: Option<PathBuf>,
    /// The `baton` binary that supervises each agent (see [`crate::lifeline`]); `None` spawns
    /// agents directly (library use without the binary).
    pub lifeline: Option<PathBuf>,
}

impl RunnerOptions {
    pub fn new(namespace: impl Into<String>) -> RunnerOptions {
        RunnerOptions {
            namespace: namespace.into(),
            concurrency: 1,
            until_idle: false,
            shutdown_grace: Duration::from_secs(10),
            kill_grace: Duration::from_secs(5),
            transcript_cap: transcript::DEFAULT_CAP,
            baton_dir: std::env::current_exe().ok().and_then(|p| p.parent().map(PathBuf::from)),
            lifeline: None,
        }
    }
}

/// What a run did, for its caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    pub runner_id: String,
    /// Attempts that ended and were recorded.
    pub attempts: u64,
}

/// The engine policy a config implies.
pub fn engine_policy(config: &Config) -> EnginePolicy {
    EnginePolicy {
        pm: JobDefaults {
            pm_harness: config.default_harness(JobType::Pm).to_string(),
            max_attempts: config.max_attempts,
        },
        max_lost_leases: config.max_lost_leases,
        retry: baton_core::retry::RetryPolicy {
            retry_base_ms: config.retry_base_ms,
            retry_on_timeout: config.retry_on_timeout,
        },
        host_gone_ms: config.host_gone_ms,
    }
}

/// Runs jobs of `options.namespace` until `shutdown` resolves (or, with `until_idle`, until idle).
pub async fn run(
    store: Arc<dyn Store>,
    config: Arc<Config>,
    options: RunnerOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<RunSummary> {
    let runner_id = ids::new_runner_id();
    let ns = options.namespace.clone();
    let lease_ms = config.lease_ms;
    let host = hostname();
    let info = RunnerInfo {
        id: runner_id.clone(),
        namespace: ns.clone(),
        host: host.clone(),
        pid: std::process::id(),
        started_at: now_ms(),
        heartbeat_at: now_ms(),
        concurrency: options.concurrency as u32,
        lease_ms,
        jobs: Vec::new(),
        lost: false,
    };
    store.register_runner(&info).await?;
    let feed = store.subscribe()?;
    let shared = Arc::new(Shared {
        store: store.clone(),
        config: config.clone(),
        policy: engine_policy(&config),
        namespace: ns.clone(),
        lease_ms,
        kill_grace: options.kill_grace,
        transcript_cap: options.transcript_cap,
        baton_dir: options.baton_dir.clone(),
        lifeline: options.lifeline.clone(),
        host,
        workspaces: Default::default(),
        in_git: crate::git::is_repository(&config.repo_root).await,
    });
    tracing::info!(runner = %runner_id, namespace = %ns, concurrency = options.concurrency, "runner started");

    // Keyed by the claim's fencing token, not the job id: a job retried after a back-off can be
    // claimed again before the task of its previous attempt has been reaped.
    let mut active: HashMap<i64, watch::Sender<Option<StopRequest>>> = HashMap::new();
    let mut tasks: JoinSet<(i64, String, Result<AttemptEnd>)> = JoinSet::new();
    let mut summary = RunSummary { runner_id: runner_id.clone(), attempts: 0 };
    let heartbeat_every = Duration::from_millis((lease_ms / 3).max(50));
    let mut heartbeat_at = Instant::now() + heartbeat_every;
    let far_future = Instant::now() + Duration::from_secs(86_400 * 365);
    let mut grace_at = far_future;
    let mut stopping = false;
    tokio::pin!(shutdown);

    let mut hooks: JoinSet<()> = JoinSet::new();
    let mut trouble = Trouble::default();
    loop {
        trouble.tick();
        crate::notify::deliver(&store, &config, &ns, &mut hooks).await;
        while hooks.try_join_next().is_some() {}
        if !stopping {
            while active.len() < options.concurrency {
                match store.claim_next(&ns, &runner_id, lease_ms, &shared.policy).await {
                    Ok(Some(claim)) => {
                        let job = &claim.job;
                        tracing::info!(
                            job = %job.id, assignment = %job.assignment_id, r#type = %job.job_type,
                            harness = %job.harness, attempt = claim.attempt, "job started"
                        );
                        let (stop_tx, stop_rx) = watch::channel(None);
                        active.insert(claim.token, stop_tx);
                        let (shared, token, id) = (shared.clone(), claim.token, job.id.clone());
                        tasks.spawn(async move { (token, id, supervisor::supervise(shared, claim, stop_rx).await) });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        trouble.note(&format!("claiming a job failed: {e}"));
                        break;
                    }
                }
            }
            if options.until_idle && active.is_empty() {
                match store.is_idle(&ns).await {
                    Ok(true) => break,
                    Ok(false) => {}
                    Err(e) => trouble.note(&format!("checking for work failed: {e}")),
                }
            }
        } else if active.is_empty() {
            break;
        }

        // Sleep until something is due: a back-off ending, a lease to take over, a heartbeat.
        let mut wake_at = heartbeat_at;
        if !stopping {
            match store.next_deadline(&ns).await {
                Ok(Some(deadline)) => {
                    let in_ms = (deadline - now_ms()).max(1) as u64 + 1;
                    wake_at = wake_at.min(Instant::now() + Duration::from_millis(in_ms));
                }
                Ok(None) => {}
                Err(e) => trouble.note(&format!("reading deadlines failed: {e}")),
            }
        }
        // While the database is in trouble, retry on a growing timer rather than on wake-ups.
        if let Some(retry_at) = trouble.retry_at() {
            wake_at = wake_at.min(retry_at);
        }
        tokio::select! {
            _ = &mut shutdown, if !stopping => {
                stopping = true;
                grace_at = Instant::now() + options.shutdown_grace;
                tracing::info!(running = active.len(), "shutting down: no new jobs; running ones get {} to finish",
                    human_duration(options.shutdown_grace.as_millis() as i64));
            }
            _ = sleep_until(grace_at), if stopping => {
                grace_at = far_future;
                for stop in active.values() {
                    let _ = stop.send(Some(StopRequest::Shutdown));
                }
            }
            changes = feed.changed() => {
                let queue_changed = match changes {
                    Ok(changes) => changes.queue,
                    Err(e) => {
                        trouble.note(&format!("waiting for changes failed: {e}"));
                        // A broken feed answers at once: pause instead of spinning.
                        if let Some(retry_at) = trouble.retry_at() {
                            sleep_until(retry_at).await;
                        }
                        true
                    }
                };
                if queue_changed && !active.is_empty() {
                    // A cancel (or a takeover) revokes the lease: stop those agents now rather
                    // than at the next renewal.
                    match store.held_leases(&runner_id).await {
                        Ok(held) => {
                            let held: Vec<i64> = held.into_iter().map(|(_, token)| token).collect();
                            for (token, stop) in &active {
                                if !held.contains(token) {
                                    let _ = stop.send(Some(StopRequest::LeaseGone));
                                }
                            }
                        }
                        Err(e) => trouble.note(&format!("reading held leases failed: {e}")),
                    }
                }
            }
            Some(joined) = tasks.join_next() => {
                if let Ok((token, job_id, end)) = joined {
                    active.remove(&token);
                    report(&job_id, end, &mut summary);
                } else {
                    // A supervisor panicked: forget jobs whose task is gone; their leases expire.
                    active.retain(|_, stop| !stop.is_closed());
                }
            }
            _ = sleep_until(wake_at) => {
                if Instant::now() >= heartbeat_at {
                    heartbeat_at = Instant::now() + heartbeat_every;
                    if let Err(e) = store.heartbeat_runner(&runner_id).await {
                        tracing::warn!("heartbeat failed: {e}");
                    }
                }
            }
        }
    }
    // Deliver what the last jobs changed, and let running hooks finish (each has its own timeout).
    crate::notify::deliver(&store, &config, &ns, &mut hooks).await;
    while hooks.join_next().await.is_some() {}
    store.stop_runner(&runner_id).await?;
    tracing::info!(runner = %runner_id, attempts = summary.attempts, "runner stopped");
    Ok(summary)
}

/// Database trouble seen by the loop: logged once per streak, retried on a growing timer, and
/// forgotten after a round without errors. A runner outlives a database restart.
#[derive(Default)]
struct Trouble {
    streak: u32,
    errors_this_round: u32,
}

impl Trouble {
    fn note(&mut self, what: &str) {
        if self.streak == 0 && self.errors_this_round == 0 {
            tracing::warn!("{what}; retrying until the database answers");
        } else {
            tracing::debug!("{what}");
        }
        self.errors_this_round += 1;
    }

    /// Called at the start of every round.
    fn tick(&mut self) {
        if self.errors_this_round > 0 {
            self.streak = self.streak.saturating_add(1);
        } else if self.streak > 0 {
            tracing::info!("the database answers again");
            self.streak = 0;
        }
        self.errors_this_round = 0;
    }

    /// When to try again while in trouble: 100 ms doubling up to 5 s.
    fn retry_at(&self) -> Option<Instant> {
        (self.errors_this_round > 0 || self.streak > 0).then(|| {
            let ms = 100u64.saturating_mul(1 << self.streak.min(6)).min(5_000);
            Instant::now() + Duration::from_millis(ms)
        })
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

/// This machine's host name.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".to_string();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}
