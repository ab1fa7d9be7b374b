//! The floor of the in-process figure: the raw cost of the same number of write transactions,
//! each one `UPDATE` of a one-row scratch table (SQLite: `BEGIN IMMEDIATE; UPDATE …; COMMIT` in
//! WAL mode with `synchronous = NORMAL`, as the store opens its file; PostgreSQL: `BEGIN;
//! UPDATE …; COMMIT` through sqlx over the same loopback connection kind the store uses).

use crate::error::{Ctx, Result};
use sqlx::{Connection, Executor};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Time of `txs` write transactions on a scratch SQLite file.
pub fn sqlite(path: &Path, txs: usize) -> Result<Duration> {
    let conn = rusqlite::Connection::open(path).ctx("opening the scratch database")?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)).ctx("setting WAL")?;
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; CREATE TABLE scratch (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); \
         INSERT INTO scratch VALUES (1, 0);",
    )
    .ctx("creating the scratch table")?;
    let started = Instant::now();
    for _ in 0..txs {
        conn.execute_batch("BEGIN IMMEDIATE").ctx("BEGIN")?;
        conn.prepare_cached("UPDATE scratch SET n = n + 1 WHERE id = 1")
            .and_then(|mut s| s.execute([]))
            .ctx("UPDATE")?;
        conn.execute_batch("COMMIT").ctx("COMMIT")?;
    }
    Ok(started.elapsed())
}

/// Time of `txs` write transactions on a scratch table of the PostgreSQL database at `url`.
pub fn postgres(rt: &Runtime, url: &str, txs: usize) -> Result<Duration> {
    rt.block_on(async {
        let mut conn = sqlx::PgConnection::connect(url).await.ctx("connecting for the floor")?;
        conn.execute("CREATE TABLE scratch (id int PRIMARY KEY, n bigint NOT NULL); INSERT INTO scratch VALUES (1, 0)")
            .await
            .ctx("creating the scratch table")?;
        let started = Instant::now();
        for _ in 0..txs {
            let mut tx = conn.begin().await.ctx("BEGIN")?;
            sqlx::query("UPDATE scratch SET n = n + 1 WHERE id = 1").execute(&mut *tx).await.ctx("UPDATE")?;
            tx.commit().await.ctx("COMMIT")?;
        }
        let took = started.elapsed();
        conn.close().await.ctx("closing the floor connection")?;
        Ok(took)
    })
}
