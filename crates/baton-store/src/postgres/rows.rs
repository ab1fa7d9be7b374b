//! Row mapping: the column lists the queries select, how a row becomes a model value, and the
//! history writer every change goes through.
//!
//! Counts and positions are `INTEGER` columns read back as `u32`; PostgreSQL has no unsigned
//! types, so binds go through [`int`].

use super::{pg_text, Context, TxResult};
use baton_core::store::JobWarning;
use baton_core::{Actor, Assignment, Attempt, AttemptOutcome, HistoryEntry, Job};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::Row;
use std::collections::HashMap;
use std::str::FromStr;

/// Columns of `assignments`, as [`assignment`] reads them.
pub const ASSIGNMENT_COLUMNS: &str = "id, namespace, north_star, status, reason, created_at, updated_at, max_jobs, \
     budget_usd, cost_usd, job_count, base_ref, branch, worktree, host, base_branch, base_commit, context, merged_commit, \
     final_head, activated_at, pushed_commit, budget_tokens, tokens_spent";

/// Columns of `jobs`, as [`job`] reads them.
pub const JOB_COLUMNS: &str = "id, assignment_id, type, harness, context, status, position, attempts, max_attempts, \
     not_before, created_at, started_at, finished_at, duration_ms, result, success, error, error_kind, exit_code, \
     session_id, tokens_in, tokens_out, cost_usd, for_job_id, lease_owner, lease_expires_at, lost_attempts, \
     transcript_events, transcript_truncated, git_head_before, git_head_after, diff_stat, decision, \
     session_mode, session_source_job_id, session_fallback_reason, model, effort, session_host, transcript_error, \
     cache_read_tokens, cache_write_tokens, cost_source, pushed_commit";

type RowResult<T> = std::result::Result<T, sqlx::Error>;

fn decode_error(column: &str, source: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: column.to_string(), source: Box::new(source) }
}

/// A text column holding one of a model enum's spellings.
fn parsed<T: FromStr>(row: &PgRow, column: &str) -> RowResult<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = row.try_get(column)?;
    text.parse().map_err(|e| decode_error(column, e))
}

/// A model enum's spelling read on its own, from `column`.
pub fn parse<T: FromStr>(column: &str, text: &str) -> RowResult<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|e| decode_error(column, e))
}

fn parsed_opt<T: FromStr>(row: &PgRow, column: &str) -> RowResult<Option<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| t.parse().map_err(|e| decode_error(column, e))).transpose()
}

/// An `INTEGER` column holding a count, a position or a limit.
fn count(row: &PgRow, column: &str) -> RowResult<u32> {
    let value: i32 = row.try_get(column)?;
    u32::try_from(value).map_err(|e| decode_error(column, e))
}

pub fn assignment(row: &PgRow) -> RowResult<Assignment> {
    Ok(Assignment {
        id: row.try_get("id")?,
        namespace: row.try_get("namespace")?,
        north_star: row.try_get("north_star")?,
        status: parsed(row, "status")?,
        reason: row.try_get("reason")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        max_jobs: count(row, "max_jobs")?,
        budget_usd: row.try_get("budget_usd")?,
        cost_usd: row.try_get("cost_usd")?,
        job_count: count(row, "job_count")?,
        base_ref: row.try_get("base_ref")?,
        branch: row.try_get("branch")?,
        worktree: row.try_get("worktree")?,
        host: row.try_get("host")?,
        base_branch: row.try_get("base_branch")?,
        base_commit: row.try_get("base_commit")?,
        context: row.try_get("context")?,
        merged_commit: row.try_get("merged_commit")?,
        pushed_commit: row.try_get("pushed_commit")?,
        final_head: row.try_get("final_head")?,
        activated_at: row.try_get("activated_at")?,
        budget_tokens: row.try_get("budget_tokens")?,
        tokens_spent: row.try_get("tokens_spent")?,
    })
}

pub fn job(row: &PgRow) -> RowResult<Job> {
    Ok(Job {
        id: row.try_get("id")?,
        assignment_id: row.try_get("assignment_id")?,
        job_type: parsed(row, "type")?,
        harness: row.try_get("harness")?,
        context: row.try_get("context")?,
        status: parsed(row, "status")?,
        position: count(row, "position")?,
        attempts: count(row, "attempts")?,
        max_attempts: count(row, "max_attempts")?,
        not_before: row.try_get("not_before")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        duration_ms: row.try_get("duration_ms")?,
        result: row.try_get("result")?,
        success: row.try_get("success")?,
        error: row.try_get("error")?,
        error_kind: parsed_opt(row, "error_kind")?,
        exit_code: row.try_get("exit_code")?,
        session_id: row.try_get("session_id")?,
        tokens_in: row.try_get("tokens_in")?,
        tokens_out: row.try_get("tokens_out")?,
        cost_usd: row.try_get("cost_usd")?,
        for_job_id: row.try_get("for_job_id")?,
        runner: row.try_get("lease_owner")?,
        lease_expires_at: row.try_get("lease_expires_at")?,
        lost_attempts: count(row, "lost_attempts")?,
        transcript_events: row.try_get("transcript_events")?,
        transcript_truncated: row.try_get("transcript_truncated")?,
        git_head_before: row.try_get("git_head_before")?,
        git_head_after: row.try_get("git_head_after")?,
        diff_stat: row.try_get("diff_stat")?,
        decision: row.try_get("decision")?,
        transcript_complete: row.try_get::<Option<String>, _>("transcript_error")?.is_none(),
        transcript_error: row.try_get("transcript_error")?,
        attempt_history: Vec::new(),
        warnings: Vec::new(),
        session_mode: parsed(row, "session_mode")?,
        session_source_job_id: row.try_get("session_source_job_id")?,
        session_fallback_reason: row.try_get("session_fallback_reason")?,
        model: row.try_get("model")?,
        effort: row.try_get("effort")?,
        session_host: row.try_get("session_host")?,
        cache_read_tokens: row.try_get("cache_read_tokens")?,
        cache_write_tokens: row.try_get("cache_write_tokens")?,
        cost_source: parsed_opt(row, "cost_source")?,
        pushed_commit: row.try_get("pushed_commit")?,
    })
}

