//! The idle assignments of a namespace for `baton queue` ([`baton_core::engine::idle`]): active
//! with no job pending or running, the longest-idle first.

use super::rows::{self, ASSIGNMENT_COLUMNS};
use super::{Context, TxResult};
use baton_core::engine::is_idle;
use baton_core::store::QUEUE_LIST_CAP;
use baton_core::Assignment;
use sqlx::postgres::PgConnection;

/// The first [`QUEUE_LIST_CAP`] idle assignments and how many there are.
pub async fn list(conn: &mut PgConnection, ns: &str) -> TxResult<(Vec<Assignment>, u64)> {
    let found = sqlx::query(&format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments a WHERE namespace = $1 AND status = 'active' \
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.assignment_id = a.id AND j.status IN ('pending', 'running')) \
         ORDER BY updated_at, id"
    ))
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("listing idle assignments")?;
    let found = rows::all(found, rows::assignment).ctx("listing idle assignments")?;
    let mut idle: Vec<Assignment> = found.into_iter().filter(|a| is_idle(a, 0)).collect();
    let total = idle.len() as u64;
    idle.truncate(QUEUE_LIST_CAP);
    Ok((idle, total))
}
