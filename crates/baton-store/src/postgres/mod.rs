//! The PostgreSQL backend: one database shared by runners on several machines.
//!
//! This file holds the store itself: connecting (with a one-line error that names the server
//! but never the password), the connection pool, and the two transaction wrappers every
//! operation goes through. `read_tx!` runs a `REPEATABLE READ READ ONLY` transaction, so a
//! multi-statement read sees one snapshot. `write_tx!` runs a `READ COMMITTED` transaction that
//! takes the clock from the database, sends `NOTIFY` inside the transaction when it changed
//! anything, and runs again when PostgreSQL reports a serialization failure or a deadlock.
//!
//! How writers stay correct under concurrency is written at the top of
//! `migrations/postgres/0001_init.sql`: every writer locks the assignment row first.
//!
//! TLS (rustls): runners on several machines reach the database over a network, so the URL's
//! `sslmode=require` encrypts the connection and `sslmode=verify-full&sslrootcert=CA.pem` also
//! checks the server's certificate and name against that CA file. The default `prefer` uses TLS
//! when the server offers it, except on a Unix socket, where there is no TLS to offer.

mod assignments;
mod batch;
mod dependencies;
mod events;
mod finish;
mod idle;
mod jobs;
mod listen;
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
mod tx;
mod version;
mod worktrees;

use crate::wake::Change;
use async_trait::async_trait;
use baton_core::lifecycle::AssignmentUpdate;
use baton_core::store::{
    AssignmentFilter, AttemptPrompt, AttemptResult, AttemptStart, ChangeFeed, Claim, DiskUse, EnginePolicy,
    FireOutcome, FireRequest, JobDefaults, JobFilter, Lease, NewAssignment, NewEvent, NewJob, NewSchedule,
    Notification, QueueSummary, RunnerInfo, RunnerStore, Workspace,
};
use baton_core::time::Millis;
use baton_core::{Actor, Assignment, AssignmentDetail, Error, Job, JobEvent, Result, Schedule, Store};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgSslMode};
use sqlx::Connection;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The channel every write notifies and every [`ChangeFeed`] listens on.
pub const CHANNEL: &str = "baton_changes";

/// How long opening the first connection may take before baton says the server does not answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an operation waits for a pooled connection. Longer than a server restart usually
/// takes, so runners ride one out instead of failing the operation at once.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections per process. Every operation holds one only for its few statements, so a runner
/// with more running jobs than this queues briefly rather than needing more; the CLI uses one.
const MAX_CONNECTIONS: u32 = 8;

/// How often a transaction is tried: PostgreSQL aborts some for a serialization failure or a
/// deadlock, and a server restart breaks the ones in flight; both succeed when run again.
const TX_ATTEMPTS: u32 = 5;

/// The context of a failed `COMMIT`: after a lost connection there, nobody knows whether the
/// transaction committed, so it is never run again.
const COMMITTING: &str = "committing";

/// The database clock in milliseconds. `clock_timestamp()` rather than `now()`: `now()` is the
/// start of the transaction, which may have waited on a lock.
pub(crate) const DB_NOW: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// The PostgreSQL implementation of [`Store`].
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Connections for reads and writes.
    pool: PgPool,
    /// The connection opened first, kept for the next transaction (see [`tx`]).
    first: tx::First,
    /// Kept to open the dedicated connections of change feeds.
    options: PgConnectOptions,
    /// `postgres://user@host:port/db`, for messages (never the password).
    location: String,
}

/// What went wrong inside a transaction: a refusal by baton's rules (the transaction is rolled
/// back and the error shown as is), or an SQL error, which may mean "run it again".
#[derive(Debug)]
pub(crate) enum TxError {
    Baton(Error),
    Sql { context: &'static str, source: sqlx::Error },
}

pub(crate) type TxResult<T> = std::result::Result<T, TxError>;

impl From<Error> for TxError {
    fn from(e: Error) -> Self {
        TxError::Baton(e)
    }
}

impl TxError {
    /// How long to wait before running the failed transaction again (its `attempt`th try), or
    /// `None` to give up.
    ///
    /// - Serialization failures and deadlocks succeed when run again at once. So does a claim
    ///   that lost a race on `jobs_one_running`: the next try sees the other claim.
    /// - A connection lost before the commit (a server restart, a network cut) rolled the
    ///   transaction back: it runs again once the pool has reconnected, which the next try's
    ///   connection checkout waits for. A connection lost *during* the commit is not retried:
    ///   the transaction may have committed, and running it twice could queue a job twice.
    fn retry_after(&self, attempt: u32) -> Option<Duration> {
        let TxError::Sql { context, source } = self else { return None };
        if attempt >= TX_ATTEMPTS {
            return None;
        }
        if is_collision(source) {
            // Jittered, so that the transactions that collided do not collide again.
            return Some(Duration::from_millis(rand::random::<u64>() % (5u64 << attempt)));
        }
        if is_connection_lost(source) && *context != COMMITTING {
            return Some(Duration::from_millis(250u64 << (attempt - 1)));
        }
        None
    }

