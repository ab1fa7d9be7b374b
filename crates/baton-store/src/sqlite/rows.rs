//! Row mapping: the column lists the queries select and how a row becomes a model value.

use super::Context;
use baton_core::store::JobWarning;
use baton_core::{Actor, Assignment, Attempt, AttemptOutcome, HistoryEntry, Job, Result};
use rusqlite::types::{FromSql, FromSqlError, ValueRef};
use rusqlite::{params, Connection, Row};
use std::str::FromStr;

/// Columns of `assignments`, in the order [`assignment`] reads them.
pub const ASSIGNMENT_COLUMNS: &str = "id, namespace, north_star, status, reason, created_at, updated_at, max_jobs, \
     budget_usd, cost_usd, job_count, base_ref, branch, worktree, host, base_branch, base_commit, context, merged_commit, \
     final_head, activated_at, pushed_commit, budget_tokens, tokens_spent";

/// Columns of `jobs`, in the order [`job`] reads them.
pub const JOB_COLUMNS: &str = "id, assignment_id, type, harness, context, status, position, attempts, max_attempts, \
     not_before, created_at, started_at, finished_at, duration_ms, result, success, error, error_kind, exit_code, \
     session_id, tokens_in, tokens_out, cost_usd, for_job_id, lease_owner, lease_expires_at, lost_attempts, \
     transcript_events, transcript_truncated, git_head_before, git_head_after, diff_stat, decision, \
     session_mode, session_source_job_id, session_fallback_reason, model, effort, session_host, transcript_error, \
     cache_read_tokens, cache_write_tokens, cost_source, pushed_commit";

/// How many columns [`JOB_COLUMNS`] selects (queries that select more read them after these).
pub const JOB_COLUMN_COUNT: usize = 44;

/// A text column holding one of a model enum's spellings.
struct Parsed<T>(T);

impl<T: FromStr> FromSql for Parsed<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    fn column_result(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        let text = value.as_str()?;
        text.parse().map(Parsed).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

pub fn parsed<T: FromStr>(row: &Row<'_>, index: usize) -> rusqlite::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    row.get::<_, Parsed<T>>(index).map(|p| p.0)
}

fn parsed_opt<T: FromStr>(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    row.get::<_, Option<Parsed<T>>>(index).map(|p| p.map(|p| p.0))
}

pub fn assignment(row: &Row<'_>) -> rusqlite::Result<Assignment> {
    Ok(Assignment {
        id: row.get(0)?,
        namespace: row.get(1)?,
        north_star: row.get(2)?,
        status: parsed(row, 3)?,
        reason: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
        max_jobs: row.get(7)?,
        budget_usd: row.get(8)?,
        cost_usd: row.get(9)?,
        job_count: row.get(10)?,
        base_ref: row.get(11)?,
        branch: row.get(12)?,
        worktree: row.get(13)?,
        host: row.get(14)?,
        base_branch: row.get(15)?,
        base_commit: row.get(16)?,
        context: row.get(17)?,
        merged_commit: row.get(18)?,
        final_head: row.get(19)?,
        activated_at: row.get(20)?,
        pushed_commit: row.get(21)?,
        budget_tokens: row.get(22)?,
        tokens_spent: row.get(23)?,
    })
}

pub fn job(row: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: row.get(0)?,
        assignment_id: row.get(1)?,
        job_type: parsed(row, 2)?,
        harness: row.get(3)?,
        context: row.get(4)?,
        status: parsed(row, 5)?,
        position: row.get(6)?,
        attempts: row.get(7)?,
        max_attempts: row.get(8)?,
        not_before: row.get(9)?,
        created_at: row.get(10)?,
        started_at: row.get(11)?,
        finished_at: row.get(12)?,
        duration_ms: row.get(13)?,
        result: row.get(14)?,
        success: row.get(15)?,
        error: row.get(16)?,
        error_kind: parsed_opt(row, 17)?,
        exit_code: row.get(18)?,
        session_id: row.get(19)?,
        tokens_in: row.get(20)?,
        tokens_out: row.get(21)?,
        cost_usd: row.get(22)?,
        for_job_id: row.get(23)?,
        runner: row.get(24)?,
        lease_expires_at: row.get(25)?,
        lost_attempts: row.get(26)?,
        transcript_events: row.get(27)?,
        transcript_truncated: row.get(28)?,
        git_head_before: row.get(29)?,
        git_head_after: row.get(30)?,
        diff_stat: row.get(31)?,
        decision: row.get(32)?,
        transcript_complete: row.get::<_, Option<String>>(39)?.is_none(),
        transcript_error: row.get(39)?,
        attempt_history: Vec::new(),
        warnings: Vec::new(),
        session_mode: parsed(row, 33)?,
        session_source_job_id: row.get(34)?,
        session_fallback_reason: row.get(35)?,
        model: row.get(36)?,
        effort: row.get(37)?,
        session_host: row.get(38)?,
        cache_read_tokens: row.get(40)?,
        cache_write_tokens: row.get(41)?,
        cost_source: parsed_opt(row, 42)?,
        pushed_commit: row.get(43)?,
    })
}

