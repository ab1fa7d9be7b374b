//! The idle assignments of a namespace for `baton queue` ([`baton_core::engine::idle`]): active
//! with no job pending, running or being stopped, the longest-idle first.
//!
//! Bounded like the rest of `queue`: the list is a range of `assignments_idle`, the active
//! assignments with no open job (kept by triggers, migration 0023), in idle order, stopping at
//! [`QUEUE_LIST_CAP`]; the total comes from the kept counters rather than from visiting every
//! active assignment. Every active assignment with an open job either has a ready-rule head (a
//! pending job and nothing running, kept in `queue_heads`), a running job (at most one per
//! assignment, by `jobs_one_running`) or a job being stopped (`engine::stopping`, which keeps
//! its PM out of the heads), so the idle ones are the active count less those three.

use super::rows::{self, ASSIGNMENT_COLUMNS};
use super::Context;
use baton_core::engine::is_idle;
use baton_core::store::QUEUE_LIST_CAP;
use baton_core::{Assignment, Result};
use rusqlite::{params, Connection};

/// The first [`QUEUE_LIST_CAP`] idle assignments and how many there are.
pub fn list(conn: &Connection, ns: &str) -> Result<(Vec<Assignment>, u64)> {
    let total: i64 = conn
        .prepare_cached(
            "SELECT (SELECT COALESCE(SUM(n), 0) FROM status_counts WHERE namespace = ?1 AND entity = 'assignment' \
               AND status = 'active') \
             - (SELECT COALESCE(SUM(n), 0) FROM queue_head_counts WHERE namespace = ?1) \
             - (SELECT COUNT(*) FROM jobs j JOIN assignments a ON a.id = j.assignment_id \
               WHERE j.namespace = ?1 AND j.status = 'running' AND a.status = 'active') \
             - (SELECT COUNT(DISTINCT j.assignment_id) FROM jobs j INDEXED BY jobs_stopping \
               JOIN assignments a ON a.id = j.assignment_id \
               WHERE j.namespace = ?1 AND j.status = 'cancelled' AND j.lease_token IS NOT NULL \
               AND a.status = 'active')",
        )
        .and_then(|mut s| s.query_row(params![ns], |r| r.get(0)))
        .ctx("counting idle assignments")?;
    let total = u64::try_from(total).unwrap_or(0);
    // With none idle by the counters, nothing more is read.
    let shown = total.min(QUEUE_LIST_CAP as u64);
    if shown == 0 {
        return Ok((Vec::new(), 0));
    }
    let found: Vec<Assignment> = conn
        .prepare_cached(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments INDEXED BY assignments_idle \
             WHERE namespace = ?1 AND status = 'active' AND open_jobs = 0 ORDER BY updated_at, id LIMIT ?2"
        ))
        .and_then(|mut s| s.query_map(params![ns, shown as i64], rows::assignment)?.collect())
        .ctx("listing idle assignments")?;
    let idle: Vec<Assignment> = found.into_iter().filter(|a| is_idle(a, 0)).collect();
    // Never fewer than listed: the counters and the rows are read in one snapshot, so this only
    // guards the arithmetic.
    let total = total.max(idle.len() as u64);
    Ok((idle, total))
}
