//! Job queries and the writes people and agents make to jobs: insert, cancel, retry.
//!
//! Every write here runs with its assignment locked ([`assignments::lock`]): positions are
//! computed from the chain as read, and the job limit from `job_count`, so two concurrent
//! inserts into one assignment must not both read the same chain.

use super::assignments;
use super::rows::{self, JOB_COLUMNS};
use super::{pg_text, scope, Context, TxResult};
use baton_core::engine::decision::{self, Decision};
use baton_core::engine::{self, AfterFinal};
use baton_core::lifecycle;
use baton_core::request::session;
use baton_core::scope::Mutation;
use baton_core::store::{JobDefaults, JobFilter, NewJob};
use baton_core::time::Millis;
use baton_core::{ids, Actor, AssignmentStatus, Error, Job, JobStatus, JobType, Result, SessionMode};
use sqlx::postgres::PgConnection;

fn not_found(ns: &str, id: &str) -> Error {
    Error::JobNotFound { namespace: ns.to_string(), id: id.to_string() }
}

/// Loads one job of a namespace (with its attempts), or says it is not there.
pub async fn get(conn: &mut PgConnection, ns: &str, id: &str) -> TxResult<Job> {
    let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND namespace = $2"))
        .bind(id)
        .bind(ns)
        .fetch_optional(&mut *conn)
        .await
        .ctx("reading a job")?
        .ok_or_else(|| not_found(ns, id))?;
    let mut jobs = [rows::job(&row).ctx("reading a job")?];
    rows::attach_attempts(conn, &mut jobs).await?;
    let [job] = jobs;
    Ok(job)
}

/// The assignment a job of `ns` belongs to (it never changes), to lock before touching the job.
pub async fn assignment_of(conn: &mut PgConnection, ns: &str, id: &str) -> TxResult<String> {
    Ok(sqlx::query_scalar("SELECT assignment_id FROM jobs WHERE id = $1 AND namespace = $2")
        .bind(id)
        .bind(ns)
        .fetch_optional(conn)
        .await
        .ctx("reading a job")?
        .ok_or_else(|| not_found(ns, id))?)
}

/// An assignment's jobs in chain order.
pub async fn chain(conn: &mut PgConnection, assignment_id: &str) -> TxResult<Vec<Job>> {
    let found = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE assignment_id = $1 ORDER BY position"))
        .bind(assignment_id)
        .fetch_all(&mut *conn)
        .await
        .ctx("reading a job chain")?;
    let mut jobs = rows::all(found, rows::job).ctx("reading a job chain")?;
    rows::attach_attempts(conn, &mut jobs).await?;
    Ok(jobs)
}

pub async fn list(conn: &mut PgConnection, ns: &str, filter: &JobFilter) -> TxResult<Vec<Job>> {
    let status = filter.status.map(|s| s.as_str());
    let limit = filter.limit.map(i64::from);
    let found = match &filter.assignment_id {
        Some(aid) => {
            assignments::load(conn, ns, aid).await?;
            sqlx::query(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE assignment_id = $1 AND ($2::text IS NULL OR status = $2) \
                 ORDER BY position LIMIT $3"
            ))
            .bind(aid)
            .bind(status)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await
        }
        None => {
            sqlx::query(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE namespace = $1 AND ($2::text IS NULL OR status = $2) \
                 ORDER BY created_at DESC, id DESC LIMIT $3"
            ))
            .bind(ns)
            .bind(status)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await
        }
    }
    .ctx("listing jobs")?;
    let mut jobs = rows::all(found, rows::job).ctx("listing jobs")?;
    rows::attach_attempts(conn, &mut jobs).await?;
    Ok(jobs)
}

