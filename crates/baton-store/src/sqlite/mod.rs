//! The embedded SQLite backend: one file shared by every repository of a user.
//!
//! One connection per process, guarded by a mutex. A process that serves many tasks (the runner,
//! the dashboard) uses it from blocking threads so a slow lock never stalls the async runtime; a
//! one-query command uses it on its own thread ([`Threading`]). WAL lets readers run beside a
//! writer; every write is a `BEGIN IMMEDIATE` transaction, so concurrent processes queue on the
//! busy timeout instead of failing with "database is locked" when a read transaction tries to
//! upgrade.

mod assignments;
mod dependencies;
mod events;
mod finish;
mod idle;
mod jobs;
mod maintenance;
mod metrics;
mod migrate;
mod namespaces;
mod queue;
mod retention;
mod rows;
mod runners;
mod schedules;
mod scope;
mod stopping;
mod sync;
mod version;
mod worktrees;

use crate::wake::{Change, Subscription, WakeDir};
use async_trait::async_trait;
use baton_core::lifecycle::AssignmentUpdate;
use baton_core::store::{
    AssignmentFilter, AttemptPrompt, AttemptResult, AttemptStart, ChangeFeed, Changes, Claim, DiskUse, EnginePolicy,
    FireOutcome, FireRequest, JobDefaults, JobFilter, Lease, NewAssignment, NewEvent, NewJob, NewSchedule,
    Notification, QueueSummary, RunnerInfo, RunnerStore, Workspace,
};
use baton_core::time::{Clock, Millis, SystemClock};
use baton_core::{Actor, Assignment, AssignmentDetail, Error, Job, JobEvent, Result, Schedule, Store};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 96;

/// How long a write waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a store's SQLite calls run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Threading {
    /// On tokio's blocking pool: a lock wait or a long write never stalls the other tasks of a
    /// process that serves many (the runner, the dashboard).
    #[default]
    Pool,
    /// On the calling thread: a command that runs one query and exits has no other task to keep
    /// responsive, and the pool would start a thread (and a malloc arena) for every call — on a
    /// read, more than the query itself costs.
    Caller,
}

/// The SQLite implementation of [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// The file opened, as (device, inode): a file removed or replaced under a running process
    /// must not go on taking writes that nobody will ever read.
    identity: FileIdentity,
    /// The database file, open for reading its header on heartbeats. It stays open as long as
    /// the connection: closing any descriptor of a file drops every POSIX lock this process
    /// holds on it, SQLite's included, so a check that opened and closed the file each time
    /// would silently break SQLite's locking. Declared after `conn`, so it is closed after it.
    file: std::fs::File,
    wake: WakeDir,
    /// The wake-up socket of each runner loop subscribed through this store, by runner id: that
    /// runner's own claims leave it out ([`RunnerStore::subscribe_runner`]).
    runner_feeds: Mutex<HashMap<String, PathBuf>>,
    threading: Threading,
    /// Every timestamp this store writes, and every lease and back-off it judges, reads this.
    clock: Arc<dyn Clock>,
}

