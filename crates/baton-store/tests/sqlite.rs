//! The store test-suite against the embedded SQLite backend, plus SQLite-specific stories:
//! schema versions, concurrent writers, unwritable paths.

mod suite;

use baton_core::store::AssignmentFilter;
use baton_core::store::RunnerStore;
use baton_core::Store;
use baton_store::sqlite::SqliteStore;
use std::sync::Arc;

/// What migration 0023 made, undone: a database as a baton from before it left it.
const UNDO_0023: &str = "DROP TRIGGER assignments_open_job_inserted; DROP TRIGGER assignments_open_job_deleted; \
                         DROP TRIGGER assignments_open_job_changed; DROP INDEX assignments_idle; \
                         ALTER TABLE assignments DROP COLUMN open_jobs;";

async fn fresh() -> suite::Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("baton.db")).await.unwrap());
    suite::Fixture { store, keep: Box::new(dir) }
}

store_suite!(fresh);

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    drop(SqliteStore::open(path.clone()).await.unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE baton_meta SET value = '9.9.9' WHERE key = 'schema_written_by'", []).unwrap();
    drop(conn);
    let err = SqliteStore::open(path).await.err().unwrap().to_string();
    assert!(err.contains("newer baton") && err.contains("schema 99"), "{err}");
    assert!(err.contains("run baton 9.9.9 or newer"), "{err}");
}

#[tokio::test]
async fn a_runner_older_than_the_databases_protocol_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let store = SqliteStore::open(path.clone()).await.unwrap();
    store.register_runner(&suite::runner_info("r1", "h")).await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "UPDATE baton_meta SET value = '99' WHERE key = 'runner_protocol'; \
         UPDATE baton_meta SET value = '9.9.9' WHERE key = 'runner_protocol_by';",
    )
    .unwrap();
    drop(conn);
    let err = store.register_runner(&suite::runner_info("r2", "h")).await.unwrap_err().to_string();
    assert!(err.contains("protocol 99") && err.contains("run baton 9.9.9 or newer"), "{err}");
    assert_eq!(store.runners(suite::NS).await.unwrap().len(), 1, "the refused runner is not registered");
}

#[tokio::test]
async fn an_unwritable_path_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "").unwrap();
    let err = SqliteStore::open(dir.path().join("file/sub/q.db")).await.err().unwrap().to_string();
    assert!(err.starts_with("cannot open the database"), "{err}");
    assert!(err.contains("BATON_DATABASE_URL"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_connections_write_without_lock_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            // Each writer has its own connection, like separate processes.
            let store = SqliteStore::open(path).await.unwrap();
            for i in 0..20 {
                let mut new = suite::new_assignment(&format!("w{writer} #{i}"));
                new.first_job = Some(suite::job(baton_core::JobType::Plan));
                store.create_assignment(new, &suite::person()).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let store = SqliteStore::open(path).await.unwrap();
    assert_eq!(store.assignments(suite::NS, &AssignmentFilter::default()).await.unwrap().len(), 160);
    let q = store.queue(suite::NS, 0).await.unwrap();
    assert_eq!(q.jobs["pending"], 160);
}

#[tokio::test]
async fn writes_wake_subscribers() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("q.db")).await.unwrap();
    let sub = store.subscribe().unwrap();
    let other = SqliteStore::open(dir.path().join("q.db")).await.unwrap();
    other.create_assignment(suite::new_assignment("x"), &suite::person()).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), sub.changed()).await.unwrap().unwrap();
}

fn runner(id: &str) -> baton_core::store::RunnerInfo {
    baton_core::store::RunnerInfo {
        id: id.into(),
        namespace: "ns".into(),
        host: "box".into(),
        pid: 42,
        started_at: 0,
        heartbeat_at: 0,
        concurrency: 1,
        lease_ms: 60_000,
        jobs: vec![],
        lost: false,
        containment: None,
    }
}

