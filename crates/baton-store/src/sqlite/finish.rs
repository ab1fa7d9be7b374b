//! Recording the end of an attempt, and applying what the engine decides after a job ends
//! ([`baton_core::engine`]): the settlement of the attempt, then the PM shadow job or a block.

use super::rows::{self, JOB_COLUMNS, JOB_COLUMN_COUNT};
use super::{assignments, events, jobs, Context};
use baton_core::engine::spend::{self, AttemptSpend, Usage};
use baton_core::engine::{self, AfterFinal, EndedAttempt, FinalState, Settlement};
use baton_core::store::{AttemptResult, EnginePolicy};
use baton_core::time::Millis;
use baton_core::{Actor, ErrorKind, Job, Result};
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
            s.query_row(params![job_id, token, now], |row| {
                Ok((rows::job(row)?, row.get::<_, String>(JOB_COLUMN_COUNT)?, row.get::<_, bool>(JOB_COLUMN_COUNT + 1)?))
            })
            .optional()
        })
        .ctx("reading a running job")?;
    let Some((job, ns, decided)) = job else { return Ok(None) };
    let aid = job.assignment_id.clone();
    // Under the same lease check as above, in the same transaction: both or neither are stored.
    if !r.transcript_tail.is_empty() && !events::append(conn, job_id, token, job.attempts, &r.transcript_tail, now)? {
        return Ok(None);
    }

    if r.released {
        let release = engine::release()?;
        conn.prepare_cached(
            "UPDATE jobs SET status = ?2, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL \
             WHERE id = ?1 AND status = ?3",
        )
        .and_then(|mut s| s.execute(params![job_id, release.status().as_str(), release.transition.from().as_str()]))
        .ctx("re-queueing an interrupted job")?;
        close_attempt(conn, job_id, &release, None, None, now)?;
        rows::record(conn, &aid, Some(job_id), now, &Actor::Engine, &release.action, release.reason.as_deref())?;
        return jobs::get(conn, &ns, job_id).map(Some);
    }

    // Attempts lost with a runner or interrupted by a shutdown are not charged.
    let charged: u32 = conn
        .prepare_cached("SELECT COUNT(*) FROM attempts WHERE job_id = ?1 AND outcome NOT IN ('lost', 'interrupted')")
        .and_then(|mut s| s.query_row(params![job_id], |r| r.get(0)))
        .ctx("counting attempts")?;
    let settlement =
        engine::settle(&EndedAttempt::of(&job, decided, charged, r), &policy.retry, now, rand::random::<f64>())?;
    let status = settlement.status();
    let finished_at = status.is_final().then_some(now);
    // Priced at the attempt's start, so a price that changed since does not apply to it.
    let usage = usage(r);
    // The model the runner says the attempt ran on, else the one the job recorded earlier.
    let model = r.model.as_deref().or_else(|| spend::job_model(&job, &policy.spend));
    let cost = spend::price_attempt(model, &usage, &policy.spend, job.started_at.unwrap_or(now));
    conn.prepare_cached(
        "UPDATE jobs SET status = ?2, not_before = ?3, finished_at = ?4, duration_ms = ?5 - started_at, result = ?6, \
         success = ?7, error = ?8, error_kind = ?9, exit_code = ?10, session_id = COALESCE(?11, session_id), \
         tokens_in = CASE WHEN ?12 IS NULL THEN tokens_in ELSE COALESCE(tokens_in, 0) + ?12 END, \
         tokens_out = CASE WHEN ?13 IS NULL THEN tokens_out ELSE COALESCE(tokens_out, 0) + ?13 END, \
         cost_usd = CASE WHEN ?14 IS NULL THEN cost_usd ELSE COALESCE(cost_usd, 0) + ?14 END, \
         cache_read_tokens = CASE WHEN ?24 IS NULL THEN cache_read_tokens ELSE COALESCE(cache_read_tokens, 0) + ?24 END, \
         cache_write_tokens = CASE WHEN ?25 IS NULL THEN cache_write_tokens ELSE COALESCE(cache_write_tokens, 0) + ?25 END, \
         cost_source = ?26, \
         transcript_truncated = MAX(transcript_truncated, ?15), git_head_after = COALESCE(?16, git_head_after), \
         diff_stat = COALESCE(?17, diff_stat), lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, \
         session_mode = COALESCE(?19, session_mode), session_fallback_reason = COALESCE(?20, session_fallback_reason), \
         session_host = CASE WHEN ?11 IS NULL THEN session_host ELSE ?21 END, model = COALESCE(?22, model), \
         transcript_error = COALESCE(transcript_error, ?23) \
         WHERE id = ?1 AND status = ?18",
    )
    .and_then(|mut s| {
        s.execute(params![
            job_id,
            status.as_str(),
            settlement.not_before,
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
            cost.cost_usd,
            r.transcript_truncated,
            r.git_head_after,
            r.diff_stat,
            settlement.transition.from().as_str(),
            r.session_mode.map(|m| m.as_str()),
            r.session_fallback_reason,
            r.session_host,
            r.model,
            r.transcript_error,
            r.cache_read_tokens,
            r.cache_write_tokens,
            spend::combine(job.cost_source, cost.source).map(|s| s.as_str()),
        ])
    })
    .ctx("recording a job result")?;
    close_attempt(conn, job_id, &settlement, r.error_kind, Some((&usage, &cost, model)), now)?;
    rows::record(conn, &aid, Some(job_id), now, &Actor::Engine, &settlement.action, settlement.reason.as_deref())?;
    after_final(conn, &ns, job_id, policy, now)?;
    jobs::get(conn, &ns, job_id).map(Some)
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

