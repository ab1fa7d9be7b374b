//! Retention of transcripts: what `baton clean --retention` drops from the database.

use super::{Context, TxResult};
use baton_core::time::Millis;
use sqlx::postgres::PgConnection;

/// The finished jobs of `$1` that ended before `$2`.
const OLD_JOBS: &str = "SELECT id FROM jobs WHERE namespace = $1 AND status IN ('complete', 'failed', 'cancelled') \
     AND finished_at < $2";

pub async fn drop_transcripts(conn: &mut PgConnection, ns: &str, before: Millis, dry_run: bool) -> TxResult<u64> {
    let affected: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM jobs WHERE id IN ({OLD_JOBS}) AND (transcript_events > 0 \
         OR EXISTS (SELECT 1 FROM attempts a WHERE a.job_id = jobs.id AND a.prompt IS NOT NULL))"
    ))
    .bind(ns)
    .bind(before)
    .fetch_one(&mut *conn)
    .await
    .ctx("finding old transcripts")?;
    if dry_run || affected == 0 {
        return Ok(affected.max(0) as u64);
    }
    for sql in [
        format!("DELETE FROM job_events WHERE job_id IN ({OLD_JOBS})"),
        format!("UPDATE attempts SET prompt = NULL WHERE prompt IS NOT NULL AND job_id IN ({OLD_JOBS})"),
        format!("UPDATE jobs SET transcript_events = 0 WHERE transcript_events > 0 AND id IN ({OLD_JOBS})"),
    ] {
        sqlx::query(&sql).bind(ns).bind(before).execute(&mut *conn).await.ctx("dropping old transcripts")?;
    }
    Ok(affected.max(0) as u64)
}