    fn into_error(self) -> Error {
        match self {
            TxError::Baton(e) => e,
            TxError::Sql { context, source } => Error::database(context, SqlError::from(source)),
        }
    }
}

fn is_collision(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else { return false };
    match db.code().as_deref() {
        Some("40001") | Some("40P01") => true,
        Some("23505") => db.constraint() == Some("jobs_one_running"),
        _ => false,
    }
}

/// The connection broke, or the server is shutting down or starting up (SQLSTATE classes 08
/// and 57P). A connection closed before the server answered the TLS negotiation (a server going
/// down or coming up accepts and drops it) surfaces as a protocol error about the SSLRequest.
fn is_connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Protocol(message) => message.contains("SSLRequest"),
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// Maps an sqlx error to a [`TxError`] that says what baton was doing.
pub(crate) trait Context<T> {
    fn ctx(self, context: &'static str) -> TxResult<T>;
}

impl<T> Context<T> for std::result::Result<T, sqlx::Error> {
    fn ctx(self, context: &'static str) -> TxResult<T> {
        self.map_err(|source| TxError::Sql { context, source })
    }
}

/// An sqlx error shown as [`sql_message`] words it, keeping the driver's error and its causes.
#[derive(Debug)]
pub(crate) struct SqlError {
    message: String,
    error: sqlx::Error,
}

impl From<sqlx::Error> for SqlError {
    fn from(error: sqlx::Error) -> Self {
        SqlError { message: sql_message(&error), error }
    }
}

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqlError {
    /// The driver error's own cause: sqlx's text for it ("error returned from database: …") only
    /// repeats what the message already says.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// One line describing an sqlx error: the server's own message for database errors (not sqlx's
/// "error returned from database:" prefix), newlines folded.
pub(crate) fn sql_message(e: &sqlx::Error) -> String {
    let text = match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        // rustls reports a certificate it cannot verify as an I/O error.
        sqlx::Error::Io(io) if io.to_string().contains("certificate") => format!(
            "{io}; with sslmode=verify-full, sslrootcert must name the CA file that signed the server's certificate"
        ),
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Tls(_) => format!(
            "{e}; check the URL's sslmode (require, verify-full) and sslrootcert (the CA file the server's \
             certificate is signed by), or enable ssl on the server"
        ),
        sqlx::Error::PoolTimedOut => {
            format!("no connection to the database became available within {}s", ACQUIRE_TIMEOUT.as_secs())
        }
        other => other.to_string(),
    };
    one_line(&text)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `postgres://user@host:port/db`: where a store points, without the password.
fn describe(options: &PgConnectOptions) -> String {
    let host = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let db = options.get_database().unwrap_or(options.get_username());
    format!("postgres://{}@{host}/{db}", options.get_username())
}

/// The default `sslmode=prefer` asks the server for TLS before anything else, one round trip
/// that a Unix socket never answers with yes: PostgreSQL has no TLS on local sockets, and libpq
/// ignores `sslmode` there. On a socket `prefer` (and `allow`) therefore become `disable`;
/// an explicit `require` or `verify-*` is left alone, so it still refuses to go unencrypted.
fn no_tls_on_unix_sockets(options: PgConnectOptions) -> PgConnectOptions {
    let unix = options.get_socket().is_some() || options.get_host().starts_with('/');
    match options.get_ssl_mode() {
        PgSslMode::Prefer | PgSslMode::Allow if unix => options.ssl_mode(PgSslMode::Disable),
        _ => options,
    }
}

/// PostgreSQL refuses NUL characters in text; an agent's output may contain them (they arrive
/// escaped in JSON). They become U+FFFD rather than failing the write that records a result.
pub(crate) fn pg_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://USER:PASSWORD@HOST:PORT/DB?…`) and brings
    /// its schema up to date.
    pub async fn connect(url: &str) -> Result<PostgresStore> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| Error::DatabaseOpen {
                location: baton_core::config::redact_url(url),
                message: sql_message(&e),
            })?
            .application_name("baton");
        let options = no_tls_on_unix_sockets(options);
        let location = describe(&options);
        let open_error = |message: String| Error::DatabaseOpen { location: location.clone(), message };

