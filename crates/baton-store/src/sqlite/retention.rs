//! Retention of transcripts: what `baton clean --retention` drops from the database.

use super::Context;
use baton_core::time::Millis;
use baton_core::Result;
use rusqlite::{params, Connection};

/// The finished jobs of `?1` that ended before `?2`.
const OLD_JOBS: &str = "SELECT id FROM jobs WHERE namespace = ?1 AND status IN ('complete', 'failed', 'cancelled') \
     AND finished_at < ?2";

pub fn drop_transcripts(conn: &Connection, ns: &str, before: Millis, dry_run: bool) -> Result<u64> {
    let affected: u64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM jobs WHERE id IN ({OLD_JOBS}) AND (transcript_events > 0 \
             OR EXISTS (SELECT 1 FROM attempts a WHERE a.job_id = jobs.id AND a.prompt IS NOT NULL))"
        ))
        .and_then(|mut s| s.query_row(params![ns, before], |r| r.get(0)))
        .ctx("finding old transcripts")?;
    if dry_run || affected == 0 {
        return Ok(affected);
    }
    for sql in [
        format!("DELETE FROM job_events WHERE job_id IN ({OLD_JOBS})"),
        format!("UPDATE attempts SET prompt = NULL WHERE prompt IS NOT NULL AND job_id IN ({OLD_JOBS})"),
        format!("UPDATE jobs SET transcript_events = 0 WHERE transcript_events > 0 AND id IN ({OLD_JOBS})"),
    ] {
        conn.execute(&sql, params![ns, before]).ctx("dropping old transcripts")?;
    }
    Ok(affected)
}
