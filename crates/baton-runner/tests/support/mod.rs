//! The in-process bench: a real SQLite store in a temporary folder, a `text` harness whose
//! agent is a shell script the test writes, and one clock for the store and the runner that
//! follows tokio's paused time — so leases, back-offs and timeouts take no real time, and a
//! test waits on stored state, never on a fixed sleep.

use baton_core::store::{Claim, NewAssignment, NewJob};
use baton_core::time::{Clock, Millis};
use baton_core::{Actor, Config, Job, JobType, Store};
use baton_runner::{RunSummary, RunnerOptions};
use baton_store::sqlite::SqliteStore;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const NS: &str = "in-process";

/// How long (real time) any wait may take before the test fails: generous for slow machines.
const PATIENCE: Duration = Duration::from_secs(60);

/// Tokio's clock as wall time: under `start_paused`, it moves only when every task waits on a
/// timer, jumping straight to the next one.
#[derive(Debug)]
pub struct TokioClock {
    epoch: Millis,
    start: tokio::time::Instant,
}

impl TokioClock {
    fn new() -> TokioClock {
        TokioClock { epoch: 1_800_000_000_000, start: tokio::time::Instant::now() }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Millis {
        self.epoch + self.start.elapsed().as_millis() as Millis
    }
}

/// Settings of a bench; every duration is virtual.
pub struct Setup {
    /// The agent: `sh -c SCRIPT`, run in the bench's folder (`$BENCH`).
    pub script: &'static str,
    /// How its stdout is read: `text`, or an agent CLI's stream format it imitates.
    pub format: &'static str,
    pub lease_ms: u64,
    pub timeout_ms: u64,
    pub retry_base_ms: u64,
}

impl Default for Setup {
    fn default() -> Setup {
        // A day's timeout: virtual time races ahead while an agent runs in real time.
        Setup { script: "echo done", format: "text", lease_ms: 30_000, timeout_ms: 86_400_000, retry_base_ms: 60_000 }
    }
}

pub struct Bench {
    dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    pub clock: Arc<TokioClock>,
    pub config: Arc<Config>,
}

impl Bench {
    /// A bench; call inside a runtime with paused time.
    pub async fn new(setup: Setup) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join(".baton")).unwrap();
        let database = dir.path().join("baton.db");
        // PM jobs queued after a final attempt run a harness that does nothing.
        let config = format!(
            r#"
database_url = "sqlite://{database}"
namespace = "{NS}"
isolation = "none"
lease_ms = {lease_ms}
timeout_ms = {timeout_ms}
retry_base_ms = {retry_base_ms}
max_attempts = 3

[harness_defaults]
pm = "quiet"

[harness.script]
format = "{format}"
command = ["sh", "-c", {script:?}]
env = {{ BENCH = "{bench}" }}

[harness.quiet]
format = "text"
command = ["true"]
"#,
            database = database.display(),
            lease_ms = setup.lease_ms,
            timeout_ms = setup.timeout_ms,
            retry_base_ms = setup.retry_base_ms,
            script = setup.script,
            format = setup.format,
            bench = dir.path().display(),
        );
        std::fs::write(repo.join(".baton/config.toml"), config).unwrap();
        let no_env = |_: &str| -> Option<String> { None };
        let mut config = Config::load(&repo, &no_env).unwrap();
        // The agents' scripts and what they record live under /tmp, which a sandbox hides.
        config.sandbox = baton_core::config::Sandbox::None;
        let clock = Arc::new(TokioClock::new());
        let store = SqliteStore::open_with_clock(database, clock.clone()).await.unwrap();
        Bench { dir, store: Arc::new(store), clock, config: Arc::new(config) }
    }

    /// The bench's folder, `$BENCH` to the agents.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Creates an assignment whose one job runs the script; returns the job's id.
    pub async fn job(&self) -> String {
        let new = NewAssignment {
            after: Vec::new(),
            namespace: NS.into(),
            north_star: "exercise the runner".into(),
            max_jobs: 10,
            budget_usd: None,
            budget_tokens: None,
            origin_root: None,
            base_ref: None,
            base_branch: None,
            context: String::new(),
            first_job: Some(NewJob {
                job_type: JobType::Implement,
                harness: "script".into(),
                context: "run the script".into(),
                max_attempts: 3,
                after: None,
                for_job_id: None,
                session: None,
                model: None,
                effort: None,
            }),
        };
        let detail = self.store.create_assignment(new, &Actor::Person("ada".into())).await.unwrap();
        detail.jobs[0].id.clone()
    }

    pub async fn read(&self, job_id: &str) -> Job {
        self.store.job(NS, job_id).await.unwrap()
    }

    /// A runner with `options`, until [`Running::shut_down`].
    pub fn runner(&self, adjust: impl FnOnce(&mut RunnerOptions)) -> Running {
        let mut options = RunnerOptions::new(NS);
        options.clock = self.clock.clone();
        adjust(&mut options);
        let (tx, rx) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = rx.await;
        };
        let task = tokio::spawn(baton_runner::run(self.store.clone(), self.config.clone(), options, shutdown));
        Running { shutdown: Some(tx), task }
    }

    /// Waits until `probe` of the job holds, reading the store as virtual time passes.
    pub async fn wait_for(&self, what: &str, job_id: &str, probe: impl Fn(&Job) -> bool) -> Job {
        let job = job_id.to_string();
        wait(what, || async { Some(self.read(&job).await).filter(|j| probe(j)) }).await
    }

    /// Claims a ready job as a runner that then stops answering (its process died, say).
    pub async fn claim_as_a_dead_runner(&self, lease_ms: u64) -> Option<Claim> {
        let policy = baton_runner::engine_policy(&self.config);
        self.store.claim_next(NS, "r-dead", lease_ms, &policy).await.unwrap()
    }
}

/// A runner running on a task of the test's runtime.
pub struct Running {
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<baton_core::Result<RunSummary>>,
}

impl Running {
    /// Asks the runner to shut down, as a first Ctrl-C would, and waits for it to end.
    pub async fn shut_down(mut self) -> RunSummary {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.await.unwrap().unwrap()
    }
}

/// Polls `probe` until it answers; each poll lets virtual time move on by a tick.
pub async fn wait<T, F: Future<Output = Option<T>>>(what: &str, mut probe: impl FnMut() -> F) -> T {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until the file `path` exists (an agent's sign of life).
pub async fn wait_for_file(path: &Path) -> String {
    wait(&format!("{} to appear", path.display()), || async { std::fs::read_to_string(path).ok() }).await
}

/// Holds virtual time still until the file `path` exists, and answers its text: tokio's clock
/// does not move while a blocking task runs, while the runner and its agent go on in real time.
/// Start it before the runner, and a time limit cannot run out before the agent got going.
pub fn hold_time_until_file(path: PathBuf) -> JoinHandle<String> {
    tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            if let Ok(text) = std::fs::read_to_string(&path) {
                return text;
            }
            assert!(std::time::Instant::now() < deadline, "timed out waiting for {} to appear", path.display());
            std::thread::sleep(Duration::from_millis(2));
        }
    })
}

/// Whether a process is still alive (a zombie awaiting its reaper counts as dead).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}
