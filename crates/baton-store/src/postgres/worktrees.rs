//! How many finished assignments still keep a worktree, for `baton queue`'s retention hint.

use super::{Context, TxResult};
use sqlx::postgres::PgConnection;

/// Complete or cancelled assignments of `ns` with a worktree recorded (the partial index
/// `assignments_finished_worktrees` answers it).
pub async fn finished(conn: &mut PgConnection, ns: &str) -> TxResult<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM assignments WHERE namespace = $1 AND worktree IS NOT NULL \
         AND status IN ('complete', 'cancelled')",
    )
    .bind(ns)
    .fetch_one(&mut *conn)
    .await
    .ctx("counting finished worktrees")?;
    Ok(u64::try_from(n).unwrap_or(0))
}
