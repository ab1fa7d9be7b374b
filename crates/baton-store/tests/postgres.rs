//! The store test-suite against PostgreSQL, plus PostgreSQL-specific stories: concurrent claims
//! from separate connection pools, migrations racing, the change feed (NOTIFY from another
//! connection, reconnection), and connection errors that never show the password.
//!
//! Every test here needs `BATON_TEST_POSTGRES_URL`, naming a database and a role that may
//! create databases; `eval "$(.ci/start-postgres)"` starts the machine's server and exports one.
//! So they are all ignored by default, and `scripts/test` runs them once it has PostgreSQL (see
//! `baton_testkit`). Each test runs in a database of its own, emptied for it (see [`TestDb`]).

#[path = "support/pg_server.rs"]
mod pg_server;
mod suite;
use pg_server::PrivateServer;

use baton_core::store::{ChangeFeed, Changes, NewEvent, RunnerStore};
use baton_core::{Error, JobType, Store};
use baton_store::postgres::PostgresStore;
use sqlx::{Connection, PgConnection};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// `url` with its database replaced by `db` (query parameters kept).
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", base));
    let authority = rest.split_once('/').map_or(rest, |(authority, _)| authority);
    format!("{scheme}://{authority}/{db}{query}")
}

/// An admin connection to the server `BATON_TEST_POSTGRES_URL` names; the test fails when there
/// is none or it is unreachable.
async fn admin() -> (String, PgConnection) {
    let url = baton_testkit::postgres_url();
    match PgConnection::connect(&url).await {
        Ok(conn) => (url, conn),
        Err(e) => baton_testkit::POSTGRES.missing(&format!("the server it names is unreachable ({e})")),
    }
}

/// A database this test has to itself, emptied for it; the slot is free again when this drops.
///
/// Test databases are slots (`baton_test_slot_N`) reused from run to run rather than created and
/// dropped per test: `DROP DATABASE` forces a checkpoint and takes most of a second, while
/// emptying a database (dropping its schema) is instant. A slot belongs to the test holding its
/// session advisory lock, on the admin connection kept here; the lock goes with the connection,
/// so a crashed test cannot leave a slot taken.
struct TestDb {
    url: String,
    _slot_lock: PgConnection,
}

/// Advisory lock keys of the slots: this base plus the slot number.
const SLOT_LOCK_BASE: i64 = 0x6261_746f_6e74_0000;

/// An empty database.
async fn fresh_database() -> TestDb {
    let (url, mut admin) = admin().await;
    for slot in 0i64.. {
        let mine: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(SLOT_LOCK_BASE + slot)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        if !mine {
            continue;
        }
        let name = format!("baton_test_slot_{slot}");
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        if !exists {
            sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).await.unwrap();
        }
        let db_url = with_database(&url, &name);
        let mut db = PgConnection::connect(&db_url).await.unwrap();
        // Everything baton creates lives in the public schema: tables, functions, triggers.
        sqlx::Executor::execute(&mut db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;").await.unwrap();
        let _ = db.close().await;
        return TestDb { url: db_url, _slot_lock: admin };
    }
    unreachable!("slots are unbounded")
}

/// A store on an empty database (and the slot it holds).
struct Fresh {
    store: Arc<dyn Store>,
    _db: TestDb,
}

async fn fresh() -> Fresh {
    let db = fresh_database().await;
    let store = Arc::new(PostgresStore::connect(&db.url).await.unwrap());
    Fresh { store, _db: db }
}