#[tokio::test]
async fn a_database_file_removed_or_replaced_is_noticed_at_the_next_heartbeat_and_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let store = SqliteStore::open(path.clone()).await.unwrap();
    store.register_runner(&runner("r1")).await.unwrap();
    store.heartbeat_runner("r1").await.unwrap();

    std::fs::remove_file(&path).unwrap();
    let err = store.heartbeat_runner("r1").await.unwrap_err();
    assert!(err.is_permanent_database_fault(), "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("{} was removed", path.display())), "{text}");
    let err = store.create_assignment(suite::new_assignment("lost"), &suite::person()).await.unwrap_err();
    assert!(matches!(err, baton_core::Error::DatabaseGone { .. }), "a write into the removed file is refused: {err}");

    // Another file at the same path is not the one this store opened.
    let other = SqliteStore::open(path.clone()).await.unwrap();
    let err = store.heartbeat_runner("r1").await.unwrap_err().to_string();
    assert!(err.contains("was replaced by another file"), "{err}");
    assert!(store.check_identity().is_err());
    assert!(other.check_identity().is_ok());
}

#[tokio::test]
async fn a_database_file_overwritten_in_place_is_noticed_at_the_next_heartbeat() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let store = SqliteStore::open(path.clone()).await.unwrap();
    store.register_runner(&runner("r1")).await.unwrap();
    store.heartbeat_runner("r1").await.unwrap();

    let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    std::io::Write::write_all(&mut file, &[0u8; 100]).unwrap();
    drop(file);
    assert!(store.check_identity().is_ok(), "the inode did not change");
    let err = store.heartbeat_runner("r1").await.unwrap_err();
    assert!(matches!(err, baton_core::Error::DatabaseCorrupt { .. }), "{err}");
    assert!(err.is_permanent_database_fault(), "{err}");
    assert!(err.to_string().contains("no longer an SQLite header"), "{err}");
}

#[tokio::test]
async fn an_explicit_path_in_a_missing_folder_is_refused_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexistent/dir");
    let err = SqliteStore::open(missing.join("x.db")).await.err().unwrap().to_string();
    assert!(err.contains(&format!("the folder {} does not exist", missing.display())), "{err}");
    assert!(err.contains("create the folder"), "{err}");
    assert!(!missing.exists(), "nothing was created");
}

#[tokio::test]
async fn a_damaged_file_says_so_and_how_to_recover() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    std::fs::write(&path, vec![b'x'; 8192]).unwrap();
    let err = SqliteStore::open(path).await.err().unwrap();
    assert!(err.is_permanent_database_fault(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("file is not a database") && text.contains("restore it from a backup or move it aside"),
        "{text}"
    );
    assert!(!text.contains("writable place"), "{text}");
}

