//! Stopping jobs: cancelled while running, their lease kept until the runner confirms the agent
//! is gone ([`engine::stopping`]). The runner's confirmation, the expiry of a stop nobody
//! confirmed, and the assignments they keep busy.
//!
//! Every query here goes through the partial index `jobs_stopping`, which holds only the jobs
//! being stopped right now.

use super::rows::{self, JOB_COLUMNS};
use super::Context;
use baton_core::engine::stopping;
use baton_core::time::Millis;
use baton_core::{Actor, Job, Result};
use rusqlite::{params, Connection, OptionalExtension};

/// The runner holding `token` confirms the cancelled job's agent is gone: the lease is released
/// and the assignment goes on. `false` when there was nothing to release (the job was not
/// cancelled under this claim, or its lease already ran out).
pub fn release(conn: &Connection, job_id: &str, token: i64, now: Millis) -> Result<bool> {
    let released: Option<String> = conn
        .prepare_cached(
            "UPDATE jobs SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL \
             WHERE id = ?1 AND lease_token = ?2 AND status = 'cancelled' RETURNING assignment_id",
        )
        .and_then(|mut s| s.query_row(params![job_id, token], |r| r.get(0)).optional())
        .ctx("releasing a stopped job")?;
    let Some(aid) = released else { return Ok(false) };
    rows::record(conn, &aid, Some(job_id), now, &Actor::Engine, stopping::STOP_CONFIRMED, None)?;
    Ok(true)
}

/// Extends a stopping job's lease while its runner still stops the agent; `false` when the job
/// is not stopping under `token`, or its lease already ran out (a freed stop is not taken back).
pub fn renew(conn: &Connection, job_id: &str, token: i64, lease_ms: u64, now: Millis) -> Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE jobs SET lease_expires_at = ?3 WHERE id = ?1 AND lease_token = ?2 AND status = 'cancelled' \
             AND lease_expires_at > ?4",
        )
        .and_then(|mut s| s.execute(params![job_id, token, now + lease_ms as Millis, now]))
        .ctx("renewing a stopping job's lease")?;
    Ok(changed == 1)
}

/// Frees the assignments of stopping jobs whose lease ran out before their runner confirmed the
/// stop (it died or stalled): the lost-lease path of a cancelled job.
pub fn expire(conn: &Connection, ns: &str, now: Millis) -> Result<()> {
    let expired: Vec<(String, String)> = conn
        .prepare_cached(
            "UPDATE jobs SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL \
             WHERE namespace = ?1 AND status = 'cancelled' AND lease_token IS NOT NULL AND lease_expires_at <= ?2 \
             RETURNING id, assignment_id",
        )
        .and_then(|mut s| s.query_map(params![ns, now], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .ctx("freeing expired stops")?;
    for (job_id, aid) in expired {
        let (action, reason) = (stopping::STOP_UNCONFIRMED, stopping::STOP_UNCONFIRMED_REASON);
        rows::record(conn, &aid, Some(&job_id), now, &Actor::Engine, action, Some(reason))?;
    }
    Ok(())
}

/// The assignments of the namespace that have a stopping job.
pub fn busy_assignments(conn: &Connection, ns: &str) -> Result<Vec<String>> {
    conn.prepare_cached(
        "SELECT assignment_id FROM jobs INDEXED BY jobs_stopping \
         WHERE namespace = ?1 AND status = 'cancelled' AND lease_token IS NOT NULL",
    )
    .and_then(|mut s| s.query_map(params![ns], |r| r.get(0))?.collect())
    .ctx("listing stopping jobs")
}

/// When the earliest stopping job's lease runs out after `after` (a deadline runners wake for).
pub fn next_expiry(conn: &Connection, ns: &str, after: Millis) -> Result<Option<Millis>> {
    conn.prepare_cached(
        "SELECT MIN(lease_expires_at) FROM jobs WHERE namespace = ?1 AND status = 'cancelled' \
         AND lease_token IS NOT NULL AND lease_expires_at > ?2",
    )
    .and_then(|mut s| s.query_row(params![ns, after], |r| r.get(0)))
    .ctx("finding the next deadline")
}

/// The namespace's stopping jobs, for `baton queue`, the longest-stopping first.
pub fn jobs(conn: &Connection, ns: &str) -> Result<Vec<Job>> {
    let mut jobs: Vec<Job> = conn
        .prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs INDEXED BY jobs_stopping \
             WHERE namespace = ?1 AND status = 'cancelled' AND lease_token IS NOT NULL ORDER BY finished_at, id"
        ))
        .and_then(|mut s| s.query_map(params![ns], rows::job)?.collect())
        .ctx("listing stopping jobs")?;
    rows::attach_attempts(conn, &mut jobs)?;
    Ok(jobs)
}
