//! The storage interface. Every backend (SQLite and PostgreSQL) implements [`Store`]; all
//! operations are scoped to one namespace, and an id from another namespace is "not found".
//!
//! Operations that change state apply the rules of [`crate::lifecycle`] inside one write
//! transaction, record history, and wake every process watching the database.

use crate::error::Result;
use crate::model::{Actor, Assignment, AssignmentDetail, AssignmentStatus, Job, JobStatus, Schedule};
use crate::prompt_dictionary::PromptDictionary;
pub use crate::request::schedule::{FireOutcome, FireRequest, NewSchedule};
pub use crate::request::{AssignmentUpdate, JobDefaults, NewAssignment, NewJob};
use crate::time::Millis;
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `baton assignments` filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssignmentFilter {
    pub status: Option<AssignmentStatus>,
    /// At most this many, newest first; `None` for all.
    pub limit: Option<u32>,
}

/// `baton jobs` filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    /// One assignment's jobs, in chain order; otherwise newest first.
    pub assignment_id: Option<String>,
    pub limit: Option<u32>,
}

/// How many entries each list of a [`QueueSummary`] shows; the `*_total` fields count them all.
pub const QUEUE_LIST_CAP: usize = 100;

/// One namespace of the database, for `baton namespaces` (and the hint a list command prints when
/// the namespace it was pointed at holds nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamespaceCount {
    pub namespace: String,
    /// Assignments in any status.
    pub assignments: u64,
    /// Jobs in any status.
    pub jobs: u64,
}

/// `baton queue`: what is waiting, running and stuck in one namespace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueSummary {
    pub namespace: String,
    /// Assignment counts by status (every status present, zeros included).
    pub assignments: BTreeMap<String, u64>,
    /// Job counts by status (every status present, zeros included).
    pub jobs: BTreeMap<String, u64>,
    /// Next jobs that a runner would claim now, oldest assignment first (the first
    /// [`QUEUE_LIST_CAP`]).
    pub ready: Vec<Job>,
    pub ready_total: u64,
    /// Next jobs waiting out a retry back-off (the first [`QUEUE_LIST_CAP`]).
    pub waiting: Vec<Job>,
    pub waiting_total: u64,
    pub running: Vec<Job>,
    /// Jobs cancelled while running whose runner is still stopping the agent
    /// ([`crate::engine::stopping`]): their assignments wait until the agent is gone.
    #[serde(default)]
    pub stopping: Vec<Job>,
    /// Assignments waiting for a human, with their reasons (the longest-waiting
    /// [`QUEUE_LIST_CAP`]).
    pub blocked: Vec<Assignment>,
    pub blocked_total: u64,
    /// Active assignments with nothing pending or running ([`crate::engine::idle`]): they need a
    /// person as much as the blocked ones (the longest-idle [`QUEUE_LIST_CAP`]).
    pub idle: Vec<Assignment>,
    pub idle_total: u64,
    /// Runners serving the namespace: live ones, then lost ones (stopped heartbeating).
    pub runners: Vec<RunnerInfo>,
    /// Assignment id → the host holding its worktree, for open assignments pinned to a host:
    /// only runners on that host run their jobs.
    pub hosts: BTreeMap<String, String>,
    /// For the same assignments as `hosts`: whether their branch's last commit is on the
    /// `[sync]` remote, so another host could continue them.
    #[serde(default)]
    pub sync: BTreeMap<String, BranchSync>,
}

/// An assignment's branch against the `[sync]` remote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BranchSync {
    /// The latest commit its jobs recorded on the branch, else the commit it started at.
    pub head: Option<String>,
    /// The commit last pushed to the remote; `None` when nothing was pushed.
    pub pushed: Option<String>,
    /// The remote has `head`: another host can continue from it.
    pub in_sync: bool,
}

impl BranchSync {
    pub fn new(head: Option<String>, pushed: Option<String>) -> BranchSync {
        let in_sync = head.is_some() && head == pushed;
        BranchSync { head, pushed, in_sync }
    }
}

