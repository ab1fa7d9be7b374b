//! Transcripts: a job's events, appended under the claim's fencing token as the agent streams.
//!
//! One `UPDATE … RETURNING` checks the token, reserves the sequence numbers and locks the job row
//! (so two appends for one job cannot take the same numbers); one `INSERT … UNNEST` stores the
//! batch. Events are stored as JSON text, exactly as serialized.

use super::{jobs, Context, TxResult};
use baton_core::store::NewEvent;
use baton_core::time::Millis;
use baton_core::JobEvent;
use sqlx::postgres::PgConnection;

/// Appends events when `token` still holds the job (running, lease not expired); returns `false`
/// (writing nothing) otherwise.
pub async fn append(
    conn: &mut PgConnection,
    job_id: &str,
    token: i64,
    attempt: u32,
    events: &[NewEvent],
    now: Millis,
) -> TxResult<bool> {
    let texts: Vec<String> = events.iter().map(|e| e.event.to_string()).collect();
    let ats: Vec<i64> = events.iter().map(|e| e.at).collect();
    let bytes: i64 = texts.iter().map(|t| t.len() as i64).sum();
    let count = texts.len() as i64;
    let total: Option<i64> = sqlx::query_scalar(
        "UPDATE jobs SET transcript_events = transcript_events + $3, transcript_bytes = transcript_bytes + $4 \
         WHERE id = $1 AND lease_token = $2 AND status = 'running' AND lease_expires_at > $5 \
         RETURNING transcript_events",
    )
    .bind(job_id)
    .bind(token)
    .bind(count)
    .bind(bytes)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .ctx("counting events")?;
    let Some(total) = total else { return Ok(false) };
    if texts.is_empty() {
        return Ok(true);
    }
    sqlx::query(
        "INSERT INTO job_events (job_id, seq, at, attempt, event) \
         SELECT $1, $2 + e.ord, e.at, $3, e.event FROM UNNEST($4::bigint[], $5::text[]) WITH ORDINALITY AS e(at, event, ord)",
    )
    .bind(job_id)
    .bind(total - count)
    .bind(i32::try_from(attempt).unwrap_or(i32::MAX))
    .bind(&ats)
    .bind(&texts)
    .execute(conn)
    .await
    .ctx("storing events")?;
    Ok(true)
}

pub async fn list(
    conn: &mut PgConnection,
    ns: &str,
    job_id: &str,
    after_seq: i64,
    limit: u32,
) -> TxResult<Vec<JobEvent>> {
    // Scopes the read to the namespace (an id from elsewhere is "not found").
    jobs::assignment_of(conn, ns, job_id).await?;
    let found: Vec<(String, i64, i64, i32, String)> = sqlx::query_as(
        "SELECT job_id, seq, at, attempt, event FROM job_events WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(job_id)
    .bind(after_seq)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await
    .ctx("reading a transcript")?;
    Ok(found
        .into_iter()
        .map(|(job_id, seq, at, attempt, text)| JobEvent {
            job_id,
            seq,
            at,
            attempt: u32::try_from(attempt).unwrap_or_default(),
            event: serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        })
        .collect())
}

/// Records an attempt's warnings when `token` still holds the job; `false` (writing nothing)
/// otherwise.
pub async fn add_warnings(
    conn: &mut PgConnection,
    job_id: &str,
    token: i64,
    attempt: u32,
    warnings: &[String],
    now: Millis,
) -> TxResult<bool> {
    let held: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE id = $1 AND lease_token = $2 AND status = 'running' \
         AND lease_expires_at > $3 FOR UPDATE)",
    )
    .bind(job_id)
    .bind(token)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .ctx("checking a lease")?;
    if !held {
        return Ok(false);
    }
    for text in warnings {
        sqlx::query("INSERT INTO job_warnings (job_id, attempt, at, text) VALUES ($1, $2, $3, $4)")
            .bind(job_id)
            .bind(i32::try_from(attempt).unwrap_or(i32::MAX))
            .bind(now)
            .bind(super::pg_text(text))
            .execute(&mut *conn)
            .await
            .ctx("recording a job warning")?;
    }
    Ok(true)
}