/// Rows deleted outside baton's own writes (retention by hand, a restore) keep `queue`'s kept
/// heads and totals right: the triggers recompute the assignments the deleted rows belonged to.
#[tokio::test]
async fn deleted_rows_leave_the_queue_heads_right() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.db");
    let store = SqliteStore::open(path.clone()).await.unwrap();
    let mut chains = Vec::new();
    let person = suite::person();
    for _ in 0..3 {
        let a = store.create_assignment(suite::new_assignment("x"), &person).await.unwrap().assignment;
        let first = store.insert_job(suite::NS, &a.id, suite::job(baton_core::JobType::Plan), &person).await.unwrap();
        let second =
            store.insert_job(suite::NS, &a.id, suite::job(baton_core::JobType::Review), &person).await.unwrap();
        chains.push((a.id, first.id, second.id));
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("DELETE FROM jobs WHERE id = ?1", [&chains[0].1]).unwrap();
    conn.execute("DELETE FROM jobs WHERE assignment_id = ?1", [&chains[1].0]).unwrap();
    // Its history and jobs stay behind: only the assignment row's own trigger is under test.
    conn.pragma_update(None, "foreign_keys", false).unwrap();
    conn.execute("DELETE FROM assignments WHERE id = ?1", [&chains[2].0]).unwrap();
    drop(conn);
    let q = store.queue(suite::NS, baton_core::time::now_ms()).await.unwrap();
    assert_eq!(q.ready.iter().map(|j| j.id.clone()).collect::<Vec<_>>(), vec![chains[0].2.clone()]);
    assert_eq!((q.ready_total, q.waiting_total), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connections_racing_for_a_schedules_slot_create_one_assignment() {
    use baton_core::store::{FireOutcome, FireRequest, NewSchedule};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let stores: Vec<Arc<dyn Store>> = vec![
        Arc::new(SqliteStore::open(path.clone()).await.unwrap()),
        Arc::new(SqliteStore::open(path).await.unwrap()),
    ];
    let new = NewSchedule {
        namespace: suite::NS.into(),
        cron: "* * * * *".into(),
        timezone: "UTC".into(),
        north_star: "sweep".into(),
        overlap: baton_core::Overlap::Queue,
        creates: Default::default(),
    };
    let s = stores[0].add_schedule(new, &suite::person()).await.unwrap();
    let slot = baton_core::time::now_ms() / 60_000 * 60_000 - 60_000;
    stores[0].set_next_fire(suite::NS, &s.id, slot, &suite::person()).await.unwrap();
    let tries: Vec<_> = (0..8)
        .map(|i| {
            let (store, id) = (stores[i % 2].clone(), s.id.clone());
            let fire =
                FireRequest { slot: Some(slot), assignment: Ok(suite::new_assignment("sweep")), by: format!("r{i}") };
            tokio::spawn(
                async move { store.fire_schedule(suite::NS, &id, fire, &baton_core::Actor::Engine).await.unwrap() },
            )
        })
        .collect();
    let mut fired = 0;
    for t in tries {
        if matches!(t.await.unwrap(), FireOutcome::Fired { .. }) {
            fired += 1;
        }
    }
    assert_eq!(fired, 1);
    assert_eq!(stores[1].assignments(suite::NS, &AssignmentFilter::default()).await.unwrap().len(), 1);
}

/// Migration 0017 moves attempts out of a WITHOUT ROWID table (whose long prompts each took an
/// overflow page of their own): every attempt, prompt and figure of a database written before
/// it is still there after it.
#[tokio::test]
async fn attempts_written_before_the_rowid_migration_keep_everything() {
    use baton_core::store::AttemptStart;
    use baton_core::{ErrorKind, JobType};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let store = SqliteStore::open(path.clone()).await.unwrap();
    let (_a, ids) = suite::assignment_with(&(Arc::new(store) as suite::Shared), &[JobType::Implement]).await;
    let store = SqliteStore::open(path.clone()).await.unwrap();
    let prompt = "Brief: keep the public API stable, run the tests — ünïcode\n".repeat(80);
    for n in 1..=2 {
        let c = store.claim_next(suite::NS, "r1", 60_000, &suite::policy()).await.unwrap().unwrap();
        let start = AttemptStart { prompt: Some(format!("{prompt}{n}")), ..Default::default() };
        assert!(store.record_start(&c.job.id, c.token, &start).await.unwrap());
        let end = if n == 1 { suite::failure(ErrorKind::Transient, "503") } else { suite::success("done") };
        store.finish_attempt(&c.job.id, c.token, end, &suite::policy()).await.unwrap();
    }
    let before = store.job(suite::NS, &ids[0]).await.unwrap();
    drop(store);
    // The table as it was before 0017, holding the same rows, at the version before it; what the
    // migrations after 0017 made is undone too, so that they run again after it.
    const MIGRATIONS_AFTER_0017: i64 = 5;
    const UNDO_AFTER_0017: &str = "DROP TABLE daily_spend; DROP TABLE prompt_dictionaries; \
                                   DROP INDEX assignments_hosted_active; DROP INDEX assignments_daily_capped; \
                                   DROP TRIGGER queue_heads_stop_ended; DROP INDEX jobs_stopping;";
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    let columns = "job_id, n, runner, started_at, finished_at, outcome, error_kind, error, prompt, prompt_bytes, \
                   prompt_sha256, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost_usd, \
                   cost_source, model";
    conn.execute_batch(&format!(
        "CREATE TABLE old_attempts ({columns}, PRIMARY KEY (job_id, n)) WITHOUT ROWID; \
         INSERT INTO old_attempts SELECT {columns} FROM attempts; DROP TABLE attempts; \
         ALTER TABLE old_attempts RENAME TO attempts; CREATE INDEX attempts_finished_at ON attempts(finished_at); \
         DROP INDEX assignments_finished_worktrees; {UNDO_0023} {UNDO_AFTER_0017} PRAGMA user_version = {};",
        version - 1 - MIGRATIONS_AFTER_0017
    ))
    .unwrap();
    drop(conn);

    let store = SqliteStore::open(path.clone()).await.unwrap();
    let after = store.job(suite::NS, &ids[0]).await.unwrap();
    assert_eq!(after, before, "every attempt and figure kept");
    let one = store.attempt_prompt(suite::NS, &ids[0], Some(1)).await.unwrap();
    assert_eq!(one.prompt, Some(format!("{prompt}1")));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let sql: String =
        conn.query_row("SELECT sql FROM sqlite_master WHERE name = 'attempts'", [], |r| r.get(0)).unwrap();
    assert!(!sql.contains("WITHOUT ROWID"), "{sql}");
    let now: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(now, version);
}

/// Prompts compressed against a dictionary take a fraction of the bytes of one without, and
/// each dictionary is stored once, however many prompts use it.
#[tokio::test]
async fn prompts_against_a_dictionary_are_small_and_the_dictionary_is_kept_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let store: suite::Shared = Arc::new(SqliteStore::open(path.clone()).await.unwrap());
    let ids = suite::store_prompts_against_dictionaries(&store).await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    let size = |id: &str| -> i64 {
        conn.query_row("SELECT LENGTH(prompt) FROM attempts WHERE job_id = ?1", [id], |r| r.get(0)).unwrap()
    };
    let sizes: Vec<i64> = ids.iter().map(|id| size(id)).collect();
    assert!(sizes[0] * 3 < sizes[2] && sizes[1] * 3 < sizes[2], "{sizes:?}");
    let (dictionaries, distinct): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM prompt_dictionaries), \
                    (SELECT COUNT(DISTINCT prompt_dictionary) FROM attempts WHERE prompt_dictionary IS NOT NULL)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((dictionaries, distinct), (2, 2), "each dictionary kept once");
}