/// What runners sharing one database must agree on, beyond its schema: a runner of an older
/// protocol than the newest one that served the database refuses to start. 2: assignments'
/// branches travel through the `[sync]` remote and move off lost hosts; agents stop at their
/// lease deadline without reaching the database. 3: a job cancelled while it runs keeps its
/// assignment until its runner confirms the agent is gone (`release_stopped`), which an older
/// runner never does: its cancels would hold their assignments until the lease ran out.
pub const RUNNER_PROTOCOL: i64 = 3;

/// The baton release that writes [`RUNNER_PROTOCOL`] and the schema, named in refusals.
pub const BATON_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Disk use one host's upkeep measured, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiskUse {
    pub host: String,
    /// Bytes of the regular files in the namespace's worktrees on this host.
    pub worktrees_bytes: u64,
    /// Bytes of the database (SQLite: the file and its `-wal`; PostgreSQL: `pg_database_size`).
    pub database_bytes: Option<u64>,
    pub measured_at: Millis,
}

/// The storage backend: one per database, shared by every namespace in it. The runner's half of
/// the interface is [`RunnerStore`].
#[async_trait]
pub trait Store: RunnerStore + Send + Sync {
    /// Creates an assignment (and its first job, if given).
    async fn create_assignment(&self, new: NewAssignment, actor: &Actor) -> Result<AssignmentDetail>;

    /// Adds a job to an assignment's chain, after `new.after` or at the end.
    ///
    /// Refused for final assignments; past the job limit it is refused and the assignment blocked.
    async fn insert_job(&self, ns: &str, assignment_id: &str, new: NewJob, actor: &Actor) -> Result<Job>;

    /// One assignment with its chain and history.
    async fn assignment(&self, ns: &str, id: &str) -> Result<AssignmentDetail>;

    /// Assignments, newest first.
    async fn assignments(&self, ns: &str, filter: &AssignmentFilter) -> Result<Vec<Assignment>>;

    /// One job.
    async fn job(&self, ns: &str, id: &str) -> Result<Job>;

    /// Jobs: one assignment's in chain order, or the namespace's newest first.
    async fn jobs(&self, ns: &str, filter: &JobFilter) -> Result<Vec<Job>>;

    /// Counts and the jobs that matter now.
    async fn queue(&self, ns: &str, now: Millis) -> Result<QueueSummary>;

    /// Every namespace that holds anything, by name, with what it holds.
    async fn namespaces(&self) -> Result<Vec<NamespaceCount>>;

    /// The namespace's figures for `/metrics`, read in one snapshot.
    async fn metrics(&self, ns: &str) -> Result<crate::metrics::MetricsSnapshot>;

    /// Retention: drops the transcript events and prompt texts of jobs that ended before
    /// `finished_before`, keeping their results, costs and the prompts' sizes and hashes. With
    /// `dry_run` nothing changes. Returns how many jobs had something dropped (or would have).
    async fn drop_transcripts(&self, ns: &str, finished_before: Millis, dry_run: bool) -> Result<u64>;

    /// Claims (or renews) namespace `ns`'s hourly upkeep on `host` for `holder` until `ttl_ms`
    /// from now. `true` when `holder` has it: no other holder's claim is unexpired. A `ttl_ms`
    /// of 0 by the holder hands it back.
    async fn claim_maintenance(&self, ns: &str, host: &str, holder: &str, ttl_ms: u64) -> Result<bool>;

    /// Stores the disk use measured now on `host`: its worktrees' bytes, and the database's size
    /// read by the store itself (`None` when it cannot be read).
    async fn record_disk_use(&self, ns: &str, host: &str, worktrees_bytes: u64) -> Result<DiskUse>;

    /// The disk use last measured on each host of `ns`, by host.
    async fn disk_use(&self, ns: &str) -> Result<Vec<DiskUse>>;

    /// How many complete or cancelled assignments of `ns` still have a worktree recorded
    /// (`baton queue` hints at a retention policy when some do and none is set).
    async fn finished_worktrees(&self, ns: &str) -> Result<u64>;

    /// Applies `update-assignment`: status changes, guards, a resume's PM job.
    async fn update_assignment(
        &self,
        ns: &str,
        id: &str,
        update: &AssignmentUpdate,
        defaults: &JobDefaults,
        actor: &Actor,
    ) -> Result<AssignmentDetail>;