        // One direct connection first: a pool would retry a refused connection until its
        // timeout and then only say "timed out", while this gives the server's reason at once.
        let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options))
            .await
            .map_err(|_| open_error(format!("the server did not answer within {}s", CONNECT_TIMEOUT.as_secs())))?
            .map_err(|e| open_error(sql_message(&e)))?;
        migrate::migrate(&mut conn, &location).await?;

        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options.clone());
        let first = Arc::new(std::sync::Mutex::new(Some(conn)));
        Ok(PostgresStore { inner: Arc::new(Inner { pool, first, options, location }) })
    }

    /// Where the store points, e.g. `postgres://baton@db:5432/baton` (never the password).
    pub fn location(&self) -> &str {
        &self.inner.location
    }

    /// The connection pool (tests and benchmarks run raw SQL through it).
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// Starts a read-only snapshot: every statement of a multi-statement read sees the same data.
    async fn begin_read(&self) -> TxResult<tx::Tx> {
        tx::Tx::begin(&self.inner.first, &self.inner.pool, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .ctx("starting a read")
    }

    /// Starts a write transaction (`READ COMMITTED`: each statement sees every commit before it,
    /// which is what the lock-the-assignment-first rule relies on).
    async fn begin_write(&self) -> TxResult<tx::Tx> {
        tx::Tx::begin(&self.inner.first, &self.inner.pool, "BEGIN").await.ctx("starting a transaction")
    }

    /// Commits a write. When the transaction changed anything and `notify` is set, `NOTIFY` is
    /// sent inside it, so listeners hear of the change exactly when it becomes visible.
    async fn commit_write(&self, mut tx: tx::Tx, notify: Option<Change>) -> TxResult<()> {
        if let Some(kind) = notify {
            // A transaction gets an id only once it writes or locks a row: one that found nothing
            // to do wakes no one, or idle runners would wake each other forever.
            sqlx::query("SELECT pg_notify($1, $2) WHERE pg_current_xact_id_if_assigned() IS NOT NULL")
                .bind(CHANNEL)
                .bind(char::from(kind as u8).to_string())
                .execute(&mut *tx)
                .await
                .ctx("waking subscribers")?;
        }
        tx.commit().await.ctx(COMMITTING)
    }
}