/// Maps a rusqlite error to a baton error that says what baton was doing.
pub(crate) trait Context<T> {
    fn ctx(self, context: &'static str) -> Result<T>;
}

impl<T> Context<T> for rusqlite::Result<T> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|e| Error::database(context, e))
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and brings its schema up to date.
    pub async fn open(path: PathBuf) -> Result<SqliteStore> {
        SqliteStore::open_with_clock(path, Arc::new(SystemClock)).await
    }

    /// [`SqliteStore::open`] with the time read from `clock` instead of the wall clock, so tests
    /// can expire leases and end back-offs without waiting. Every process sharing the file must
    /// agree on the time, so only tests use anything but [`SystemClock`].
    pub async fn open_with_clock(path: PathBuf, clock: Arc<dyn Clock>) -> Result<SqliteStore> {
        SqliteStore::open_with(path, clock, Threading::Pool).await
    }

    /// [`SqliteStore::open_with_clock`], with its calls run where `threading` says.
    pub async fn open_with(path: PathBuf, clock: Arc<dyn Clock>, threading: Threading) -> Result<SqliteStore> {
        let path_for_open = path.clone();
        let (conn, file, identity) = on(threading, move || open_connection(&path_for_open))
            .await
            .map_err(|e| Error::database("opening the database", e))??;
        let wake = WakeDir::for_database(&path);
        let conn = Mutex::new(conn);
        let runner_feeds = Mutex::new(HashMap::new());
        Ok(SqliteStore { inner: Arc::new(Inner { conn, path, identity, file, wake, runner_feeds, threading, clock }) })
    }

    /// Checks that the file at the database's path is still the one this store opened.
    pub fn check_identity(&self) -> Result<()> {
        self.inner.check_identity()
    }

    /// Where the database file is.
    pub fn path(&self) -> &std::path::Path {
        &self.inner.path
    }

    /// Runs `f` on the connection inside a read transaction (one consistent snapshot), with the
    /// time of the store's clock.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>, Millis) -> Result<T> + Send + 'static,
    {
        self.run(TransactionBehavior::Deferred, None, f).await
    }

    /// Runs `f` inside a `BEGIN IMMEDIATE` transaction, commits when it returns `Ok`, and wakes
    /// every subscriber after the commit if any row changed.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>, Millis) -> Result<T> + Send + 'static,
    {
        self.run(TransactionBehavior::Immediate, Some(Notify::everyone(Change::Queue)), f).await
    }

    /// Runs `f` in a transaction; after a commit that changed rows, wakes subscribers with `notify`.
    /// `f` gets the time read once the transaction has begun: a write that waited for another
    /// process's transaction must not judge leases by the time it started waiting.
    /// A write that changed nothing (a claim that found no job) wakes no one: otherwise idle
    /// runners would wake each other forever.
    async fn run<T, F>(&self, behavior: TransactionBehavior, notify: Option<Notify>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>, Millis) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        on(self.inner.threading, move || {
            let mut conn = inner.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let changes_before = conn.total_changes();
            let tx =
                conn.transaction_with_behavior(behavior).ctx("starting a transaction").map_err(|e| inner.fault(e))?;
            let value = f(&tx, inner.clock.now()).map_err(|e| inner.fault(e))?;
            // Checked before the commit: a result "stored" in a file that was removed is lost.
            inner.check_identity()?;
            tx.commit().ctx("committing").map_err(|e| inner.fault(e))?;
            let changed = conn.total_changes() != changes_before;
            drop(conn);
            if let (Some(notify), true) = (notify, changed) {
                inner.wake.notify_except(notify.kind, notify.except.as_deref());
            }
            Ok(value)
        })
        .await
        .map_err(|e| Error::database("running a query", e))?
    }
}

/// Whom a committed change wakes.
struct Notify {
    kind: Change,
    /// A subscriber left out: the runner loop that made the change.
    except: Option<PathBuf>,
}

impl Notify {
    fn everyone(kind: Change) -> Notify {
        Notify { kind, except: None }
    }
}

/// Runs blocking `work` where `threading` says; the error is a pool task that panicked or was
/// cancelled.
async fn on<T, F>(threading: Threading, work: F) -> std::result::Result<T, tokio::task::JoinError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match threading {
        Threading::Pool => tokio::task::spawn_blocking(work).await,
        Threading::Caller => Ok(work()),
    }
}

/// A file's (device, inode).
type FileIdentity = (u64, u64);

/// The length of an SQLite database file's header.
const HEADER_LEN: usize = 100;

/// Whether `header` is an SQLite 3 file header: the magic string, and a page size that is a
/// power of two between 512 and 65536 (stored as 1 for 65536).
fn header_is_sqlite(header: &[u8; HEADER_LEN]) -> bool {
    let page_size = u32::from(u16::from_be_bytes([header[16], header[17]]));
    let page_size_ok = page_size == 1 || (512..=32768).contains(&page_size) && page_size.is_power_of_two();
    header.starts_with(b"SQLite format 3\0") && page_size_ok
}