    /// Cancels a pending or running job (the runner holding a running one stops its agent).
    async fn cancel_job(&self, ns: &str, id: &str, defaults: &JobDefaults, actor: &Actor) -> Result<Job>;

    /// A PM job's decision to let the assignment's already queued job run next; returns that job.
    /// Refused for people (a queued job runs by itself), other jobs, and with nothing queued.
    async fn proceed(&self, ns: &str, assignment_id: &str, actor: &Actor) -> Result<Job>;

    /// Records that a person merged a complete assignment's branch (`baton merge`), with the
    /// commit its base branch now points at.
    async fn record_merge(
        &self,
        ns: &str,
        assignment_id: &str,
        commit: &str,
        into: &str,
        actor: &Actor,
    ) -> Result<AssignmentDetail>;

    /// Queues a fresh copy of a failed or cancelled job right after it.
    async fn retry_job(&self, ns: &str, id: &str, defaults: &JobDefaults, actor: &Actor) -> Result<Job>;

    /// The checkouts (other than `except`) that created assignments in this namespace.
    async fn other_origins(&self, ns: &str, except: &str) -> Result<Vec<String>>;

    /// Adds a schedule (refused for agents inside a job); its first slot is the first after now.
    async fn add_schedule(&self, new: NewSchedule, actor: &Actor) -> Result<Schedule>;

    /// The namespace's schedules, oldest first, each with its latest runs.
    async fn schedules(&self, ns: &str) -> Result<Vec<Schedule>>;

    /// One schedule with its latest runs.
    async fn schedule(&self, ns: &str, id: &str) -> Result<Schedule>;

    /// `(id, next_fire_at)` of each unpaused schedule of `ns`, earliest first: what runners fire
    /// and wake for, read with one query.
    async fn schedule_slots(&self, ns: &str) -> Result<Vec<(String, Millis)>>;

    /// Removes a schedule and its run history (the assignments it created stay); returns it as
    /// it was.
    async fn remove_schedule(&self, ns: &str, id: &str, actor: &Actor) -> Result<Schedule>;

    /// Pauses (`true`) or resumes a schedule. Resuming a paused one moves its next slot to the
    /// first after now: the slots it missed while paused are not fired. Resuming one that is not
    /// paused changes nothing.
    async fn pause_schedule(&self, ns: &str, id: &str, paused: bool, actor: &Actor) -> Result<Schedule>;

    /// Moves a schedule's next slot to `at` (a person moving it, or a test making it due now).
    async fn set_next_fire(&self, ns: &str, id: &str, at: Millis, actor: &Actor) -> Result<Schedule>;

    /// Fires a schedule in ONE transaction. For a slot, the schedule's `next_fire_at` moves past
    /// now with a compare-and-set on the slot read, so exactly one caller per slot creates
    /// anything, however many runners try; the others get [`FireOutcome::NotDue`] and write
    /// nothing. Then the overlap rule decides, and the assignment is created by the same code
    /// as `create_assignment`, its history naming the schedule; the run history records either.
    async fn fire_schedule(&self, ns: &str, id: &str, fire: FireRequest, actor: &Actor) -> Result<FireOutcome>;
}

/// A live (or lost) runner, as `baton queue` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunnerInfo {
    pub id: String,
    pub namespace: String,
    pub host: String,
    pub pid: u32,
    #[serde(with = "crate::time::serde_ms")]
    pub started_at: Millis,
    #[serde(with = "crate::time::serde_ms")]
    pub heartbeat_at: Millis,
    pub concurrency: u32,
    /// Its lease length: a runner silent for longer is lost.
    pub lease_ms: u64,
    /// Jobs it holds now.
    pub jobs: Vec<String>,
    /// True when it stopped heartbeating for longer than a lease (its process is gone).
    pub lost: bool,
    /// How it keeps what its agents start inside their attempts: `cgroup` or `subreaper`
    /// (`None` for runners that did not record it).
    #[serde(default)]
    pub containment: Option<String>,
}

