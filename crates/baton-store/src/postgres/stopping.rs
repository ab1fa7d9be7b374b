//! Stopping jobs: cancelled while running, their lease kept until the runner confirms the agent
//! is gone ([`engine::stopping`]). The runner's confirmation, the expiry of a stop nobody
//! confirmed, and the ready rule's condition for them.
//!
//! Every query here goes through the partial index `jobs_stopping`, which holds only the jobs
//! being stopped right now.

use super::rows::{self, JOB_COLUMNS};
use super::{Context, TxResult};
use baton_core::engine::stopping;
use baton_core::time::Millis;
use baton_core::{Actor, Job};
use sqlx::postgres::PgConnection;

/// The ready rule's condition that assignment `a` has no stopping job, for a `WHERE … AND`.
pub const NONE_STOPPING: &str = "NOT EXISTS (SELECT 1 FROM jobs s WHERE s.namespace = a.namespace \
     AND s.assignment_id = a.id AND s.status = 'cancelled' AND s.lease_token IS NOT NULL)";

/// The runner holding `token` confirms the cancelled job's agent is gone: the lease is released
/// and the assignment goes on. `false` when there was nothing to release (the job was not
/// cancelled under this claim, or its lease already ran out).
pub async fn release(conn: &mut PgConnection, job_id: &str, token: i64, now: Millis) -> TxResult<bool> {
    // The assignment row first, as every writer that changes what is ready (0001_init.sql).
    let owner: Option<(String, String)> = sqlx::query_as("SELECT namespace, assignment_id FROM jobs WHERE id = $1")
        .bind(job_id)
        .fetch_optional(&mut *conn)
        .await
        .ctx("reading a stopped job")?;
    let Some((ns, aid)) = owner else { return Ok(false) };
    super::assignments::lock(conn, &ns, &aid).await?;
    let released: Option<String> = sqlx::query_scalar(
        "UPDATE jobs SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL \
         WHERE id = $1 AND lease_token = $2 AND status = 'cancelled' RETURNING assignment_id",
    )
    .bind(job_id)
    .bind(token)
    .fetch_optional(&mut *conn)
    .await
    .ctx("releasing a stopped job")?;
    let Some(aid) = released else { return Ok(false) };
    rows::record(conn, &aid, Some(job_id), now, &Actor::Engine, stopping::STOP_CONFIRMED, None).await?;
    Ok(true)
}

/// Extends a stopping job's lease while its runner still stops the agent; `false` when the job
/// is not stopping under `token`, or its lease already ran out (a freed stop is not taken back).
pub async fn renew(conn: &mut PgConnection, job_id: &str, token: i64, lease_ms: u64, now: Millis) -> TxResult<bool> {
    let expires_at = now.saturating_add(i64::try_from(lease_ms).unwrap_or(i64::MAX));
    let changed = sqlx::query(
        "UPDATE jobs SET lease_expires_at = $3 WHERE id = $1 AND lease_token = $2 AND status = 'cancelled' \
         AND lease_expires_at > $4",
    )
    .bind(job_id)
    .bind(token)
    .bind(expires_at)
    .bind(now)
    .execute(conn)
    .await
    .ctx("renewing a stopping job's lease")?
    .rows_affected();
    Ok(changed == 1)
}

/// Frees the assignments of stopping jobs whose lease ran out before their runner confirmed the
/// stop (it died or stalled): the lost-lease path of a cancelled job.
///
/// As for expired running leases, an assignment another transaction holds is skipped rather than
/// waited for (its holder may be releasing that very stop); the next claim looks again.
pub async fn expire(conn: &mut PgConnection, ns: &str, now: Millis) -> TxResult<()> {
    let candidates: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, assignment_id FROM jobs WHERE namespace = $1 AND status = 'cancelled' \
         AND lease_token IS NOT NULL AND lease_expires_at <= $2 ORDER BY lease_expires_at, id",
    )
    .bind(ns)
    .bind(now)
    .fetch_all(&mut *conn)
    .await
    .ctx("finding expired stops")?;
    for (job_id, aid) in candidates {
        if super::assignments::try_lock(conn, &aid).await?.is_none() {
            continue;
        }
        // Under the lock, again: the runner may have confirmed the stop meanwhile.
        let freed = sqlx::query(
            "UPDATE jobs SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL \
             WHERE id = $1 AND status = 'cancelled' AND lease_token IS NOT NULL AND lease_expires_at <= $2",
        )
        .bind(&job_id)
        .bind(now)
        .execute(&mut *conn)
        .await
        .ctx("freeing an expired stop")?
        .rows_affected();
        if freed == 0 {
            continue;
        }
        let (action, reason) = (stopping::STOP_UNCONFIRMED, stopping::STOP_UNCONFIRMED_REASON);
        rows::record(conn, &aid, Some(&job_id), now, &Actor::Engine, action, Some(reason)).await?;
    }
    Ok(())
}

/// Whether the namespace has a stopping job.
pub async fn any(conn: &mut PgConnection, ns: &str) -> TxResult<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE namespace = $1 AND status = 'cancelled' AND lease_token IS NOT NULL)",
    )
    .bind(ns)
    .fetch_one(conn)
    .await
    .ctx("checking for stopping jobs")
}

/// When the earliest stopping job's lease runs out after `after` (a deadline runners wake for).
pub async fn next_expiry(conn: &mut PgConnection, ns: &str, after: Millis) -> TxResult<Option<Millis>> {
    sqlx::query_scalar(
        "SELECT MIN(lease_expires_at) FROM jobs WHERE namespace = $1 AND status = 'cancelled' \
         AND lease_token IS NOT NULL AND lease_expires_at > $2",
    )
    .bind(ns)
    .bind(after)
    .fetch_one(conn)
    .await
    .ctx("finding the next deadline")
}

/// The namespace's stopping jobs, for `baton queue`, the longest-stopping first.
pub async fn jobs(conn: &mut PgConnection, ns: &str) -> TxResult<Vec<Job>> {
    let found = sqlx::query(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE namespace = $1 AND status = 'cancelled' AND lease_token IS NOT NULL \
         ORDER BY finished_at, id"
    ))
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("listing stopping jobs")?;
    let mut jobs = rows::all(found, rows::job).ctx("listing stopping jobs")?;
    rows::attach_attempts(conn, &mut jobs).await?;
    Ok(jobs)
}