/// Inserts a job after checking the assignment's final status and job limit. A limit refusal
/// blocks the assignment (when active) and comes back as the inner `Err`: the caller commits
/// it. The outer `Err` rolls everything back.
pub async fn insert_guarded(
    conn: &mut PgConnection,
    ns: &str,
    aid: &str,
    new: &NewJob,
    actor: &Actor,
    at: Millis,
) -> TxResult<Result<Job>> {
    let assignment = assignments::lock(conn, ns, aid).await?;
    let caller =
        scope::check(conn, ns, actor, Mutation::InsertJob { assignment_id: aid, job_type: new.job_type }, at).await?;
    let placed = NewJob { after: decision::placement(caller.as_ref(), new.after.as_deref())?, ..new.clone() };
    if let Some(source) = &new.session {
        session::check_source(new, source, aid, &get(conn, ns, &source.job_id).await?)?;
    }
    if let Err(refusal) = lifecycle::check_insert(&assignment) {
        if matches!(refusal, Error::JobLimitReached { .. }) && assignment.status == AssignmentStatus::Active {
            assignments::block(conn, aid, &lifecycle::job_limit_reason(assignment.max_jobs), at).await?;
        }
        return Ok(Err(refusal));
    }
    let job = insert(conn, ns, aid, &placed, actor, at).await?;
    mark_decided(conn, aid, actor, &Decision::Queued { job_type: job.job_type, job_id: &job.id }.line()).await?;
    Ok(Ok(job))
}

/// Inserts a job into the chain without guards (the caller decided it may, and holds the
/// assignment's lock).
pub async fn insert(
    conn: &mut PgConnection,
    ns: &str,
    aid: &str,
    new: &NewJob,
    actor: &Actor,
    at: Millis,
) -> TxResult<Job> {
    new.validate().map_err(Error::from)?;
    let position: i32 = match &new.after {
        Some(after) => {
            let (owner, position): (String, i32) =
                sqlx::query_as("SELECT assignment_id, position FROM jobs WHERE id = $1 AND namespace = $2")
                    .bind(after)
                    .bind(ns)
                    .fetch_optional(&mut *conn)
                    .await
                    .ctx("reading the --after job")?
                    .ok_or_else(|| not_found(ns, after))?;
            if owner != aid {
                return Err(Error::JobNotInAssignment {
                    job_id: after.clone(),
                    expected: aid.to_string(),
                    actual: owner,
                }
                .into());
            }
            sqlx::query("UPDATE jobs SET position = position + 1 WHERE assignment_id = $1 AND position > $2")
                .bind(aid)
                .bind(position)
                .execute(&mut *conn)
                .await
                .ctx("making room in the chain")?;
            position + 1
        }
        None => sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM jobs WHERE assignment_id = $1")
            .bind(aid)
            .fetch_one(&mut *conn)
            .await
            .ctx("reading the chain length")?,
    };
    let id = insert_job_row(conn, ns, aid, position, new, at).await?;
    let action = match &new.after {
        Some(after) => format!("{} job inserted after {after} ({})", new.job_type, new.harness),
        None => format!("{} job queued ({})", new.job_type, new.harness),
    };
    rows::record(conn, aid, Some(&id), at, actor, &action, None).await?;
    touch(conn, aid, at).await?;
    get(conn, ns, &id).await
}