/// What the engine needs to decide on its own: the PM shadow job and lost leases.
#[derive(Debug, Clone, PartialEq)]
pub struct EnginePolicy {
    /// Harness and attempts of the PM jobs the engine queues.
    pub pm: JobDefaults,
    /// A job whose runner died this many times is failed instead of re-queued.
    pub max_lost_leases: u32,
    /// When failed attempts are retried.
    pub retry: crate::retry::RetryPolicy,
    /// An assignment whose worktree's host has had no runner for this long is moved to the
    /// claiming host (with `takeover`) or blocked.
    pub host_gone_ms: u64,
    /// The claiming runner syncs assignments' branches through a git remote (`[sync]`), so it
    /// may continue those of a host that is gone from their last pushed commit.
    pub takeover: bool,
    /// Prices and models, to put a cost on attempts whose CLI reports none.
    pub spend: crate::engine::spend::SpendPolicy,
}

/// A job a runner claimed: it may work on it while its lease, under `token`, holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub job: Job,
    /// The fencing token: every write for this attempt must present it.
    pub token: i64,
    /// The attempt number this claim started (1-based).
    pub attempt: u32,
    /// When the lease runs out unless renewed.
    pub lease_expires_at: Millis,
    /// The agent of the attempt that was lost before this claim, if it was recorded: a runner on
    /// the same host stops that process group (if it still lives) before starting a new agent.
    pub previous_agent: Option<AgentProcess>,
    /// Whether another job was ready when this one was claimed. A runner with a slot left claims
    /// again only then: a job that becomes ready later does so by a write, which wakes it, or by
    /// a back-off ending, which is a deadline.
    pub more_ready: bool,
}

/// An agent's process group, recorded so that a runner taking its job over on the same host can
/// stop it. The start time tells a live group from a recycled process id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentProcess {
    pub host: String,
    pub pgid: u32,
    /// The group leader's start time in clock ticks since boot (`/proc/PID/stat`, field 22).
    pub start_time: u64,
    /// The attempt's cgroup, when the runner contained it in one: killing it stops everything
    /// the agent started, even what left the process group.
    pub cgroup: Option<String>,
}

/// What a runner records once an attempt's agent started.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttemptStart {
    pub agent: Option<AgentProcess>,
    pub git_head_before: Option<String>,
    /// The exact prompt the agent was given, stored with the attempt for audit.
    pub prompt: Option<String>,
    /// Text the prompt mostly repeats (the runner's built-in templates), to compress it against.
    pub prompt_dictionary: Option<Arc<PromptDictionary>>,
}

/// The prompt one attempt was given (`baton job --prompt`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttemptPrompt {
    pub job_id: String,
    pub attempt: u32,
    /// `None` when no prompt was recorded, or retention dropped its text (size and hash stay).
    pub prompt: Option<String>,
    pub prompt_bytes: Option<u64>,
    pub prompt_sha256: Option<String>,
}

/// A change a `[notify]` hook may want to hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub assignment_id: String,
    /// The failed job, for `FailedJob`.
    pub job_id: Option<String>,
    pub event: NotifyEvent,
    pub at: Millis,
}

/// Which hook a notification is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyEvent {
    Blocked,
    Complete,
    FailedJob,
}

impl NotifyEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::Blocked => "blocked",
            NotifyEvent::Complete => "complete",
            NotifyEvent::FailedJob => "failed_job",
        }
    }

    pub fn parse(text: &str) -> Option<NotifyEvent> {
        [NotifyEvent::Blocked, NotifyEvent::Complete, NotifyEvent::FailedJob].into_iter().find(|e| e.as_str() == text)
    }
}

/// Where an assignment's work lives: its branch and working tree on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub branch: String,
    pub worktree: String,
    pub host: String,
    /// The commit the branch started at (kept from the first record when later ones lack it).
    pub base_commit: Option<String>,
}

/// A warning a job leaves for its PM and for people: a file left out of its checkpoint commit, a
/// refused commit hook, a stale git lock removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct JobWarning {
    pub attempt: u32,
    #[serde(with = "crate::time::serde_ms")]
    pub at: Millis,
    pub text: String,
}

