//! Recording the end of an attempt, and applying what the engine decides after a job ends
//! ([`baton_core::engine`]): the settlement of the attempt, then the PM shadow job or a block.
//!
//! The fencing check (token and status) is made after locking the assignment, so a result and a
//! takeover of the same job (which also locks the assignment) cannot interleave.

use super::rows::{self, JOB_COLUMNS};
use super::{assignments, events, jobs, pg_text, Context, TxResult};
use baton_core::engine::spend::{self, AttemptSpend, Usage};
use baton_core::engine::{self, AfterFinal, EndedAttempt, FinalState, Settlement};
use baton_core::store::{AttemptResult, EnginePolicy};
use baton_core::time::Millis;
use baton_core::{Actor, ErrorKind, Job};
use sqlx::postgres::PgConnection;
use sqlx::Row;

/// Records an attempt's end under `token`; `None` when the lease is gone (nothing is written).
pub async fn finish_attempt(
    conn: &mut PgConnection,
    job_id: &str,
    token: i64,
    r: &AttemptResult,
    policy: &EnginePolicy,
    now: Millis,
) -> TxResult<Option<Job>> {
    let owner: Option<(String, String)> = sqlx::query_as("SELECT namespace, assignment_id FROM jobs WHERE id = $1")
        .bind(job_id)
        .fetch_optional(&mut *conn)
        .await
        .ctx("reading a running job")?;
    let Some((ns, aid)) = owner else { return Ok(None) };
    assignments::lock(conn, &ns, &aid).await?;
    let row = sqlx::query(&format!(
        "SELECT {JOB_COLUMNS}, decided FROM jobs WHERE id = $1 AND lease_token = $2 AND status = 'running' \
         AND lease_expires_at > $3"
    ))
    .bind(job_id)
    .bind(token)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .ctx("reading a running job")?;
    let Some(row) = row else { return Ok(None) };
    let job = rows::job(&row).ctx("reading a running job")?;
    let decided: bool = row.try_get("decided").ctx("reading a running job")?;
    // Under the same lease check as above, in the same transaction: both or neither are stored.
    if !r.transcript_tail.is_empty()
        && !events::append(conn, job_id, token, job.attempts, &r.transcript_tail, now).await?
    {
        return Ok(None);
    }

    if r.released {
        let release = engine::release()?;
        sqlx::query(
            "UPDATE jobs SET status = $2, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL \
             WHERE id = $1 AND status = $3",
        )
        .bind(job_id)
        .bind(release.status().as_str())
        .bind(release.transition.from().as_str())
        .execute(&mut *conn)
        .await
        .ctx("re-queueing an interrupted job")?;
        close_attempt(conn, job_id, &release, None, None, now).await?;
        rows::record(conn, &aid, Some(job_id), now, &Actor::Engine, &release.action, release.reason.as_deref()).await?;
        return jobs::get(conn, &ns, job_id).await.map(Some);
    }

    // Attempts lost with a runner or interrupted by a shutdown are not charged.
    let charged: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM attempts WHERE job_id = $1 AND outcome NOT IN ('lost', 'interrupted')",
    )
    .bind(job_id)
    .fetch_one(&mut *conn)
    .await
    .ctx("counting attempts")?;
    let charged = u32::try_from(charged).unwrap_or(u32::MAX);
    let settlement =
        engine::settle(&EndedAttempt::of(&job, decided, charged, r), &policy.retry, now, rand::random::<f64>())?;
    let status = settlement.status();
    let finished_at = status.is_final().then_some(now);
    // Priced at the attempt's start, so a price that changed since does not apply to it.
    let usage = usage(r);
    // The model the runner says the attempt ran on, else the one the job recorded earlier.
    let model = r.model.as_deref().or_else(|| spend::job_model(&job, &policy.spend));
    let cost = spend::price_attempt(model, &usage, &policy.spend, job.started_at.unwrap_or(now));
    sqlx::query(
        "UPDATE jobs SET status = $2, not_before = $3, finished_at = $4, duration_ms = $5 - started_at, result = $6, \
         success = $7, error = $8, error_kind = $9, exit_code = $10, session_id = COALESCE($11, session_id), \
         tokens_in = CASE WHEN $12::bigint IS NULL THEN tokens_in ELSE COALESCE(tokens_in, 0) + $12 END, \
         tokens_out = CASE WHEN $13::bigint IS NULL THEN tokens_out ELSE COALESCE(tokens_out, 0) + $13 END, \
         cache_read_tokens = CASE WHEN $24::bigint IS NULL THEN cache_read_tokens ELSE COALESCE(cache_read_tokens, 0) + $24 END, \
         cache_write_tokens = CASE WHEN $25::bigint IS NULL THEN cache_write_tokens ELSE COALESCE(cache_write_tokens, 0) + $25 END, \
         cost_source = $26, \
         cost_usd = CASE WHEN $14::double precision IS NULL THEN cost_usd ELSE COALESCE(cost_usd, 0) + $14 END, \
         transcript_truncated = transcript_truncated OR $15, git_head_after = COALESCE($16, git_head_after), \
         diff_stat = COALESCE($17, diff_stat), lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, \
         session_mode = COALESCE($19, session_mode), session_fallback_reason = COALESCE($20, session_fallback_reason), \
         session_host = CASE WHEN $11::text IS NULL THEN session_host ELSE $21 END, model = COALESCE($22, model), \
         transcript_error = COALESCE(transcript_error, $23) \
         WHERE id = $1 AND status = $18",
    )
    .bind(job_id)
    .bind(status.as_str())
    .bind(settlement.not_before)
    .bind(finished_at)
    .bind(now)
    .bind(r.result.as_deref().map(pg_text))
    .bind(r.success)
    .bind(r.error.as_deref().map(pg_text))
    .bind(r.error_kind.map(|k| k.as_str()))
    .bind(r.exit_code)
    .bind(r.session_id.as_deref().map(pg_text))
    .bind(r.tokens_in)
    .bind(r.tokens_out)
    .bind(cost.cost_usd)
    .bind(r.transcript_truncated)
    .bind(r.git_head_after.as_deref().map(pg_text))
    .bind(r.diff_stat.as_deref().map(pg_text))
    .bind(settlement.transition.from().as_str())
    .bind(r.session_mode.map(|m| m.as_str()))
    .bind(r.session_fallback_reason.as_deref().map(pg_text))
    .bind(r.session_host.as_deref().map(pg_text))
    .bind(r.model.as_deref().map(pg_text))
    .bind(r.transcript_error.as_deref().map(pg_text))
    .bind(r.cache_read_tokens)
    .bind(r.cache_write_tokens)
    .bind(spend::combine(job.cost_source, cost.source).map(|s| s.as_str()))
    .execute(&mut *conn)
    .await
    .ctx("recording a job result")?;
    close_attempt(conn, job_id, &settlement, r.error_kind, Some((&usage, &cost, model)), now).await?;
    rows::record(conn, &aid, Some(job_id), now, &Actor::Engine, &settlement.action, settlement.reason.as_deref())
        .await?;
    after_final(conn, &ns, job_id, policy, now).await?;
    jobs::get(conn, &ns, job_id).await.map(Some)
}