/// Inserts the job row under a fresh id, drawing again while the id is taken (see [`ids`]).
async fn insert_job_row(
    conn: &mut PgConnection,
    ns: &str,
    aid: &str,
    position: i32,
    new: &NewJob,
    at: Millis,
) -> TxResult<String> {
    for _ in 0..ids::MAX_DRAWS {
        let id = ids::new_job_id();
        let stored = sqlx::query(
            "INSERT INTO jobs (id, namespace, assignment_id, position, type, harness, context, status, max_attempts, \
             for_job_id, created_at, session_mode, session_source_job_id, model, effort) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&id)
        .bind(ns)
        .bind(aid)
        .bind(position)
        .bind(new.job_type.as_str())
        .bind(pg_text(&new.harness))
        .bind(pg_text(&new.context))
        .bind(rows::int(new.max_attempts))
        .bind(&new.for_job_id)
        .bind(at)
        .bind(new.session.as_ref().map_or(SessionMode::Fresh, |s| s.mode).as_str())
        .bind(new.session.as_ref().map(|s| s.job_id.as_str()))
        .bind(new.model.as_deref().map(pg_text))
        .bind(new.effort.as_deref().map(pg_text))
        .execute(&mut *conn)
        .await
        .ctx("inserting a job")?;
        if stored.rows_affected() > 0 {
            return Ok(id);
        }
    }
    Err(ids::exhausted("inserting a job").into())
}

/// A PM job that inserted a job or changed its assignment's status has decided: its decision
/// took effect, so it is never re-run and never judged as "made no decision".
pub async fn mark_decided(conn: &mut PgConnection, aid: &str, actor: &Actor, decision: &str) -> TxResult<()> {
    if let Some(job_id) = actor.job_id() {
        sqlx::query(
            "UPDATE jobs SET decided = TRUE, decision = $3 WHERE id = $1 AND assignment_id = $2 AND type = 'pm' \
             AND decision IS NULL",
        )
        .bind(job_id)
        .bind(aid)
        .bind(pg_text(decision))
        .execute(conn)
        .await
        .ctx("recording a PM decision")?;
    }
    Ok(())
}

/// Records `no decision` as the chain line of a PM job that ended without deciding.
pub async fn mark_undecided(conn: &mut PgConnection, job_id: &str) -> TxResult<()> {
    sqlx::query("UPDATE jobs SET decision = $2 WHERE id = $1 AND type = 'pm' AND decision IS NULL")
        .bind(job_id)
        .bind(decision::NO_DECISION)
        .execute(conn)
        .await
        .ctx("recording a PM's missing decision")?;
    Ok(())
}

/// A PM job's `proceed`: the assignment's already queued job runs next, by its decision.
pub async fn proceed(conn: &mut PgConnection, ns: &str, aid: &str, actor: &Actor, at: Millis) -> TxResult<Job> {
    decision::check_proceed_caller(actor)?;
    assignments::lock(conn, ns, aid).await?;
    scope::check(conn, ns, actor, Mutation::Proceed { assignment_id: aid }, at).await?;
    let next: Option<String> = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE assignment_id = $1 AND status = 'pending' ORDER BY position LIMIT 1",
    )
    .bind(aid)
    .fetch_optional(&mut *conn)
    .await
    .ctx("finding the queued job")?;
    let next = match next {
        Some(id) => Some(get(conn, ns, &id).await?),
        None => None,
    };
    let plan = decision::proceed(aid, next.as_ref())?;
    mark_decided(conn, aid, actor, &plan.decision).await?;
    rows::record(conn, aid, Some(&plan.next.id), at, actor, &plan.action, None).await?;
    touch(conn, aid, at).await?;
    Ok(plan.next.clone())
}

async fn touch(conn: &mut PgConnection, aid: &str, at: Millis) -> TxResult<()> {
    sqlx::query("UPDATE assignments SET updated_at = $2 WHERE id = $1")
        .bind(aid)
        .bind(at)
        .execute(conn)
        .await
        .ctx("updating an assignment")?;
    Ok(())
}

/// Cancels one pending or running job; a runner holding it sees its lease gone and stops the agent.
/// What follows is [`engine::after_cancel`]'s: a PM job after a stopped running one — which
/// starts only once that runner confirmed the stop ([`engine::stopping`]).
pub async fn cancel(
    conn: &mut PgConnection,
    ns: &str,
    id: &str,
    defaults: &JobDefaults,
    actor: &Actor,
    at: Millis,
) -> TxResult<Job> {
    let aid = assignment_of(conn, ns, id).await?;
    assignments::lock(conn, ns, &aid).await?;
    let job = get(conn, ns, id).await?;
    scope::check(conn, ns, actor, Mutation::CancelJob { assignment_id: &job.assignment_id }, at).await?;
    lifecycle::check_cancel_job(&job.id, job.status)?;
    mark_cancelled(conn, &job.id, job.status, &format!("cancelled by {actor}"), at).await?;
    rows::record(conn, &job.assignment_id, Some(&job.id), at, actor, "job cancelled", None).await?;
    touch(conn, &job.assignment_id, at).await?;
    let cancelled = get(conn, ns, id).await?;
    let assignment = assignments::load(conn, ns, &job.assignment_id).await?;
    match engine::after_cancel(job.status, &cancelled, &assignment, defaults) {
        AfterFinal::QueuePm(pm) => drop(insert(conn, ns, &assignment.id, &pm, &Actor::Engine, at).await?),
        AfterFinal::Block(reason) => assignments::block(conn, &assignment.id, &reason, at).await?,
        AfterFinal::Nothing | AfterFinal::Undecided { .. } => {}
    }
    Ok(cancelled)
}