/// Migration 0022 starts the per-day spend counter from the attempts already recorded, and its
/// triggers keep it from then on: the same figures as summing the attempts.
#[tokio::test]
async fn the_daily_spend_counter_starts_from_the_attempts_before_it() {
    use baton_core::store::AttemptStart;
    use baton_core::{ErrorKind, JobType};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let store: suite::Shared = Arc::new(SqliteStore::open(path.clone()).await.unwrap());
    suite::assignment_with(&store, &[JobType::Implement]).await;
    let costing = |mut end: baton_core::store::AttemptResult, usd: f64| {
        end.cost_usd = Some(usd);
        end
    };
    let ends = [costing(suite::failure(ErrorKind::Transient, "503"), 0.25), costing(suite::success("done"), 0.5)];
    for end in ends {
        let c = store.claim_next(suite::NS, "r1", 60_000, &suite::policy()).await.unwrap().unwrap();
        assert!(store.record_start(&c.job.id, c.token, &AttemptStart::default()).await.unwrap());
        store.finish_attempt(&c.job.id, c.token, end, &suite::policy()).await.unwrap();
    }
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let counted = |conn: &rusqlite::Connection| -> f64 {
        conn.query_row("SELECT SUM(cost_usd) FROM daily_spend WHERE namespace = ?1", [suite::NS], |r| r.get(0)).unwrap()
    };
    assert_eq!(counted(&conn), 0.75, "kept by the triggers");
    // Back to the version before 0022, as an older baton left it.
    const MIGRATIONS_AFTER_0022: i64 = 1;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    conn.execute_batch(&format!(
        "{UNDO_0023} DROP TRIGGER attempts_spend_insert; DROP TRIGGER attempts_spend_update; DROP TABLE daily_spend; \
         PRAGMA user_version = {};",
        version - 1 - MIGRATIONS_AFTER_0022
    ))
    .unwrap();
    drop(conn);
    drop(SqliteStore::open(path.clone()).await.unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(counted(&conn), 0.75, "started from the attempts");
}

/// Migration 0023 starts each assignment's count of open jobs from its jobs, and its triggers
/// keep it from then on (a cancel whose agent is still being stopped counts until it is): the
/// idle list reads the same either way.
#[tokio::test]
async fn the_open_job_counts_start_from_the_jobs_before_them() {
    use baton_core::store::AttemptStart;
    use baton_core::JobType;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let store: suite::Shared = Arc::new(SqliteStore::open(path.clone()).await.unwrap());
    let (waiting, _) = suite::assignment_with(&store, &[JobType::Implement]).await;
    let (stopping, _) = suite::assignment_with(&store, &[JobType::Implement]).await;
    let (idle_one, _) = suite::assignment_with(&store, &[]).await;
    let claim = store.claim_next(suite::NS, "r1", 60_000, &suite::policy()).await.unwrap().unwrap();
    assert!(store.record_start(&claim.job.id, claim.token, &AttemptStart::default()).await.unwrap());
    store.cancel_job(suite::NS, &claim.job.id, &suite::defaults(), &suite::person()).await.unwrap();
    drop(store);
    let counts = |conn: &rusqlite::Connection| -> Vec<(String, i64)> {
        let mut stmt = conn.prepare("SELECT id, open_jobs FROM assignments ORDER BY id").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    let recount = |conn: &rusqlite::Connection| -> Vec<(String, i64)> {
        let mut stmt = conn
            .prepare(
                "SELECT a.id, (SELECT COUNT(*) FROM jobs j WHERE j.assignment_id = a.id AND (j.status IN \
                 ('pending', 'running') OR (j.status = 'cancelled' AND j.lease_token IS NOT NULL))) \
                 FROM assignments a ORDER BY a.id",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    let conn = rusqlite::Connection::open(&path).unwrap();
    let kept = counts(&conn);
    assert_eq!(kept, recount(&conn), "kept by the triggers");
    // One pending job; a cancel still being stopped and the PM queued after it; nothing.
    assert_eq!(kept.iter().map(|(_, n)| n).sum::<i64>(), 3, "{kept:?}");
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    conn.execute_batch(&format!("{UNDO_0023} PRAGMA user_version = {};", version - 1)).unwrap();
    drop(conn);
    let store: suite::Shared = Arc::new(SqliteStore::open(path.clone()).await.unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(counts(&conn), kept, "started from the jobs");
    // The stop ends (a PM may follow it): the counts still match, and so does the idle list.
    assert!(store.release_stopped(&claim.job.id, claim.token).await.unwrap());
    assert_eq!(counts(&conn), recount(&conn));
    let expected: Vec<String> = conn
        .prepare("SELECT id FROM assignments WHERE status = 'active' ORDER BY updated_at, id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .filter(|id: &String| recount(&conn).iter().any(|(a, n)| a == id && *n == 0))
        .collect();
    assert!(expected.contains(&idle_one), "an assignment with no jobs is idle: {expected:?}");
    let queue = store.queue(suite::NS, baton_core::time::now_ms()).await.unwrap();
    let idle: Vec<String> = queue.idle.iter().map(|a| a.id.clone()).collect();
    assert_eq!(idle, expected, "waiting {waiting}, stopping {stopping}");
}

/// A runner's own claims do not wake its loop, which follows them up in the same round; every
/// other feed hears them, and everything else still wakes the runner: a write through the same
/// store (an agent's call served in the runner's process), another process's claim (here a
/// second store on the same file).
#[tokio::test]
async fn a_runners_own_claims_do_not_wake_its_loop() {
    use baton_core::store::NewEvent;
    use baton_core::JobType;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let store: suite::Shared = Arc::new(SqliteStore::open(path.clone()).await.unwrap());
    let other_process = SqliteStore::open(path).await.unwrap();
    let (runner, dashboard) = (store.subscribe_runner("r1").unwrap(), store.subscribe().unwrap());
    let queue = baton_core::store::Changes { queue: true, events: false };
    let (_, first) = suite::assignment_with(&store, &[JobType::Implement]).await;
    assert_eq!(runner.changed().await.unwrap(), queue, "a job inserted through the same store wakes it");
    assert_eq!(dashboard.changed().await.unwrap(), queue);

    let c = store.claim_next(suite::NS, "r1", 60_000, &suite::policy()).await.unwrap().unwrap();
    assert_eq!(c.job.id, first[0]);
    assert_eq!(dashboard.changed().await.unwrap(), queue, "others hear the claim");
    // Only transcript events come after the claim: had the claim woken the runner, its next
    // wake-up would say the queue changed too.
    let event = NewEvent { at: 1, event: serde_json::json!({"kind": "text", "line": "x"}) };
    assert!(store.append_events(&c.job.id, c.token, 1, vec![event]).await.unwrap());
    let events = baton_core::store::Changes { queue: false, events: true };
    assert_eq!(runner.changed().await.unwrap(), events, "its own claim did not wake it");

    suite::assignment_with(&(Arc::new(other_process.clone()) as suite::Shared), &[JobType::Implement]).await;
    assert_eq!(runner.changed().await.unwrap(), queue);
    assert!(other_process.claim_next(suite::NS, "r2", 60_000, &suite::policy()).await.unwrap().is_some());
    assert_eq!(runner.changed().await.unwrap(), queue, "another runner's claim wakes it");
}