/// What an attempt reported about its usage.
fn usage(r: &AttemptResult) -> Usage {
    Usage {
        tokens_in: r.tokens_in,
        tokens_out: r.tokens_out,
        cache_read: r.cache_read_tokens,
        cache_write: r.cache_write_tokens,
        reported_usd: r.cost_usd,
    }
}

/// The attempt's own usage, cost and the model it was priced for.
type AttemptSpendRecord<'a> = (&'a Usage, &'a AttemptSpend, Option<&'a str>);

async fn close_attempt(
    conn: &mut PgConnection,
    job_id: &str,
    s: &Settlement,
    kind: Option<ErrorKind>,
    spend: Option<AttemptSpendRecord<'_>>,
    now: Millis,
) -> TxResult<()> {
    let (usage, cost, model) = match spend {
        Some((u, c, m)) => (*u, Some(*c), m),
        None => (Usage::default(), None, None),
    };
    sqlx::query(
        "UPDATE attempts SET outcome = $2, finished_at = $3, error_kind = $4, error = $5, tokens_in = $6, \
         tokens_out = $7, cache_read_tokens = $8, cache_write_tokens = $9, cost_usd = $10, cost_source = $11, \
         model = $12 WHERE job_id = $1 AND outcome = 'running'",
    )
    .bind(job_id)
    .bind(s.outcome.as_str())
    .bind(now)
    .bind(kind.map(|k| k.as_str()))
    .bind(s.attempt_error.as_deref().map(pg_text))
    .bind(usage.tokens_in)
    .bind(usage.tokens_out)
    .bind(usage.cache_read)
    .bind(usage.cache_write)
    .bind(cost.and_then(|c| c.cost_usd))
    .bind(cost.and_then(|c| c.source).map(|s| s.as_str()))
    .bind(model.map(pg_text))
    .execute(conn)
    .await
    .ctx("closing an attempt")?;
    Ok(())
}

/// Applies [`engine::after_final`] to a job that may just have become final: queue its PM job,
/// block its assignment, or nothing. The caller holds the assignment's lock.
pub async fn after_final(
    conn: &mut PgConnection,
    ns: &str,
    job_id: &str,
    policy: &EnginePolicy,
    now: Millis,
) -> TxResult<()> {
    let job = jobs::get(conn, ns, job_id).await?;
    let assignment = assignments::load(conn, ns, &job.assignment_id).await?;
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE assignment_id = $1 AND status = 'pending'")
        .bind(&assignment.id)
        .fetch_one(&mut *conn)
        .await
        .ctx("counting pending jobs")?;
    let pending_jobs = u32::try_from(pending).unwrap_or(u32::MAX);
    match engine::after_final(FinalState { job: &job, assignment: &assignment, pending_jobs }, &policy.pm) {
        AfterFinal::Nothing => Ok(()),
        AfterFinal::QueuePm(pm) => jobs::insert(conn, ns, &assignment.id, &pm, &Actor::Engine, now).await.map(drop),
        AfterFinal::Block(reason) => assignments::block(conn, &assignment.id, &reason, now).await,
        AfterFinal::Undecided { note, block } => {
            jobs::mark_undecided(conn, &job.id).await?;
            if block {
                assignments::block(conn, &assignment.id, &note, now).await
            } else {
                rows::record(conn, &assignment.id, Some(&job.id), now, &Actor::Engine, &note, None).await
            }
        }
    }
}