impl Inner {
    fn check_identity(&self) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        let gone = |what| Error::DatabaseGone { location: self.path.display().to_string(), what };
        match std::fs::metadata(&self.path) {
            Ok(m) if (m.dev(), m.ino()) == self.identity => Ok(()),
            Ok(_) => Err(gone("was replaced by another file")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(gone("was removed")),
            Err(e) => Err(Error::io(format!("checking the database file {}", self.path.display()), e)),
        }
    }

    /// Checks that the file still begins with SQLite's header. A file overwritten in place keeps
    /// its inode, and with WAL the connection's page cache can keep answering from memory for a
    /// long time, so the damage would surface only when an uncached page is read — possibly after
    /// results were "stored" into it. One 100-byte read per heartbeat finds it at once.
    fn check_header(&self) -> Result<()> {
        use std::os::unix::fs::FileExt;
        let mut header = [0u8; HEADER_LEN];
        let mut read = 0;
        let mut result = Ok(());
        while read < HEADER_LEN {
            match self.file.read_at(&mut header[read..], read as u64) {
                Ok(0) => break,
                Ok(n) => read += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        match result {
            // In WAL mode every page may still be in the log: the file itself stays empty until
            // the first checkpoint.
            Ok(()) if read == 0 => Ok(()),
            Ok(()) if read < HEADER_LEN => Err(self.corrupt("it was cut shorter than an SQLite header")),
            Ok(()) if header_is_sqlite(&header) => Ok(()),
            Ok(()) => Err(self.corrupt("its first bytes are no longer an SQLite header")),
            Err(e) => Err(Error::io(format!("checking the database file {}", self.path.display()), e)),
        }
    }

    fn corrupt(&self, message: &str) -> Error {
        Error::DatabaseCorrupt {
            location: self.path.display().to_string(),
            context: "checking the file on a heartbeat",
            message: message.to_string(),
        }
    }

    /// A damaged file is reported as such, once, rather than as one more failed query.
    fn fault(&self, e: Error) -> Error {
        match e {
            Error::Database { context, source } if baton_core::error::is_corruption(&source.to_string()) => {
                Error::DatabaseCorrupt {
                    location: self.path.display().to_string(),
                    context,
                    message: source.to_string(),
                }
            }
            other => other,
        }
    }
}

/// Opens the file at `path`; its folder must exist (the default location's folder is created by
/// [`crate::open_config`]): a mistyped explicit path must not quietly start an empty queue.
fn open_connection(path: &std::path::Path) -> Result<(Connection, std::fs::File, FileIdentity)> {
    use std::os::unix::fs::MetadataExt;
    let location = path.display().to_string();
    let open_error = |message: String| Error::DatabaseOpen { location: location.clone(), message };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(open_error(format!("cannot create the file: {} is not a folder", dir.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(open_error(format!("the folder {} does not exist", dir.display())))
            }
            Err(e) => return Err(open_error(format!("cannot read the folder {}: {e}", dir.display()))),
        }
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(e.to_string()))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| open_error(e.to_string()))?;
    // A claim-to-finish cycle uses about thirty distinct statements; with rusqlite's default
    // cache of sixteen, nearly every one was re-prepared.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // WAL is a property of the file; asking again is cheap once set. NORMAL is durable in WAL mode
    // except for the last commits before a power loss, which a queue can afford.
    let mode: String =
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(|e| open_error(e.to_string()))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(open_error(format!("the file system refused WAL mode (got {mode})")));
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        .map_err(|e| open_error(e.to_string()))?;
    migrate::migrate(&conn, &location)?;
    let file = std::fs::File::open(path).map_err(|e| open_error(format!("cannot read the file: {e}")))?;
    let meta = file.metadata().map_err(|e| open_error(format!("cannot read the file: {e}")))?;
    Ok((conn, file, (meta.dev(), meta.ino())))
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_assignment(&self, new: NewAssignment, actor: &Actor) -> Result<AssignmentDetail> {
        let actor = actor.clone();
        self.write(move |tx, now| assignments::create(tx, &new, &actor, now)).await
    }

    async fn insert_job(&self, ns: &str, assignment_id: &str, new: NewJob, actor: &Actor) -> Result<Job> {
        let (ns, id, actor) = (ns.to_string(), assignment_id.to_string(), actor.clone());
        // The closure commits even when the insert is refused by the job limit: blocking the
        // assignment is part of the refusal.
        self.write(move |tx, now| Ok(jobs::insert_guarded(tx, &ns, &id, &new, &actor, now))).await?
    }

    async fn assignment(&self, ns: &str, id: &str) -> Result<AssignmentDetail> {
        let (ns, id) = (ns.to_string(), id.to_string());
        self.read(move |tx, _| assignments::detail(tx, &ns, &id)).await
    }

    async fn assignments(&self, ns: &str, filter: &AssignmentFilter) -> Result<Vec<Assignment>> {
        let (ns, filter) = (ns.to_string(), filter.clone());
        self.read(move |tx, _| assignments::list(tx, &ns, &filter)).await
    }

    async fn job(&self, ns: &str, id: &str) -> Result<Job> {
        let (ns, id) = (ns.to_string(), id.to_string());
        self.read(move |tx, _| jobs::get(tx, &ns, &id)).await
    }

    async fn jobs(&self, ns: &str, filter: &JobFilter) -> Result<Vec<Job>> {
        let (ns, filter) = (ns.to_string(), filter.clone());
        self.read(move |tx, _| jobs::list(tx, &ns, &filter)).await
    }

    async fn queue(&self, ns: &str, at: Millis) -> Result<QueueSummary> {
        let ns = ns.to_string();
        self.read(move |tx, _| queue::summary(tx, &ns, at)).await
    }

    async fn namespaces(&self) -> Result<Vec<baton_core::store::NamespaceCount>> {
        self.read(move |tx, _| namespaces::list(tx)).await
    }

    async fn metrics(&self, ns: &str) -> Result<baton_core::metrics::MetricsSnapshot> {
        let ns = ns.to_string();
        self.read(move |tx, now| metrics::snapshot(tx, &ns, now)).await
    }

    async fn drop_transcripts(&self, ns: &str, finished_before: Millis, dry_run: bool) -> Result<u64> {
        let ns = ns.to_string();
        self.write(move |tx, _| retention::drop_transcripts(tx, &ns, finished_before, dry_run)).await
    }

    async fn claim_maintenance(&self, ns: &str, host: &str, holder: &str, ttl_ms: u64) -> Result<bool> {
        let (ns, host, holder) = (ns.to_string(), host.to_string(), holder.to_string());
        self.run(TransactionBehavior::Immediate, None, move |tx, now| {
            maintenance::claim(tx, &ns, &host, &holder, now, ttl_ms)
        })
        .await
    }

    async fn record_disk_use(&self, ns: &str, host: &str, worktrees_bytes: u64) -> Result<DiskUse> {
        let path = self.inner.path.clone();
        let database_bytes = on(self.inner.threading, move || maintenance::database_bytes(&path)).await.ok().flatten();
        let (ns, host) = (ns.to_string(), host.to_string());
        self.run(TransactionBehavior::Immediate, None, move |tx, now| {
            let use_ = DiskUse { host, worktrees_bytes, database_bytes, measured_at: now };
            maintenance::record(tx, &ns, &use_)?;
            Ok(use_)
        })
        .await
    }

    async fn disk_use(&self, ns: &str) -> Result<Vec<DiskUse>> {
        let ns = ns.to_string();
        self.read(move |tx, _| maintenance::list(tx, &ns)).await
    }

    async fn finished_worktrees(&self, ns: &str) -> Result<u64> {
        let ns = ns.to_string();
        self.read(move |tx, _| worktrees::finished(tx, &ns)).await
    }

    async fn update_assignment(
        &self,
        ns: &str,
        id: &str,
        update: &AssignmentUpdate,
        defaults: &JobDefaults,
        actor: &Actor,
    ) -> Result<AssignmentDetail> {
        let (ns, id, update, defaults, actor) =
            (ns.to_string(), id.to_string(), update.clone(), defaults.clone(), actor.clone());
        self.write(move |tx, now| assignments::update(tx, &ns, &id, &update, &defaults, &actor, now)).await
    }

    async fn cancel_job(&self, ns: &str, id: &str, defaults: &JobDefaults, actor: &Actor) -> Result<Job> {
        let (ns, id, defaults, actor) = (ns.to_string(), id.to_string(), defaults.clone(), actor.clone());
        self.write(move |tx, now| jobs::cancel(tx, &ns, &id, &defaults, &actor, now)).await
    }

    async fn proceed(&self, ns: &str, assignment_id: &str, actor: &Actor) -> Result<Job> {
        let (ns, id, actor) = (ns.to_string(), assignment_id.to_string(), actor.clone());
        self.write(move |tx, now| jobs::proceed(tx, &ns, &id, &actor, now)).await
    }

    async fn retry_job(&self, ns: &str, id: &str, defaults: &JobDefaults, actor: &Actor) -> Result<Job> {
        let (ns, id, defaults, actor) = (ns.to_string(), id.to_string(), defaults.clone(), actor.clone());
        self.write(move |tx, now| Ok(jobs::retry_guarded(tx, &ns, &id, &defaults, &actor, now))).await?
    }

    async fn record_merge(
        &self,
        ns: &str,
        assignment_id: &str,
        commit: &str,
        into: &str,
        actor: &Actor,
    ) -> Result<AssignmentDetail> {
        let (ns, id, commit, into, actor) =
            (ns.to_string(), assignment_id.to_string(), commit.to_string(), into.to_string(), actor.clone());
        self.write(move |tx, now| assignments::record_merge(tx, &ns, &id, &commit, &into, &actor, now)).await
    }

    async fn other_origins(&self, ns: &str, except: &str) -> Result<Vec<String>> {
        let (ns, except) = (ns.to_string(), except.to_string());
        self.read(move |tx, _| assignments::other_origins(tx, &ns, &except)).await
    }

    async fn add_schedule(&self, new: NewSchedule, actor: &Actor) -> Result<Schedule> {
        let actor = actor.clone();
        self.write(move |tx, now| schedules::add(tx, &new, &actor, now)).await
    }

    async fn schedules(&self, ns: &str) -> Result<Vec<Schedule>> {
        let ns = ns.to_string();
        self.read(move |tx, _| schedules::list(tx, &ns)).await
    }

    async fn schedule(&self, ns: &str, id: &str) -> Result<Schedule> {
        let (ns, id) = (ns.to_string(), id.to_string());
        self.read(move |tx, _| schedules::get(tx, &ns, &id)).await
    }

    async fn schedule_slots(&self, ns: &str) -> Result<Vec<(String, Millis)>> {
        let ns = ns.to_string();
        self.read(move |tx, _| schedules::slots(tx, &ns)).await
    }

    async fn remove_schedule(&self, ns: &str, id: &str, actor: &Actor) -> Result<Schedule> {
        let (ns, id, actor) = (ns.to_string(), id.to_string(), actor.clone());
        self.write(move |tx, _| schedules::remove(tx, &ns, &id, &actor)).await
    }

    async fn pause_schedule(&self, ns: &str, id: &str, paused: bool, actor: &Actor) -> Result<Schedule> {
        let (ns, id, actor) = (ns.to_string(), id.to_string(), actor.clone());
        self.write(move |tx, now| schedules::pause(tx, &ns, &id, paused, &actor, now)).await
    }

    async fn set_next_fire(&self, ns: &str, id: &str, at: Millis, actor: &Actor) -> Result<Schedule> {
        let (ns, id, actor) = (ns.to_string(), id.to_string(), actor.clone());
        self.write(move |tx, _| schedules::set_next_fire(tx, &ns, &id, at, &actor)).await
    }

    async fn fire_schedule(&self, ns: &str, id: &str, fire: FireRequest, actor: &Actor) -> Result<FireOutcome> {
        let (ns, id, actor) = (ns.to_string(), id.to_string(), actor.clone());
        self.write(move |tx, now| schedules::fire(tx, &ns, &id, &fire, &actor, now)).await
    }
}

#[async_trait]
impl RunnerStore for SqliteStore {
    async fn register_runner(&self, info: &RunnerInfo) -> Result<()> {
        let info = info.clone();
        self.write(move |tx, now| runners::register(tx, &info, now)).await
    }