fn attempt(row: &Row<'_>) -> rusqlite::Result<(String, Attempt)> {
    let outcome: String = row.get(5)?;
    let outcome = AttemptOutcome::parse(&outcome).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, format!("outcome {outcome}").into())
    })?;
    Ok((
        row.get(0)?,
        Attempt {
            n: row.get(1)?,
            runner: row.get(2)?,
            started_at: row.get(3)?,
            finished_at: row.get(4)?,
            outcome,
            error_kind: parsed_opt(row, 6)?,
            error: row.get(7)?,
            prompt_bytes: row.get::<_, Option<i64>>(8)?.and_then(|b| u64::try_from(b).ok()),
            prompt_sha256: row.get(9)?,
            tokens_in: row.get(10)?,
            tokens_out: row.get(11)?,
            cache_read_tokens: row.get(12)?,
            cache_write_tokens: row.get(13)?,
            cost_usd: row.get(14)?,
            cost_source: parsed_opt(row, 15)?,
            model: row.get(16)?,
        },
    ))
}

/// Fills `attempt_history` of each job with one query.
pub fn attach_attempts(conn: &Connection, jobs: &mut [Job]) -> Result<()> {
    // Jobs never started have no attempts: most of a queue's ready jobs.
    let started: Vec<&str> = jobs.iter().filter(|j| j.attempts > 0).map(|j| j.id.as_str()).collect();
    if started.is_empty() {
        return Ok(());
    }
    let ids = serde_json::to_string(&started).map_err(|e| baton_core::Error::database("listing attempts", e))?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT job_id, n, runner, started_at, finished_at, outcome, error_kind, error, prompt_bytes, \
             prompt_sha256, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost_usd, cost_source, \
             model FROM attempts \
             WHERE job_id IN (SELECT value FROM json_each(?1)) ORDER BY job_id, n",
        )
        .ctx("listing attempts")?;
    let rows = stmt.query_map(params![ids], attempt).ctx("listing attempts")?;
    let mut by_job: std::collections::HashMap<String, Vec<Attempt>> = std::collections::HashMap::new();
    for row in rows {
        let (job_id, attempt) = row.ctx("reading an attempt")?;
        by_job.entry(job_id).or_default().push(attempt);
    }
    let mut warnings = conn
        .prepare_cached(
            "SELECT job_id, attempt, at, text FROM job_warnings WHERE job_id IN (SELECT value FROM json_each(?1)) \
             ORDER BY job_id, at, rowid",
        )
        .ctx("listing job warnings")?;
    let mut warnings_by_job: std::collections::HashMap<String, Vec<JobWarning>> = std::collections::HashMap::new();
    let found = warnings
        .query_map(params![ids], |r| {
            Ok((r.get::<_, String>(0)?, JobWarning { attempt: r.get(1)?, at: r.get(2)?, text: r.get(3)? }))
        })
        .ctx("listing job warnings")?;
    for row in found {
        let (job_id, warning) = row.ctx("reading a job warning")?;
        warnings_by_job.entry(job_id).or_default().push(warning);
    }
    for job in jobs {
        if let Some(attempts) = by_job.remove(&job.id) {
            job.attempt_history = attempts;
        }
        if let Some(warnings) = warnings_by_job.remove(&job.id) {
            job.warnings = warnings;
        }
    }
    Ok(())
}

pub fn history(row: &Row<'_>) -> rusqlite::Result<HistoryEntry> {
    Ok(HistoryEntry {
        at: row.get(0)?,
        actor: parsed::<Actor>(row, 1)?,
        action: row.get(2)?,
        reason: row.get(3)?,
        job_id: row.get(4)?,
    })
}

/// Records one history entry.
pub fn record(
    conn: &Connection,
    assignment_id: &str,
    job_id: Option<&str>,
    at: i64,
    actor: &Actor,
    action: &str,
    reason: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO history (assignment_id, job_id, at, actor, action, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| s.execute(params![assignment_id, job_id, at, actor.to_string(), action, reason]))
    .ctx("recording history")?;
    Ok(())
}