fn attempt(row: &PgRow) -> RowResult<(String, Attempt)> {
    let outcome: String = row.try_get("outcome")?;
    let outcome = AttemptOutcome::parse(&outcome).ok_or_else(|| {
        decode_error("outcome", std::io::Error::new(std::io::ErrorKind::InvalidData, format!("outcome {outcome}")))
    })?;
    Ok((
        row.try_get("job_id")?,
        Attempt {
            n: count(row, "n")?,
            runner: row.try_get("runner")?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            outcome,
            error_kind: parsed_opt(row, "error_kind")?,
            error: row.try_get("error")?,
            prompt_bytes: row.try_get::<Option<i64>, _>("prompt_bytes")?.and_then(|b| u64::try_from(b).ok()),
            prompt_sha256: row.try_get("prompt_sha256")?,
            tokens_in: row.try_get("tokens_in")?,
            tokens_out: row.try_get("tokens_out")?,
            cache_read_tokens: row.try_get("cache_read_tokens")?,
            cache_write_tokens: row.try_get("cache_write_tokens")?,
            cost_usd: row.try_get("cost_usd")?,
            cost_source: parsed_opt(row, "cost_source")?,
            model: row.try_get("model")?,
        },
    ))
}

/// A count, position or limit as bound to an `INTEGER` column (saturating: a limit past
/// 2^31 means "no limit" in practice).
pub fn int(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Maps every row with `f`, failing on the first row that does not decode.
pub fn all<T>(rows: Vec<PgRow>, f: fn(&PgRow) -> RowResult<T>) -> RowResult<Vec<T>> {
    rows.iter().map(f).collect()
}

/// The attempts of the jobs whose ids are `$1`, as [`attach`] reads them.
pub const ATTEMPTS_SQL: &str = "SELECT job_id, n, runner, started_at, finished_at, outcome, error_kind, error, \
     prompt_bytes, prompt_sha256, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost_usd, cost_source, \
     model FROM attempts WHERE job_id = ANY($1) ORDER BY job_id, n";

/// The warnings of the jobs whose ids are `$1`, as [`attach`] reads them.
pub const WARNINGS_SQL: &str =
    "SELECT job_id, attempt, at, text FROM job_warnings WHERE job_id = ANY($1) ORDER BY job_id, at, id";

/// Fills `attempt_history` of each job with one query.
pub async fn attach_attempts(conn: &mut PgConnection, jobs: &mut [Job]) -> TxResult<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    let attempts = sqlx::query(ATTEMPTS_SQL).bind(&ids).fetch_all(&mut *conn).await.ctx("listing attempts")?;
    let warnings = sqlx::query(WARNINGS_SQL).bind(&ids).fetch_all(&mut *conn).await.ctx("listing job warnings")?;
    attach(jobs, &attempts, &warnings)
}

/// Fills `attempt_history` and `warnings` of each job from the rows of [`ATTEMPTS_SQL`] and
/// [`WARNINGS_SQL`].
pub fn attach(jobs: &mut [Job], attempts: &[PgRow], warnings: &[PgRow]) -> TxResult<()> {
    let mut by_job: HashMap<String, Vec<Attempt>> = HashMap::new();
    for row in attempts {
        let (job_id, attempt) = attempt(row).ctx("reading an attempt")?;
        by_job.entry(job_id).or_default().push(attempt);
    }
    let mut found: HashMap<String, Vec<JobWarning>> = HashMap::new();
    for row in warnings {
        let (job_id, attempt, at, text): (String, i32, i64, String) =
            sqlx::FromRow::from_row(row).ctx("reading a job warning")?;
        let attempt = u32::try_from(attempt).unwrap_or_default();
        found.entry(job_id).or_default().push(JobWarning { attempt, at, text });
    }
    for job in jobs {
        if let Some(attempts) = by_job.remove(&job.id) {
            job.attempt_history = attempts;
        }
        if let Some(warnings) = found.remove(&job.id) {
            job.warnings = warnings;
        }
    }
    Ok(())
}

pub fn history(row: &PgRow) -> RowResult<HistoryEntry> {
    Ok(HistoryEntry {
        at: row.try_get("at")?,
        actor: parsed::<Actor>(row, "actor")?,
        action: row.try_get("action")?,
        reason: row.try_get("reason")?,
        job_id: row.try_get("job_id")?,
    })
}

/// Records one history entry.
pub async fn record(
    conn: &mut PgConnection,
    assignment_id: &str,
    job_id: Option<&str>,
    at: i64,
    actor: &Actor,
    action: &str,
    reason: Option<&str>,
) -> TxResult<()> {
    sqlx::query(
        "INSERT INTO history (assignment_id, job_id, at, actor, action, reason) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(assignment_id)
    .bind(job_id)
    .bind(at)
    .bind(pg_text(&actor.to_string()))
    .bind(pg_text(action))
    .bind(reason.map(pg_text))
    .execute(conn)
    .await
    .ctx("recording history")?;
    Ok(())
}