    async fn heartbeat_runner(&self, runner_id: &str) -> Result<()> {
        // Every heartbeat makes sure the file is still the one opened, and still a database,
        // even when the runner has nothing else to write: a runner whose file was removed,
        // replaced or overwritten in place stops at once.
        self.inner.check_identity()?;
        self.inner.check_header()?;
        // Heartbeats change nothing anyone waits for, so they wake no one.
        let id = runner_id.to_string();
        self.run(TransactionBehavior::Immediate, None, move |tx, now| runners::heartbeat(tx, &id, now)).await
    }

    async fn stop_runner(&self, runner_id: &str) -> Result<()> {
        let id = runner_id.to_string();
        self.write(move |tx, now| runners::stop(tx, &id, now)).await
    }

    async fn runners(&self, ns: &str) -> Result<Vec<RunnerInfo>> {
        let ns = ns.to_string();
        self.read(move |tx, now| runners::list(tx, &ns, now)).await
    }

    async fn claim_next(
        &self,
        ns: &str,
        runner_id: &str,
        lease_ms: u64,
        policy: &EnginePolicy,
    ) -> Result<Option<Claim>> {
        let (ns, id, policy) = (ns.to_string(), runner_id.to_string(), policy.clone());
        // The claiming runner's loop follows its claim up in the same round; the wake-up is for
        // everyone else.
        let except = self.inner.runner_feeds.lock().unwrap_or_else(|p| p.into_inner()).get(runner_id).cloned();
        let notify = Notify { kind: Change::Queue, except };
        self.run(TransactionBehavior::Immediate, Some(notify), move |tx, now| {
            runners::claim_next(tx, &ns, &id, lease_ms, &policy, now)
        })
        .await
    }

