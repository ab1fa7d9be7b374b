//! The idle assignments of a namespace for `baton queue` ([`baton_core::engine::idle`]): active
//! with no job pending or running, the longest-idle first.

use super::rows::{self, ASSIGNMENT_COLUMNS};
use super::Context;
use baton_core::engine::is_idle;
use baton_core::store::QUEUE_LIST_CAP;
use baton_core::{Assignment, Result};
use rusqlite::{params, Connection};

/// The first [`QUEUE_LIST_CAP`] idle assignments and how many there are.
pub fn list(conn: &Connection, ns: &str) -> Result<(Vec<Assignment>, u64)> {
    // `jobs_open` answers the NOT EXISTS from its (namespace, assignment_id) prefix.
    let found: Vec<Assignment> = conn
        .prepare_cached(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments a WHERE namespace = ?1 AND status = 'active' \
             AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.namespace = ?1 AND j.assignment_id = a.id \
             AND j.status IN ('pending', 'running')) ORDER BY updated_at, id"
        ))
        .and_then(|mut s| s.query_map(params![ns], rows::assignment)?.collect())
        .ctx("listing idle assignments")?;
    let mut idle: Vec<Assignment> = found.into_iter().filter(|a| is_idle(a, 0)).collect();
    let total = idle.len() as u64;
    idle.truncate(QUEUE_LIST_CAP);
    Ok((idle, total))
}