/// Whether a runner still holds a job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lease {
    Held {
        expires_at: Millis,
    },
    /// Cancelled, taken over, or otherwise no longer this runner's: stop the agent, write nothing.
    Gone,
}

/// One transcript event to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub at: Millis,
    pub event: serde_json::Value,
}

/// How one attempt ended, as the runner recorded it. The store decides, in the transaction that
/// records it, whether the job completes, fails or is retried ([`crate::retry::disposition`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttemptResult {
    /// The runner stopped the agent for a graceful shutdown: re-queue without charging the attempt.
    pub released: bool,
    pub result: Option<String>,
    pub success: Option<bool>,
    pub error: Option<String>,
    /// `None` when the attempt succeeded.
    pub error_kind: Option<crate::model::ErrorKind>,
    pub exit_code: Option<i32>,
    pub session_id: Option<String>,
    /// Input tokens, cache reads and writes included.
    pub tokens_in: Option<i64>,
    pub tokens_out: Option<i64>,
    /// The parts of `tokens_in` read from and written to the prompt cache.
    pub cache_read_tokens: Option<i64>,
    pub cache_write_tokens: Option<i64>,
    /// The cost the CLI reported; the store estimates one from `[prices]` when it is `None`.
    pub cost_usd: Option<f64>,
    pub transcript_truncated: bool,
    /// Set when some of the attempt's transcript events could not be stored: why.
    pub transcript_error: Option<String>,
    /// The attempt's last transcript events, not yet stored: appended in the transaction that
    /// records the result, which saves the attempt a commit of their own.
    pub transcript_tail: Vec<NewEvent>,
    /// Git HEAD when the attempt ended (with worktree isolation or in a git checkout).
    pub git_head_after: Option<String>,
    /// `git diff --stat` from the attempt's starting HEAD to the working tree.
    pub diff_stat: Option<String>,
    /// How the agent's session actually began, when it differs from what the job asked for
    /// (a continuation that fell back to `fresh`).
    pub session_mode: Option<crate::model::SessionMode>,
    /// Why a continuation ran as a fresh session.
    pub session_fallback_reason: Option<String>,
    /// The machine that ran the agent, which holds its session.
    pub session_host: Option<String>,
    /// The model the agent ran with, when known.
    pub model: Option<String>,
}

/// What a wake-up says changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// Assignments, jobs or runners changed: runners look for work.
    pub queue: bool,
    /// Transcript events were appended: followers read them.
    pub events: bool,
}

/// Wake-ups when anything in the database changes (written by any process).
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Returns once something changed since the last call (or since subscribing).
    async fn changed(&self) -> Result<Changes>;
}

/// The runner's side of the store: leases, claims, transcripts and results.
#[async_trait]
pub trait RunnerStore: Send + Sync {
    /// Registers a runner (or refreshes it) with a heartbeat of now.
    async fn register_runner(&self, info: &RunnerInfo) -> Result<()>;
    /// Refreshes the runner's heartbeat.
    async fn heartbeat_runner(&self, runner_id: &str) -> Result<()>;
    /// Marks the runner stopped.
    async fn stop_runner(&self, runner_id: &str) -> Result<()>;
    /// Runners of a namespace, live ones first; runners stopped cleanly are not listed.
    async fn runners(&self, ns: &str) -> Result<Vec<RunnerInfo>>;