    async fn record_start(&self, job_id: &str, token: i64, start: &AttemptStart) -> Result<bool> {
        let (id, start) = (job_id.to_string(), start.clone());
        self.run(TransactionBehavior::Immediate, None, move |tx, now| {
            runners::record_start(tx, &id, token, &start, now)
        })
        .await
    }

    async fn add_warnings(&self, job_id: &str, token: i64, attempt: u32, warnings: &[String]) -> Result<bool> {
        let (id, warnings) = (job_id.to_string(), warnings.to_vec());
        self.write(move |tx, now| runners::add_warnings(tx, &id, token, attempt, &warnings, now)).await
    }

    async fn record_push(&self, job_id: &str, token: i64, commit: &str) -> Result<bool> {
        let (id, commit) = (job_id.to_string(), commit.to_string());
        self.write(move |tx, now| sync::record_push(tx, &id, token, &commit, now)).await
    }

    async fn set_workspace(&self, ns: &str, assignment_id: &str, workspace: &Workspace) -> Result<()> {
        let (ns, id, ws) = (ns.to_string(), assignment_id.to_string(), workspace.clone());
        self.write(move |tx, now| assignments::set_workspace(tx, &ns, &id, &ws, now)).await
    }

    async fn clear_workspace(&self, ns: &str, assignment_id: &str, branch_kept: bool) -> Result<()> {
        let (ns, id) = (ns.to_string(), assignment_id.to_string());
        self.write(move |tx, now| assignments::clear_workspace(tx, &ns, &id, branch_kept, now)).await
    }