/// Runs `$body` in a write transaction and commits it (see [`PostgresStore::commit_write`]).
/// `$body` is an expression of type `TxResult<T>` that may `.await` and use `?`; it sees the
/// transaction as `$conn: &mut PgConnection` and the database clock as `$now`. After a
/// serialization failure, a deadlock or a connection lost before the commit, the whole
/// transaction runs again (see [`TxError::retry_after`]). Evaluates to `Result<T>`.
///
/// A macro rather than a method taking a closure: the body borrows the caller's arguments, and
/// a closure returning a future that borrows both them and the connection cannot be proven
/// `Send` for every lifetime, which `async_trait` requires.
macro_rules! write_tx {
    ($store:expr, $notify:expr, |$conn:ident, $now:pat_param| $body:expr) => {{
        let store: &PostgresStore = $store;
        let mut attempt = 1u32;
        loop {
            let result: TxResult<_> = async {
                let mut tx = store.begin_write().await?;
                let $now: Millis = db_now(&mut tx).await?;
                let value = {
                    let $conn: &mut PgConnection = &mut tx;
                    $body?
                };
                store.commit_write(tx, $notify).await?;
                Ok(value)
            }
            .await;
            match result.as_ref().err().and_then(|e| e.retry_after(attempt)) {
                Some(pause) => {
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                None => break result.map_err(TxError::into_error),
            }
        }
    }};
}

/// Runs `$body` in a read-only snapshot, again after a lost connection; like [`write_tx`]
/// otherwise. `$now` is the database clock, for the one read that judges time (lost runners).
macro_rules! read_tx {
    ($store:expr, |$conn:ident| $body:expr) => {
        read_tx!(@run $store, tx, {}, |$conn| $body)
    };
    ($store:expr, |$conn:ident, $now:pat_param| $body:expr) => {
        read_tx!(@run $store, tx, { let $now: Millis = db_now(&mut tx).await?; }, |$conn| $body)
    };
    (@run $store:expr, $tx:ident, { $($clock:tt)* }, |$conn:ident| $body:expr) => {{
        let store: &PostgresStore = $store;
        let mut attempt = 1u32;
        loop {
            let result: TxResult<_> = async {
                let mut $tx = store.begin_read().await?;
                $($clock)*
                let value = {
                    let $conn: &mut PgConnection = &mut $tx;
                    $body?
                };
                $tx.commit().await.ctx("ending a read")?;
                Ok(value)
            }
            .await;
            match result.as_ref().err().and_then(|e| e.retry_after(attempt)) {
                Some(pause) => {
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                None => break result.map_err(TxError::into_error),
            }
        }
    }};
}

/// The database clock, read once per transaction.
async fn db_now(conn: &mut PgConnection) -> TxResult<Millis> {
    sqlx::query_scalar(&format!("SELECT {DB_NOW}")).fetch_one(conn).await.ctx("reading the database clock")
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_assignment(&self, new: NewAssignment, actor: &Actor) -> Result<AssignmentDetail> {
        write_tx!(self, Some(Change::Queue), |c, now| assignments::create(c, &new, actor, now).await)
    }

    async fn insert_job(&self, ns: &str, assignment_id: &str, new: NewJob, actor: &Actor) -> Result<Job> {
        // The transaction commits even when the insert is refused by the job limit: blocking the
        // assignment is part of the refusal.
        write_tx!(self, Some(Change::Queue), |c, now| jobs::insert_guarded(c, ns, assignment_id, &new, actor, now)
            .await)?
    }

    async fn assignment(&self, ns: &str, id: &str) -> Result<AssignmentDetail> {
        read_tx!(self, |c| assignments::detail(c, ns, id).await)
    }

    async fn assignments(&self, ns: &str, filter: &AssignmentFilter) -> Result<Vec<Assignment>> {
        read_tx!(self, |c| assignments::list(c, ns, filter).await)
    }

    async fn job(&self, ns: &str, id: &str) -> Result<Job> {
        read_tx!(self, |c| jobs::get(c, ns, id).await)
    }

    async fn jobs(&self, ns: &str, filter: &JobFilter) -> Result<Vec<Job>> {
        read_tx!(self, |c| jobs::list(c, ns, filter).await)
    }

    async fn queue(&self, ns: &str, at: Millis) -> Result<QueueSummary> {
        read_tx!(self, |c| queue::summary(c, ns, at).await)
    }

    async fn namespaces(&self) -> Result<Vec<baton_core::store::NamespaceCount>> {
        read_tx!(self, |c| namespaces::list(c).await)
    }

    async fn metrics(&self, ns: &str) -> Result<baton_core::metrics::MetricsSnapshot> {
        read_tx!(self, |c, now| metrics::snapshot(c, ns, now).await)
    }

    async fn drop_transcripts(&self, ns: &str, finished_before: Millis, dry_run: bool) -> Result<u64> {
        write_tx!(self, None, |c, _now| retention::drop_transcripts(c, ns, finished_before, dry_run).await)
    }

    async fn claim_maintenance(&self, ns: &str, host: &str, holder: &str, ttl_ms: u64) -> Result<bool> {
        write_tx!(self, None, |c, now| maintenance::claim(c, ns, host, holder, now, ttl_ms).await)
    }

    async fn record_disk_use(&self, ns: &str, host: &str, worktrees_bytes: u64) -> Result<DiskUse> {
        write_tx!(self, None, |c, now| maintenance::record(c, ns, host, worktrees_bytes, now).await)
    }

    async fn disk_use(&self, ns: &str) -> Result<Vec<DiskUse>> {
        read_tx!(self, |c| maintenance::list(c, ns).await)
    }

    async fn finished_worktrees(&self, ns: &str) -> Result<u64> {
        read_tx!(self, |c| worktrees::finished(c, ns).await)
    }

    async fn update_assignment(
        &self,
        ns: &str,
        id: &str,
        update: &AssignmentUpdate,
        defaults: &JobDefaults,
        actor: &Actor,
    ) -> Result<AssignmentDetail> {
        write_tx!(self, Some(Change::Queue), |c, now| assignments::update(c, ns, id, update, defaults, actor, now)
            .await)
    }

    async fn cancel_job(&self, ns: &str, id: &str, defaults: &JobDefaults, actor: &Actor) -> Result<Job> {
        write_tx!(self, Some(Change::Queue), |c, now| jobs::cancel(c, ns, id, defaults, actor, now).await)
    }

    async fn proceed(&self, ns: &str, assignment_id: &str, actor: &Actor) -> Result<Job> {
        write_tx!(self, Some(Change::Queue), |c, now| jobs::proceed(c, ns, assignment_id, actor, now).await)
    }

    async fn retry_job(&self, ns: &str, id: &str, defaults: &JobDefaults, actor: &Actor) -> Result<Job> {
        write_tx!(self, Some(Change::Queue), |c, now| jobs::retry_guarded(c, ns, id, defaults, actor, now).await)?
    }

    async fn record_merge(
        &self,
        ns: &str,
        assignment_id: &str,
        commit: &str,
        into: &str,
        actor: &Actor,
    ) -> Result<AssignmentDetail> {
        write_tx!(self, Some(Change::Queue), |c, now| assignments::record_merge(
            c,
            ns,
            assignment_id,
            commit,
            into,
            actor,
            now
        )
        .await)
    }

    async fn other_origins(&self, ns: &str, except: &str) -> Result<Vec<String>> {
        read_tx!(self, |c| assignments::other_origins(c, ns, except).await)
    }

    async fn add_schedule(&self, new: NewSchedule, actor: &Actor) -> Result<Schedule> {
        write_tx!(self, Some(Change::Queue), |c, now| schedules::add(c, &new, actor, now).await)
    }

    async fn schedules(&self, ns: &str) -> Result<Vec<Schedule>> {
        read_tx!(self, |c| schedules::list(c, ns).await)
    }

    async fn schedule(&self, ns: &str, id: &str) -> Result<Schedule> {
        read_tx!(self, |c| schedules::get(c, ns, id).await)
    }

    async fn schedule_slots(&self, ns: &str) -> Result<Vec<(String, Millis)>> {
        read_tx!(self, |c| schedules::slots(c, ns).await)
    }

    async fn remove_schedule(&self, ns: &str, id: &str, actor: &Actor) -> Result<Schedule> {
        write_tx!(self, Some(Change::Queue), |c, _now| schedules::remove(c, ns, id, actor).await)
    }

    async fn pause_schedule(&self, ns: &str, id: &str, paused: bool, actor: &Actor) -> Result<Schedule> {
        write_tx!(self, Some(Change::Queue), |c, now| schedules::pause(c, ns, id, paused, actor, now).await)
    }

    async fn set_next_fire(&self, ns: &str, id: &str, at: Millis, actor: &Actor) -> Result<Schedule> {
        write_tx!(self, Some(Change::Queue), |c, _now| schedules::set_next_fire(c, ns, id, at, actor).await)
    }

    async fn fire_schedule(&self, ns: &str, id: &str, fire: FireRequest, actor: &Actor) -> Result<FireOutcome> {
        write_tx!(self, Some(Change::Queue), |c, now| schedules::fire(c, ns, id, &fire, actor, now).await)
    }
}

#[async_trait]
impl RunnerStore for PostgresStore {
    async fn register_runner(&self, info: &RunnerInfo) -> Result<()> {
        write_tx!(self, Some(Change::Queue), |c, now| runners::register(c, info, now).await)
    }

    async fn heartbeat_runner(&self, runner_id: &str) -> Result<()> {
        // Heartbeats change nothing anyone waits for, so they wake no one.
        write_tx!(self, None, |c, now| runners::heartbeat(c, runner_id, now).await)
    }

    async fn stop_runner(&self, runner_id: &str) -> Result<()> {
        write_tx!(self, Some(Change::Queue), |c, now| runners::stop(c, runner_id, now).await)
    }

    async fn runners(&self, ns: &str) -> Result<Vec<RunnerInfo>> {
        read_tx!(self, |c, now| runners::list(c, ns, now).await)
    }

    async fn claim_next(
        &self,
        ns: &str,
        runner_id: &str,
        lease_ms: u64,
        policy: &EnginePolicy,
    ) -> Result<Option<Claim>> {
        write_tx!(self, Some(Change::Queue), |c, now| runners::claim_next(c, ns, runner_id, lease_ms, policy, now)
            .await)
    }

    async fn record_start(&self, job_id: &str, token: i64, start: &AttemptStart) -> Result<bool> {
        // Only the runner that holds the job cares, and it knows already.
        write_tx!(self, None, |c, now| runners::record_start(c, job_id, token, start, now).await)
    }

    async fn add_warnings(&self, job_id: &str, token: i64, attempt: u32, warnings: &[String]) -> Result<bool> {
        write_tx!(self, None, |c, now| events::add_warnings(c, job_id, token, attempt, warnings, now).await)
    }

    async fn record_push(&self, job_id: &str, token: i64, commit: &str) -> Result<bool> {
        write_tx!(self, None, |c, now| sync::record_push(c, job_id, token, commit, now).await)
    }

    async fn set_workspace(&self, ns: &str, assignment_id: &str, workspace: &Workspace) -> Result<()> {
        write_tx!(self, Some(Change::Queue), |c, now| assignments::set_workspace(c, ns, assignment_id, workspace, now)
            .await)
    }

    async fn clear_workspace(&self, ns: &str, assignment_id: &str, branch_kept: bool) -> Result<()> {
        write_tx!(self, Some(Change::Queue), |c, now| assignments::clear_workspace(
            c,
            ns,
            assignment_id,
            branch_kept,
            now
        )
        .await)
    }

    async fn take_notifications(&self, ns: &str, limit: u32) -> Result<Vec<Notification>> {
        // Taking a notification changes nothing a runner waits for: it wakes no one.
        write_tx!(self, None, |c, now| assignments::take_notifications(c, ns, limit, now).await)
    }

    async fn renew_lease(&self, job_id: &str, token: i64, lease_ms: u64) -> Result<Lease> {
        write_tx!(self, None, |c, now| runners::renew(c, job_id, token, lease_ms, now).await)
    }

    async fn held_leases(&self, runner_id: &str) -> Result<Vec<(String, i64)>> {
        read_tx!(self, |c| runners::held(c, runner_id).await)
    }

    async fn release_stopped(&self, job_id: &str, token: i64) -> Result<bool> {
        write_tx!(self, Some(Change::Queue), |c, now| stopping::release(c, job_id, token, now).await)
    }

    async fn renew_stop(&self, job_id: &str, token: i64, lease_ms: u64) -> Result<bool> {
        write_tx!(self, None, |c, now| stopping::renew(c, job_id, token, lease_ms, now).await)
    }

    async fn append_events(&self, job_id: &str, token: i64, attempt: u32, events: Vec<NewEvent>) -> Result<bool> {
        write_tx!(self, Some(Change::Events), |c, now| events::append(c, job_id, token, attempt, &events, now).await)
    }

    async fn finish_attempt(
        &self,
        job_id: &str,
        token: i64,
        result: AttemptResult,
        policy: &EnginePolicy,
    ) -> Result<Option<Job>> {
        write_tx!(self, Some(Change::Queue), |c, now| finish::finish_attempt(c, job_id, token, &result, policy, now)
            .await)
    }

    async fn attempt_prompt(&self, ns: &str, job_id: &str, attempt: Option<u32>) -> Result<AttemptPrompt> {
        read_tx!(self, |c| runners::attempt_prompt(c, ns, job_id, attempt).await)
    }

    async fn job_events(&self, ns: &str, job_id: &str, after_seq: i64, limit: u32) -> Result<Vec<JobEvent>> {
        read_tx!(self, |c| events::list(c, ns, job_id, after_seq, limit).await)
    }

    async fn next_deadline(&self, ns: &str, after: Millis) -> Result<Option<Millis>> {
        read_tx!(self, |c| runners::next_deadline(c, ns, after).await)
    }

    async fn is_idle(&self, ns: &str) -> Result<bool> {
        read_tx!(self, |c| runners::is_idle(c, ns).await)
    }

    fn subscribe(&self) -> Result<Box<dyn ChangeFeed>> {
        listen::subscribe(self.inner.options.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> PgSslMode {
        no_tls_on_unix_sockets(PgConnectOptions::from_str(url).expect("a valid URL")).get_ssl_mode()
    }

    #[test]
    fn unix_sockets_skip_the_tls_request_unless_tls_is_required() {
        assert!(matches!(mode("postgres://baton@localhost/db?host=/run/postgresql"), PgSslMode::Disable));
        assert!(matches!(mode("postgres://baton@localhost/db?host=/run/postgresql&sslmode=allow"), PgSslMode::Disable));
        assert!(matches!(
            mode("postgres://baton@localhost/db?host=/run/postgresql&sslmode=require"),
            PgSslMode::Require
        ));
        assert!(matches!(mode("postgres://baton@db.internal/db"), PgSslMode::Prefer));
        assert!(matches!(mode("postgres://baton@db.internal/db?sslmode=require"), PgSslMode::Require));
    }
}