    /// Re-queues jobs whose lease expired, then claims the next ready job of the namespace, if any.
    /// Assignments over their budget are blocked instead of started; assignments whose working
    /// tree lives on another host than the runner's are left to that host's runners.
    async fn claim_next(
        &self,
        ns: &str,
        runner_id: &str,
        lease_ms: u64,
        policy: &EnginePolicy,
    ) -> Result<Option<Claim>>;
    /// Records the started agent's process group and the git HEAD it started from; `false` when
    /// the lease is gone.
    async fn record_start(&self, job_id: &str, token: i64, start: &AttemptStart) -> Result<bool>;
    /// Records warnings for an attempt under its claim's token; `false` when the lease is gone.
    async fn add_warnings(&self, job_id: &str, token: i64, attempt: u32, warnings: &[String]) -> Result<bool>;
    /// With `[sync]`: records that the attempt under `token` pushed its assignment's branch to the
    /// remote at `commit`, on the job and the assignment; `false` when the lease is gone.
    async fn record_push(&self, job_id: &str, token: i64, commit: &str) -> Result<bool>;
    /// Records an assignment's branch, working tree and host (on its first job).
    async fn set_workspace(&self, ns: &str, assignment_id: &str, workspace: &Workspace) -> Result<()>;
    /// Forgets an assignment's working tree (`baton clean` removed it), and its branch too unless
    /// `branch_kept`.
    async fn clear_workspace(&self, ns: &str, assignment_id: &str, branch_kept: bool) -> Result<()>;
    /// Takes up to `limit` undelivered notifications of the namespace; each is handed out once.
    async fn take_notifications(&self, ns: &str, limit: u32) -> Result<Vec<Notification>>;
    /// Extends a lease; `Gone` when the job is no longer this claim's.
    async fn renew_lease(&self, job_id: &str, token: i64, lease_ms: u64) -> Result<Lease>;
    /// The leases a runner still holds, `(job id, token)`.
    async fn held_leases(&self, runner_id: &str) -> Result<Vec<(String, i64)>>;
    /// The runner confirms that the agent of a job cancelled under claim `token` is gone (its
    /// whole tree stopped, its leftovers committed): the job's lease is released and its
    /// assignment may go on ([`crate::engine::stopping`]). `false` when there was nothing to
    /// release: the job was not cancelled under this claim, or its lease had already run out.
    async fn release_stopped(&self, job_id: &str, token: i64) -> Result<bool>;
    /// Extends the lease of a job cancelled under claim `token` while its runner is still stopping
    /// the agent (the kill grace can outlast a short lease); `false` when the job is not stopping
    /// under this claim, or its lease already ran out.
    async fn renew_stop(&self, job_id: &str, token: i64, lease_ms: u64) -> Result<bool>;
    /// Appends transcript events under the claim's token; `false` when the lease is gone.
    async fn append_events(&self, job_id: &str, token: i64, attempt: u32, events: Vec<NewEvent>) -> Result<bool>;
    /// Records an attempt's end; queues the PM shadow job after a finished non-PM job and blocks
    /// an assignment whose PM decided nothing. `None` when the lease is gone (nothing written).
    async fn finish_attempt(
        &self,
        job_id: &str,
        token: i64,
        result: AttemptResult,
        policy: &EnginePolicy,
    ) -> Result<Option<Job>>;
    /// The prompt attempt `attempt` of a job was given (the latest attempt when `None`).
    async fn attempt_prompt(&self, ns: &str, job_id: &str, attempt: Option<u32>) -> Result<AttemptPrompt>;
    /// Transcript events of a job after `after_seq`, at most `limit`.
    async fn job_events(
        &self,
        ns: &str,
        job_id: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<crate::model::JobEvent>>;
    /// The first instant after `after` at which something becomes due without a write: a back-off
    /// ending or a lease expiring. A runner passes the time its last round began: what was due by
    /// then, that round looked at, and what it could not take (no free slot, a policy) waits for
    /// a change; answering it again would wake the runner every few milliseconds until then.
    async fn next_deadline(&self, ns: &str, after: Millis) -> Result<Option<Millis>>;
    /// Nothing runs, nothing is ready, nothing waits out a back-off (blocked assignments aside).
    async fn is_idle(&self, ns: &str) -> Result<bool>;
    /// Subscribes to change wake-ups.
    fn subscribe(&self) -> Result<Box<dyn ChangeFeed>>;
    /// The change feed of runner `runner_id`'s own loop. Its loop follows each of its claims up
    /// in the same round (it claims again while another job is ready, then delivers hooks), so a
    /// backend may leave this runner's own claims out of its wake-ups: waking for them would run
    /// the round once more for nothing, and hold the store while the new attempt sets up.
    /// Everything else still wakes it, writes through this same store included (an agent's
    /// `baton` call served in the runner's process).
    fn subscribe_runner(&self, runner_id: &str) -> Result<Box<dyn ChangeFeed>> {
        let _ = runner_id;
        self.subscribe()
    }
}