    async fn take_notifications(&self, ns: &str, limit: u32) -> Result<Vec<Notification>> {
        // Taking a notification wakes no one: it changes nothing a runner waits for.
        let ns = ns.to_string();
        self.run(TransactionBehavior::Immediate, None, move |tx, now| {
            assignments::take_notifications(tx, &ns, limit, now)
        })
        .await
    }

    async fn renew_lease(&self, job_id: &str, token: i64, lease_ms: u64) -> Result<Lease> {
        let id = job_id.to_string();
        self.run(TransactionBehavior::Immediate, None, move |tx, now| runners::renew(tx, &id, token, lease_ms, now))
            .await
    }

    async fn held_leases(&self, runner_id: &str) -> Result<Vec<(String, i64)>> {
        let id = runner_id.to_string();
        self.read(move |tx, _| runners::held(tx, &id)).await
    }

    async fn release_stopped(&self, job_id: &str, token: i64) -> Result<bool> {
        let id = job_id.to_string();
        self.write(move |tx, now| stopping::release(tx, &id, token, now)).await
    }

    async fn renew_stop(&self, job_id: &str, token: i64, lease_ms: u64) -> Result<bool> {
        // Like a lease renewal: it changes nothing anyone waits for, so it wakes no one.
        let id = job_id.to_string();
        self.run(TransactionBehavior::Immediate, None, move |tx, now| stopping::renew(tx, &id, token, lease_ms, now))
            .await
    }

