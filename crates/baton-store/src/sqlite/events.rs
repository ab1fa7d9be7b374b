//! Transcripts: a job's events, appended under the claim's fencing token as the agent streams.

use super::{jobs, runners, Context};
use baton_core::store::NewEvent;
use baton_core::time::Millis;
use baton_core::{JobEvent, Result};
use rusqlite::{params, Connection};

/// Appends events when `token` still holds the job; returns `false` (writing nothing) otherwise.
pub fn append(
    conn: &Connection,
    job_id: &str,
    token: i64,
    attempt: u32,
    events: &[NewEvent],
    now: Millis,
) -> Result<bool> {
    if !runners::holds_lease(conn, job_id, token, now)? {
        return Ok(false);
    }
    let next: i64 = conn
        .prepare_cached("SELECT transcript_events FROM jobs WHERE id = ?1")
        .and_then(|mut s| s.query_row(params![job_id], |r| r.get(0)))
        .ctx("reading a transcript")?;
    let mut insert = conn
        .prepare_cached("INSERT INTO job_events (job_id, seq, at, attempt, event) VALUES (?1, ?2, ?3, ?4, ?5)")
        .ctx("storing events")?;
    let mut bytes = 0i64;
    for (i, e) in events.iter().enumerate() {
        let text = e.event.to_string();
        bytes += text.len() as i64;
        insert.execute(params![job_id, next + 1 + i as i64, e.at, attempt, text]).ctx("storing an event")?;
    }
    conn.prepare_cached(
        "UPDATE jobs SET transcript_events = transcript_events + ?2, transcript_bytes = transcript_bytes + ?3 WHERE id = ?1",
    )
    .and_then(|mut s| s.execute(params![job_id, events.len() as i64, bytes]))
    .ctx("counting events")?;
    Ok(true)
}

pub fn list(conn: &Connection, ns: &str, job_id: &str, after_seq: i64, limit: u32) -> Result<Vec<JobEvent>> {
    // Scopes the read to the namespace (an id from elsewhere is "not found").
    jobs::get(conn, ns, job_id)?;
    conn.prepare_cached(
        "SELECT job_id, seq, at, attempt, event FROM job_events WHERE job_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )
    .and_then(|mut s| {
        s.query_map(params![job_id, after_seq, limit], |r| {
            let text: String = r.get(4)?;
            Ok(JobEvent {
                job_id: r.get(0)?,
                seq: r.get(1)?,
                at: r.get(2)?,
                attempt: r.get(3)?,
                event: serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
            })
        })?
        .collect()
    })
    .ctx("reading a transcript")
}