/// Cancels every pending and running job of an assignment that ended (its lock is held).
/// The job making the change is spared: a PM completing its assignment finishes normally.
pub async fn cancel_open(conn: &mut PgConnection, aid: &str, why: &str, actor: &Actor, at: Millis) -> TxResult<()> {
    let open: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, status FROM jobs WHERE assignment_id = $1 AND status IN ('pending', 'running') \
         AND id IS DISTINCT FROM $2 ORDER BY position",
    )
    .bind(aid)
    .bind(actor.job_id())
    .fetch_all(&mut *conn)
    .await
    .ctx("listing open jobs")?;
    for (id, status) in open {
        let was: JobStatus = rows::parse("status", &status).ctx("listing open jobs")?;
        mark_cancelled(conn, &id, was, why, at).await?;
        rows::record(conn, aid, Some(&id), at, actor, "job cancelled", Some(why)).await?;
    }
    Ok(())
}

/// Cancels job `id`, which had status `was`. A running job keeps its lease: it is *stopping*
/// until its runner confirms the agent is gone ([`engine::stopping::keeps_lease_on_cancel`]).
async fn mark_cancelled(conn: &mut PgConnection, id: &str, was: JobStatus, why: &str, at: Millis) -> TxResult<()> {
    sqlx::query(
        "UPDATE jobs SET status = 'cancelled', finished_at = $2, error = $3, error_kind = 'cancelled', \
         duration_ms = CASE WHEN status = 'running' THEN $2 - started_at ELSE duration_ms END, not_before = NULL, \
         lease_owner = CASE WHEN $4 THEN lease_owner END, lease_token = CASE WHEN $4 THEN lease_token END, \
         lease_expires_at = CASE WHEN $4 THEN lease_expires_at END \
         WHERE id = $1 AND status IN ('pending', 'running')",
    )
    .bind(id)
    .bind(at)
    .bind(pg_text(why))
    .bind(engine::stopping::keeps_lease_on_cancel(was))
    .execute(&mut *conn)
    .await
    .ctx("cancelling a job")?;
    sqlx::query(
        "UPDATE attempts SET outcome = 'cancelled', finished_at = $2, error_kind = 'cancelled', error = $3 \
         WHERE job_id = $1 AND outcome = 'running'",
    )
    .bind(id)
    .bind(at)
    .bind(pg_text(why))
    .execute(conn)
    .await
    .ctx("closing a cancelled attempt")?;
    Ok(())
}

/// Queues a fresh copy of a failed or cancelled job after the chain's last job that is no longer
/// pending (job limit permitting).
pub async fn retry_guarded(
    conn: &mut PgConnection,
    ns: &str,
    id: &str,
    defaults: &JobDefaults,
    actor: &Actor,
    at: Millis,
) -> TxResult<Result<Job>> {
    // Lock first, so the scope check below sees the caller's lease as it will be at commit.
    let aid = assignment_of(conn, ns, id).await?;
    assignments::lock(conn, ns, &aid).await?;
    let job = get(conn, ns, id).await?;
    let caller = scope::check(
        conn,
        ns,
        actor,
        Mutation::RetryJob { assignment_id: &job.assignment_id, job_type: job.job_type },
        at,
    )
    .await?;
    lifecycle::check_retry_job(&job.id, job.status)?;
    let chain = chain(conn, &job.assignment_id).await?;
    let copy = NewJob::retry_of(&job, &chain, caller.is_some_and(|c| c.job_type == JobType::Pm), defaults);
    let new = match insert_guarded(conn, ns, &job.assignment_id, &copy, actor, at).await? {
        Ok(new) => new,
        Err(refusal) => return Ok(Err(refusal)),
    };
    rows::record(
        conn,
        &job.assignment_id,
        Some(&new.id),
        at,
        actor,
        &format!("job {} retried as {}", job.id, new.id),
        None,
    )
    .await?;
    Ok(Ok(new))
}