store_suite!(fresh_fixture, #[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]);

/// The shared suite's factory: a store on a fresh database.
async fn fresh_fixture() -> suite::Fixture {
    let fresh = fresh().await;
    suite::Fixture { store: fresh.store, keep: Box::new(fresh._db) }
}

/// Claims until nothing is ready any more; a `None` while jobs are still ready only means every
/// ready assignment was locked by another claimer at that instant.
async fn claim_all(store: PostgresStore, runner: String) -> Vec<(String, String)> {
    let mut claimed = Vec::new();
    loop {
        match store.claim_next(suite::NS, &runner, 60_000, &suite::policy()).await.unwrap() {
            Some(claim) => claimed.push((claim.job.assignment_id.clone(), claim.job.id.clone())),
            None => {
                if store.queue(suite::NS, baton_core::time::now_ms()).await.unwrap().ready.is_empty() {
                    return claimed;
                }
                tokio::task::yield_now().await;
            }
        }
    }
}

/// Runs 8 claimers, each with its own store (its own pool, as separate runner processes would),
/// against assignments of `chain` jobs each; returns every claim made.
async fn race_claimers(url: &str, assignments: usize, chain: &[JobType]) -> Vec<(String, String)> {
    let setup = PostgresStore::connect(url).await.unwrap();
    for i in 0..assignments {
        let a = setup.create_assignment(suite::new_assignment(&format!("a{i}")), &suite::person()).await.unwrap();
        for t in chain {
            setup.insert_job(suite::NS, &a.assignment.id, suite::job(*t), &suite::person()).await.unwrap();
        }
    }
    let mut stores = Vec::new();
    for _ in 0..8 {
        stores.push(PostgresStore::connect(url).await.unwrap());
    }
    let tasks: Vec<_> =
        stores.into_iter().enumerate().map(|(i, store)| tokio::spawn(claim_all(store, format!("r{i}")))).collect();
    let mut claims = Vec::new();
    for task in tasks {
        claims.extend(task.await.unwrap());
    }
    claims
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
async fn concurrent_claimers_never_claim_a_job_twice() {
    let db = fresh_database().await;
    let url = db.url.clone();
    let claims = race_claimers(&url, 200, &[JobType::Implement]).await;
    let jobs: HashSet<&String> = claims.iter().map(|(_, job)| job).collect();
    assert_eq!((claims.len(), jobs.len()), (200, 200), "every job claimed exactly once");

    let store = PostgresStore::connect(&url).await.unwrap();
    let (running, started): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM jobs WHERE status = 'running' AND attempts = 1), \
                (SELECT COUNT(*) FROM history WHERE action LIKE 'job started by runner %')",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!((running, started), (200, 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
async fn concurrent_claimers_run_one_job_per_assignment() {
    let db = fresh_database().await;
    let url = db.url.clone();
    let chain = [JobType::Plan, JobType::Implement, JobType::Review, JobType::Document];
    let claims = race_claimers(&url, 25, &chain).await;
    let assignments: HashSet<&String> = claims.iter().map(|(a, _)| a).collect();
    assert_eq!((claims.len(), assignments.len()), (25, 25), "only the first job of each chain may run");
    let store = PostgresStore::connect(&url).await.unwrap();
    let q = store.queue(suite::NS, baton_core::time::now_ms()).await.unwrap();
    assert_eq!((q.jobs["running"], q.jobs["pending"], q.ready.len()), (25, 75, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
async fn racing_migrations_apply_once() {
    let db = fresh_database().await;
    let url = db.url.clone();
    let connects: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresStore::connect(&url).await })
        })
        .collect();
    let mut stores = Vec::new();
    for c in connects {
        stores.push(c.await.unwrap().unwrap());
    }
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM baton_schema ORDER BY version")
        .fetch_all(stores[0].pool())
        .await
        .unwrap();
    let once_each: Vec<i64> = (1..=versions.len() as i64).collect();
    assert_eq!(versions, once_each, "every migration applied exactly once, in order");
    // Every store works on the one schema.
    for store in &stores {
        store.create_assignment(suite::new_assignment("x"), &suite::person()).await.unwrap();
    }
    let q = stores[3].queue(suite::NS, 0).await.unwrap();
    assert_eq!(q.assignments["active"], 4);
}

#[tokio::test]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
async fn a_newer_schema_is_refused() {
    let db = fresh_database().await;
    let url = db.url.clone();
    let store = PostgresStore::connect(&url).await.unwrap();
    sqlx::query("INSERT INTO baton_schema (version, applied_at) VALUES (99, 0)").execute(store.pool()).await.unwrap();
    let err = PostgresStore::connect(&url).await.err().unwrap();
    assert!(matches!(err, Error::SchemaTooNew { found: 99, supported, .. } if supported < 99), "{err}");
    assert!(err.to_string().contains("newer baton"), "{err}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
async fn a_runner_older_than_the_databases_protocol_refuses_to_start() {
    let db = fresh_database().await;
    let store = PostgresStore::connect(&db.url).await.unwrap();
    store.register_runner(&suite::runner_info("r1", "h")).await.unwrap();
    sqlx::query(
        "UPDATE baton_meta SET value = CASE key WHEN 'runner_protocol' THEN '99' ELSE '9.9.9' END \
                 WHERE key IN ('runner_protocol', 'runner_protocol_by')",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let err = store.register_runner(&suite::runner_info("r2", "h")).await.unwrap_err();
    assert!(matches!(err, Error::ProtocolTooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("run baton 9.9.9 or newer"), "{err}");
    assert_eq!(store.runners(suite::NS).await.unwrap().len(), 1, "the refused runner is not registered");
}

const WAIT: Duration = Duration::from_secs(10);

async fn next_change(feed: &dyn ChangeFeed) -> Changes {
    tokio::time::timeout(WAIT, feed.changed()).await.expect("no change reported within 10s").unwrap()
}

const QUEUE: Changes = Changes { queue: true, events: false };
const EVENTS: Changes = Changes { queue: false, events: true };
const EVERYTHING: Changes = Changes { queue: true, events: true };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
async fn the_change_feed_hears_other_connections_and_survives_reconnects() {
    let db = fresh_database().await;
    let url = db.url.clone();
    let listening = PostgresStore::connect(&url).await.unwrap();
    let writer = PostgresStore::connect(&url).await.unwrap();
    let feed = listening.subscribe().unwrap();
    // Connecting reports everything: a write before the LISTEN took effect would be unheard.
    assert_eq!(next_change(feed.as_ref()).await, EVERYTHING);

    let a = writer.create_assignment(suite::new_assignment("x"), &suite::person()).await.unwrap().assignment;
    assert_eq!(next_change(feed.as_ref()).await, QUEUE);
    writer.insert_job(suite::NS, &a.id, suite::job(JobType::Implement), &suite::person()).await.unwrap();
    assert_eq!(next_change(feed.as_ref()).await, QUEUE);
    let claim = writer.claim_next(suite::NS, "r1", 60_000, &suite::policy()).await.unwrap().unwrap();
    assert_eq!(next_change(feed.as_ref()).await, QUEUE);

    // Writes that change nothing anyone waits for wake no one: heartbeats, renewals, a claim
    // that found nothing. The transcript append after them is then the only change heard.
    writer.heartbeat_runner("r1").await.unwrap();
    writer.renew_lease(&claim.job.id, claim.token, 60_000).await.unwrap();
    assert!(writer.claim_next(suite::NS, "r2", 60_000, &suite::policy()).await.unwrap().is_none());
    let event = NewEvent { at: 1, event: serde_json::json!({"kind": "text", "text": "hi"}) };
    assert!(writer.append_events(&claim.job.id, claim.token, 1, vec![event]).await.unwrap());
    assert_eq!(next_change(feed.as_ref()).await, EVENTS);

    // The listening connection dies (a server restart, a network cut): the feed reconnects by
    // itself and reports everything, since notifications sent meanwhile are lost.
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'",
    )
    .fetch_all(writer.pool())
    .await
    .unwrap();
    assert_eq!(terminated, vec![true], "one listening connection");
    assert_eq!(next_change(feed.as_ref()).await, EVERYTHING);
    writer.cancel_job(suite::NS, &claim.job.id, &suite::defaults(), &suite::person()).await.unwrap();
    assert_eq!(next_change(feed.as_ref()).await, QUEUE);
}

#[tokio::test]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
async fn connection_errors_are_one_line_without_the_password() {
    let (url, _) = admin().await;
    // A wrong password, on the real server.
    let host_and_db = url.rsplit_once('@').map(|(_, h)| h.to_string()).unwrap();
    let wrong = format!("postgres://baton:wrong-secret-pw@{host_and_db}");
    let err = PostgresStore::connect(&wrong).await.err().unwrap();
    let text = err.to_string();
    assert!(matches!(err, Error::DatabaseOpen { .. }), "{text}");
    assert!(text.contains("password authentication failed"), "{text}");
    // A closed port, and a malformed URL.
    let closed = PostgresStore::connect("postgres://baton:wrong-secret-pw@127.0.0.1:1/baton").await.err().unwrap();
    let malformed =
        PostgresStore::connect("postgres://baton:wrong-secret-pw@127.0.0.1:notaport/x").await.err().unwrap();
    for err in [text, closed.to_string(), malformed.to_string()] {
        assert!(!err.contains("wrong-secret-pw"), "the password leaked: {err}");
        assert!(!err.contains('\n'), "not one line: {err}");
        assert!(err.starts_with("cannot open the database postgres://baton"), "{err}");
    }
    assert!(closed.to_string().contains("127.0.0.1:1"), "{closed}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
async fn tls_connections_require_and_verify_the_server() {
    let server = PrivateServer::start_tls();
    let url = server.url();
    for mode in ["sslmode=require".to_string(), format!("sslmode=verify-full&sslrootcert={}", server.ca().display())] {
        let store = PostgresStore::connect(&format!("{url}?{mode}")).await.unwrap();
        let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert!(ssl, "{mode}: the connection is encrypted");
    }
    // A certificate the given CA did not sign is refused, in one line that says what to check.
    let other = tempfile::tempdir().unwrap();
    let wrong_ca = pg_server::make_ca(other.path());
    let err = PostgresStore::connect(&format!("{url}?sslmode=verify-full&sslrootcert={}", wrong_ca.display()))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("sslrootcert") && !err.contains('\n'), "{err}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
async fn open_chooses_postgres_by_scheme() {
    let db = fresh_database().await;
    let url = db.url.clone();
    let store = baton_store::open(&url).await.unwrap();
    store.create_assignment(suite::new_assignment("x"), &suite::person()).await.unwrap();
    let alias = url.replacen("postgres://", "postgresql://", 1);
    let again = baton_store::open(&alias).await.unwrap();
    assert_eq!(again.queue(suite::NS, 0).await.unwrap().assignments["active"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
async fn the_store_and_its_change_feed_ride_out_a_server_restart() {
    let server = PrivateServer::start();
    let store = PostgresStore::connect(&server.url()).await.unwrap();
    let feed = store.subscribe().unwrap();
    assert_eq!(next_change(feed.as_ref()).await, EVERYTHING);
    let mut new = suite::new_assignment("x");
    new.first_job = Some(suite::job(JobType::Implement));
    store.create_assignment(new, &suite::person()).await.unwrap();
    assert_eq!(next_change(feed.as_ref()).await, QUEUE);
    let claim = store.claim_next(suite::NS, "r1", 60_000, &suite::policy()).await.unwrap().unwrap();
    assert_eq!(next_change(feed.as_ref()).await, QUEUE);

    // A restart drops every connection: the pooled ones and the feed's.
    server.pg_ctl("stop");
    server.pg_ctl("start");
    // The feed reconnects by itself and reports everything (notifications may have been missed).
    assert_eq!(next_change(feed.as_ref()).await, EVERYTHING);
    // The store goes on where it was: the claim still holds, its result is recorded once.
    assert!(matches!(
        store.renew_lease(&claim.job.id, claim.token, 60_000).await.unwrap(),
        baton_core::store::Lease::Held { .. }
    ));
    let done = store.finish_attempt(&claim.job.id, claim.token, suite::success("ok"), &suite::policy()).await.unwrap();
    assert_eq!(done.unwrap().status, baton_core::JobStatus::Complete);
    assert_eq!(next_change(feed.as_ref()).await, QUEUE);

    // While the server is down, an operation waits for it rather than failing at once. The feed
    // goes first, so that the operation is the only client knocking on the server's port.
    drop(feed);
    wait_until_nobody_listens(&store).await;
    server.pg_ctl("stop");
    // Meanwhile the test listens on that port itself: a connection arriving proves the
    // operation is under way, and closing it at once is one more failure the operation rides out.
    let stand_in = tokio::net::TcpListener::bind(("127.0.0.1", server.port())).await.unwrap();
    let waiting = {
        let store = store.clone();
        tokio::spawn(async move { store.queue(suite::NS, 0).await })
    };
    let knock = tokio::time::timeout(WAIT, stand_in.accept()).await.expect("the operation tries to connect");
    drop((knock, stand_in));
    server.pg_ctl("start");
    let q = waiting.await.unwrap().unwrap();
    assert_eq!((q.jobs["complete"], q.jobs["pending"]), (1, 1), "the job and its PM job");
}

/// Waits until the server has no listening connection left (a dropped feed's closes on its own
/// task).
async fn wait_until_nobody_listens(store: &PostgresStore) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let listening: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%'")
            .fetch_one(store.pool())
            .await
            .unwrap();
        if listening == 0 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the dropped feed still listens");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Prompts compressed against a dictionary take a fraction of the bytes of one without, and
/// each dictionary is stored once, however many prompts use it (the first use stores it in the
/// same transaction as the prompt).
#[tokio::test]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
async fn prompts_against_a_dictionary_are_small_and_the_dictionary_is_kept_once() {
    let db = fresh_database().await;
    let store = PostgresStore::connect(&db.url).await.unwrap();
    let pool = store.pool().clone();
    let ids = suite::store_prompts_against_dictionaries(&(Arc::new(store) as suite::Shared)).await;
    let mut sizes = Vec::new();
    for id in &ids {
        let size: i32 = sqlx::query_scalar("SELECT LENGTH(prompt) FROM attempts WHERE job_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
        sizes.push(size);
    }
    assert!(sizes[0] * 3 < sizes[2] && sizes[1] * 3 < sizes[2], "{sizes:?}");
    let (dictionaries, distinct): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM prompt_dictionaries), \
                (SELECT COUNT(DISTINCT prompt_dictionary) FROM attempts WHERE prompt_dictionary IS NOT NULL)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((dictionaries, distinct), (2, 2), "each dictionary kept once");
}
