//! How many finished assignments still keep a worktree, for `baton queue`'s retention hint.

use super::Context;
use baton_core::Result;
use rusqlite::{params, Connection};

/// Complete or cancelled assignments of `ns` with a worktree recorded, counted from the partial
/// index `assignments_finished_worktrees` (the WHERE below is its condition, word for word, so
/// the planner takes it).
pub fn finished(conn: &Connection, ns: &str) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM assignments INDEXED BY assignments_finished_worktrees WHERE namespace = ?1 \
             AND worktree IS NOT NULL AND status IN ('complete', 'cancelled')",
        )
        .and_then(|mut s| s.query_row(params![ns], |r| r.get(0)))
        .ctx("counting finished worktrees")?;
    Ok(u64::try_from(n).unwrap_or(0))
}