    async fn append_events(&self, job_id: &str, token: i64, attempt: u32, events: Vec<NewEvent>) -> Result<bool> {
        let id = job_id.to_string();
        self.run(TransactionBehavior::Immediate, Some(Notify::everyone(Change::Events)), move |tx, now| {
            events::append(tx, &id, token, attempt, &events, now)
        })
        .await
    }

    async fn finish_attempt(
        &self,
        job_id: &str,
        token: i64,
        result: AttemptResult,
        policy: &EnginePolicy,
    ) -> Result<Option<Job>> {
        let (id, policy) = (job_id.to_string(), policy.clone());
        self.write(move |tx, now| finish::finish_attempt(tx, &id, token, &result, &policy, now)).await
    }

    async fn attempt_prompt(&self, ns: &str, job_id: &str, attempt: Option<u32>) -> Result<AttemptPrompt> {
        let (ns, id) = (ns.to_string(), job_id.to_string());
        self.read(move |tx, _| runners::attempt_prompt(tx, &ns, &id, attempt)).await
    }

    async fn job_events(&self, ns: &str, job_id: &str, after_seq: i64, limit: u32) -> Result<Vec<JobEvent>> {
        let (ns, id) = (ns.to_string(), job_id.to_string());
        self.read(move |tx, _| events::list(tx, &ns, &id, after_seq, limit)).await
    }

    async fn next_deadline(&self, ns: &str, after: Millis) -> Result<Option<Millis>> {
        let ns = ns.to_string();
        self.read(move |tx, _| runners::next_deadline(tx, &ns, after)).await
    }

    async fn is_idle(&self, ns: &str) -> Result<bool> {
        let ns = ns.to_string();
        self.read(move |tx, _| runners::is_idle(tx, &ns)).await
    }

    fn subscribe(&self) -> Result<Box<dyn ChangeFeed>> {
        Ok(Box::new(WakeFeed(self.wake_subscription()?)))
    }

    fn subscribe_runner(&self, runner_id: &str) -> Result<Box<dyn ChangeFeed>> {
        let subscription = self.wake_subscription()?;
        let mut feeds = self.inner.runner_feeds.lock().unwrap_or_else(|p| p.into_inner());
        feeds.insert(runner_id.to_string(), subscription.path().to_path_buf());
        Ok(Box::new(WakeFeed(subscription)))
    }
}

impl SqliteStore {
    fn wake_subscription(&self) -> Result<Subscription> {
        let path = &self.inner.path;
        self.inner.wake.subscribe().map_err(|e| Error::io(format!("subscribing to changes of {}", path.display()), e))
    }
}

/// [`ChangeFeed`] over the wake-up sockets.
struct WakeFeed(Subscription);

#[async_trait]
impl ChangeFeed for WakeFeed {
    async fn changed(&self) -> Result<Changes> {
        let changes = self.0.changed().await.map_err(|e| Error::io("waiting for changes", e))?;
        Ok(Changes { queue: changes.queue, events: changes.events })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn thread_of_a_query(threading: Threading) -> std::thread::ThreadId {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open_with(dir.path().join("baton.db"), Arc::new(SystemClock), threading)
            .await
            .expect("store opens");
        store.read(|_, _| Ok(std::thread::current().id())).await.expect("query runs")
    }

    #[tokio::test]
    async fn a_command_store_queries_on_the_calling_thread() {
        assert_eq!(thread_of_a_query(Threading::Caller).await, std::thread::current().id());
    }

    #[tokio::test]
    async fn a_serving_store_keeps_queries_off_the_runtime() {
        assert_ne!(thread_of_a_query(Threading::Pool).await, std::thread::current().id());
    }
}
