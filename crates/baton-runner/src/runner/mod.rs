//! The claim loop of `baton run`: keeps up to `concurrency` jobs running, wakes on pushed changes,
//! heartbeats, notices cancelled jobs, and shuts down gracefully.
//!
//! [`run`] is a loop of named steps over a [`Runner`](state::Runner): claim what fits, decide
//! when to wake, wait for the next event, handle it — see [`state`]. Database trouble is
//! [`trouble`]'s.

mod state;
mod trouble;

use crate::transcript;
use baton_core::store::{EnginePolicy, JobDefaults};
use baton_core::time::{Clock, SystemClock};
use baton_core::{Config, Result, Store};
use state::{Runner, Step};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
    /// How the lifeline keeps everything an attempt starts inside it (see
    /// [`crate::containment::select`]); `None` without a lifeline.
    pub containment: Option<crate::containment::Containment>,
    /// Runs the `baton` commands agents type in the runner's process (the binary provides it);
    /// `None` spawns `baton` for each.
    pub agent_commands: Option<Arc<dyn crate::agent_socket::in_process::Executor>>,
    /// The time the runner compares the store's deadlines with: the store's own clock (tests
    /// give both one they control).
    pub clock: Arc<dyn Clock>,
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
            containment: None,
            agent_commands: None,
            clock: Arc::new(SystemClock),
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
        pm: JobDefaults::from_config(config),
        max_lost_leases: config.max_lost_leases,
        retry: baton_core::retry::RetryPolicy {
            retry_base_ms: config.retry_base_ms,
            retry_on_timeout: config.retry_on_timeout,
        },
        host_gone_ms: config.host_gone_ms,
        takeover: config.sync_remote.is_some(),
        spend: config.spend_policy(),
    }
}

/// Runs jobs of `options.namespace` until `shutdown` resolves (or, with `until_idle`, until idle).
pub async fn run(
    store: Arc<dyn Store>,
    config: Arc<Config>,
    options: RunnerOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<RunSummary> {
    run_with_stops(store, config, options, shutdown, std::future::pending()).await
}

/// [`run`], with a second stop: once `shutdown` resolved, `now` resolving (a second Ctrl-C)
/// stops the running agents at once instead of after the grace. Either way their jobs are
/// released — re-queued `pending`, the attempt `interrupted`, nothing charged — before the
/// runner exits.
pub async fn run_with_stops(
    store: Arc<dyn Store>,
    config: Arc<Config>,
    options: RunnerOptions,
    shutdown: impl Future<Output = ()>,
    now: impl Future<Output = ()>,
) -> Result<RunSummary> {
    let mut runner = Runner::register(store, config, options).await?;
    let upkeep = runner.spawn_upkeep();
    tokio::pin!(shutdown);
    tokio::pin!(now);
    let mut round = true;
    let mut wake_at = tokio::time::Instant::now();
    loop {
        if round {
            if runner.begin_round().await == Step::Exit {
                break;
            }
            wake_at = runner.next_wake().await;
        }
        let event = runner.wait(&mut shutdown, &mut now, wake_at).await;
        round = event.needs_round();
        runner.handle(event).await;
        // What is ready as well is handled before the next round: an attempt's end and the
        // wake-up its own result caused come together, and one round answers both.
        while let Some(event) = ready_now(runner.wait(&mut shutdown, &mut now, wake_at)) {
            round |= event.needs_round();
            runner.handle(event).await;
        }
    }
    runner.end_upkeep(upkeep).await;
    runner.stop().await
}

/// `event`'s value if it is ready without waiting (polled once; dropping it loses nothing: every
/// branch of [`Runner::wait`] may be cancelled).
fn ready_now<T>(event: impl Future<Output = T>) -> Option<T> {
    let mut event = std::pin::pin!(event);
    match event.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(value) => Some(value),
        std::task::Poll::Pending => None,
    }
}

/// The name this machine's runners record and compare (worktree ownership, lost hosts): config
/// `host` / `BATON_HOST`, else the hostname.
pub fn host(config: &Config) -> String {
    config.host.clone().unwrap_or_else(hostname)
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
