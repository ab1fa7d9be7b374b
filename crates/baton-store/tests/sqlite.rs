//! The store test-suite against the embedded SQLite backend, plus SQLite-specific stories:
//! schema versions, concurrent writers, unwritable paths.

mod suite;

use baton_core::store::AssignmentFilter;
use baton_core::store::RunnerStore;
use baton_core::Store;
use baton_store::sqlite::SqliteStore;
use std::sync::Arc;

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
    let err = SqliteStore::open(path).await.err().unwrap().to_string();
    assert!(err.contains("newer baton") && err.contains("schema 99"), "{err}");
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