fn close_attempt(
    conn: &Connection,
    job_id: &str,
    s: &Settlement,
    kind: Option<ErrorKind>,
    spend: Option<AttemptSpendRecord<'_>>,
    now: Millis,
) -> Result<()> {
    let (usage, cost, model) = match spend {
        Some((u, c, m)) => (*u, Some(*c), m),
        None => (Usage::default(), None, None),
    };
    conn.prepare_cached(
        "UPDATE attempts SET outcome = ?2, finished_at = ?3, error_kind = ?4, error = ?5, tokens_in = ?6, \
         tokens_out = ?7, cache_read_tokens = ?8, cache_write_tokens = ?9, cost_usd = ?10, cost_source = ?11, \
         model = ?12 WHERE job_id = ?1 AND outcome = 'running'",
    )
    .and_then(|mut st| {
        st.execute(params![
            job_id,
            s.outcome.as_str(),
            now,
            kind.map(|k| k.as_str()),
            s.attempt_error,
            usage.tokens_in,
            usage.tokens_out,
            usage.cache_read,
            usage.cache_write,
            cost.and_then(|c| c.cost_usd),
            cost.and_then(|c| c.source).map(|s| s.as_str()),
            model,
        ])
    })
    .ctx("closing an attempt")?;
    Ok(())
}

/// Applies [`engine::after_final`] to a job that may just have become final: queue its PM job,
/// block its assignment, or nothing.
pub fn after_final(conn: &Connection, ns: &str, job_id: &str, policy: &EnginePolicy, now: Millis) -> Result<()> {
    let job = jobs::get(conn, ns, job_id)?;
    let assignment = assignments::load(conn, ns, &job.assignment_id)?;
    let pending_jobs: u32 = conn
        .prepare_cached("SELECT COUNT(*) FROM jobs WHERE assignment_id = ?1 AND status = 'pending'")
        .and_then(|mut s| s.query_row(params![assignment.id], |r| r.get(0)))
        .ctx("counting pending jobs")?;
    match engine::after_final(FinalState { job: &job, assignment: &assignment, pending_jobs }, &policy.pm) {
        AfterFinal::Nothing => Ok(()),
        AfterFinal::QueuePm(pm) => jobs::insert(conn, ns, &assignment.id, &pm, &Actor::Engine, now).map(drop),
        AfterFinal::Block(reason) => assignments::block(conn, &assignment.id, &reason, now),
        AfterFinal::Undecided { note, block } => {
            jobs::mark_undecided(conn, &job.id)?;
            if block {
                assignments::block(conn, &assignment.id, &note, now)
            } else {
                rows::record(conn, &assignment.id, Some(&job.id), now, &Actor::Engine, &note, None)
            }
        }
    }
}
