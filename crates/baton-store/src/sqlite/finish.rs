//! Recording the end of an attempt, and what the engine does after a job ends: the PM shadow
//! job after every finished non-PM job, and a block when a PM job decided nothing.

use super::rows::{self, JOB_COLUMNS, JOB_COLUMN_COUNT};
use super::{assignments, jobs, Context};
use baton_core::lifecycle;
use baton_core::settle::{self, EndedAttempt};
use baton_core::store::{AttemptResult, EnginePolicy, NewJob};
use baton_core::time::Millis;
use baton_core::{Actor, AssignmentStatus, ErrorKind, Job, JobType, Result};
use rusqlite::{params, Connection, OptionalExtension};

/// Records an attempt's end under `token`; `None` when the lease is gone (nothing is written).
pub fn finish_attempt(
    conn: &Connection,
    job_id: &str,
    token: i64,
    r: &AttemptResult,
    policy: &EnginePolicy,
    now: Millis,
) -> Result<Option<Job>> {
    let job = conn
        .prepare_cached(&format!(
            "SELECT {JOB_COLUMNS}, namespace, decided FROM jobs WHERE id = ?1 AND lease_token = ?2 AND status = 'running' \
             AND lease_expires_at > ?3"
        ))
        .and_then(|mut s| {
            s.query_row(params![job_id, token, now], |row| Ok((rows::job(row)?, row.get::<_, String>(JOB_COLUMN_COUNT)?, row.get::<_, bool>(JOB_COLUMN_COUNT + 1)?)))
                .optional()
        })
        .ctx("reading a running job")?;
    let Some((job, ns, decided)) = job else { return Ok(None) };
    let aid = job.assignment_id.clone();

    if r.released {
        conn.prepare_cached(
            "UPDATE jobs SET status = 'pending', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![job_id]))
        .ctx("re-queueing an interrupted job")?;
        close_attempt(conn, job_id, "interrupted", None, Some("the runner shut down; re-queued"), now)?;
        rows::record(
            conn,
            &aid,
            Some(job_id),
            now,
            &Actor::Engine,
            "job interrupted by runner shutdown; re-queued",
            None,
        )?;
        return jobs::get(conn, &ns, job_id).map(Some);
    }

    // Attempts lost with a runner or interrupted by a shutdown are not charged.
    let charged: u32 = conn
        .prepare_cached("SELECT COUNT(*) FROM attempts WHERE job_id = ?1 AND outcome NOT IN ('lost', 'interrupted')")
        .and_then(|mut s| s.query_row(params![job_id], |r| r.get(0)))
        .ctx("counting attempts")?;
    let settlement = settle::settle(
        &EndedAttempt {
            job_type: job.job_type,
            decided,
            attempts: job.attempts,
            charged,
            error_kind: r.error_kind,
            error: r.error.as_deref(),
        },
        &policy.retry,
        now,
        rand::random::<f64>(),
    );
    let (status, not_before, outcome) = (settlement.status, settlement.not_before, settlement.outcome.as_str());
    let finished_at = status.is_final().then_some(now);
    conn.prepare_cached(
        "UPDATE jobs SET status = ?2, not_before = ?3, finished_at = ?4, duration_ms = ?5 - started_at, result = ?6, \
         success = ?7, error = ?8, error_kind = ?9, exit_code = ?10, session_id = COALESCE(?11, session_id), \
         tokens_in = ?12, tokens_out = ?13, cost_usd = CASE WHEN ?14 IS NULL THEN cost_usd ELSE COALESCE(cost_usd, 0) + ?14 END, \
         transcript_truncated = MAX(transcript_truncated, ?15), git_head_after = COALESCE(?16, git_head_after), \
         diff_stat = COALESCE(?17, diff_stat), lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL \
         WHERE id = ?1",
    )
    .and_then(|mut s| {
        s.execute(params![
            job_id,
            status.as_str(),
            not_before,
            finished_at,
            now,
            r.result,
            r.success,
            r.error,
            r.error_kind.map(|k| k.as_str()),
            r.exit_code,
            r.session_id,
            r.tokens_in,
            r.tokens_out,
            r.cost_usd,
            r.transcript_truncated,
            r.git_head_after,
            r.diff_stat
        ])
    })
    .ctx("recording a job result")?;
    close_attempt(conn, job_id, outcome, r.error_kind, r.error.as_deref(), now)?;

    let (action, reason) = (settlement.action, settlement.reason);
    rows::record(conn, &aid, Some(job_id), now, &Actor::Engine, &action, reason.as_deref())?;
    if status.is_final() {
        after_final(conn, &ns, job_id, policy, now)?;
    }
    jobs::get(conn, &ns, job_id).map(Some)
}

fn close_attempt(
    conn: &Connection,
    job_id: &str,
    outcome: &str,
    kind: Option<ErrorKind>,
    error: Option<&str>,
    now: Millis,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE attempts SET outcome = ?2, finished_at = ?3, error_kind = ?4, error = ?5 WHERE job_id = ?1 AND outcome = 'running'",
    )
    .and_then(|mut s| s.execute(params![job_id, outcome, now, kind.map(|k| k.as_str()), error]))
    .ctx("closing an attempt")?;
    Ok(())
}

/// After a job reached `complete` or `failed`: queue its PM job, or judge the PM job that ended.
pub fn after_final(conn: &Connection, ns: &str, job_id: &str, policy: &EnginePolicy, now: Millis) -> Result<()> {
    let job = jobs::get(conn, ns, job_id)?;
    let assignment = assignments::load(conn, ns, &job.assignment_id)?;
    if assignment.status.is_final() {
        return Ok(());
    }
    if job.job_type != JobType::Pm {
        if lifecycle::check_insert(&assignment).is_err() {
            assignments::block(conn, &assignment.id, &lifecycle::job_limit_reason(assignment.max_jobs), now)?;
            return Ok(());
        }
        let pm = NewJob {
            job_type: JobType::Pm,
            harness: policy.pm.pm_harness.clone(),
            context: String::new(),
            max_attempts: policy.pm.max_attempts,
            after: Some(job.id.clone()),
            for_job_id: Some(job.id.clone()),
        };
        jobs::insert(conn, ns, &assignment.id, &pm, &Actor::Engine, now)?;
        return Ok(());
    }
    if assignment.status != AssignmentStatus::Active {
        return Ok(());
    }
    let pending: u32 = conn
        .prepare_cached("SELECT COUNT(*) FROM jobs WHERE assignment_id = ?1 AND status = 'pending'")
        .and_then(|mut s| s.query_row(params![assignment.id], |r| r.get(0)))
        .ctx("counting pending jobs")?;
    if pending > 0 {
        return Ok(());
    }
    let reason = settle::pm_undecided_reason(&job.id, job.status, job.error.as_deref());
    assignments::block(conn, &assignment.id, &reason, now)
}
