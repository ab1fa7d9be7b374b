//! Job queries and the writes people and agents make to jobs: insert, cancel, retry.

use super::rows::{self, JOB_COLUMNS};
use super::Context;
use super::{assignments, scope};
use baton_core::engine::decision::{self, Decision};
use baton_core::engine::{self, AfterFinal};
use baton_core::lifecycle;
use baton_core::request::session;
use baton_core::scope::Mutation;
use baton_core::store::{JobDefaults, JobFilter, NewJob};
use baton_core::time::Millis;
use baton_core::{ids, Actor, AssignmentStatus, Error, Job, JobStatus, JobType, Result, SessionMode};
use rusqlite::{params, Connection, OptionalExtension};

/// Loads one job of a namespace (with its attempts), or says it is not there.
pub fn get(conn: &Connection, ns: &str, id: &str) -> Result<Job> {
    let job = conn
        .prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1 AND namespace = ?2"))
        .and_then(|mut s| s.query_row(params![id, ns], rows::job).optional())
        .ctx("reading a job")?
        .ok_or_else(|| Error::JobNotFound { namespace: ns.to_string(), id: id.to_string() })?;
    let mut jobs = [job];
    rows::attach_attempts(conn, &mut jobs)?;
    let [job] = jobs;
    Ok(job)
}

/// An assignment's jobs in chain order.
pub fn chain(conn: &Connection, assignment_id: &str) -> Result<Vec<Job>> {
    let mut jobs: Vec<Job> = conn
        .prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE assignment_id = ?1 ORDER BY position"))
        .and_then(|mut s| s.query_map(params![assignment_id], rows::job)?.collect())
        .ctx("reading a job chain")?;
    rows::attach_attempts(conn, &mut jobs)?;
    Ok(jobs)
}

pub fn list(conn: &Connection, ns: &str, filter: &JobFilter) -> Result<Vec<Job>> {
    let status = filter.status.map(|s| s.as_str());
    let limit = filter.limit.map_or(-1, i64::from);
    let mut jobs: Vec<Job> = match &filter.assignment_id {
        Some(aid) => {
            assignments::load(conn, ns, aid)?;
            conn.prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE assignment_id = ?1 AND (?2 IS NULL OR status = ?2) \
                 ORDER BY position LIMIT ?3"
            ))
            .and_then(|mut s| s.query_map(params![aid, status, limit], rows::job)?.collect())
        }
        // One statement per shape, so the planner sees the status and uses its index.
        None => match status {
            Some(status) => conn
                .prepare_cached(&format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE namespace = ?1 AND status = ?2 \
                     ORDER BY created_at DESC, id DESC LIMIT ?3"
                ))
                .and_then(|mut s| s.query_map(params![ns, status, limit], rows::job)?.collect()),
            None => conn
                .prepare_cached(&format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE namespace = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2"
                ))
                .and_then(|mut s| s.query_map(params![ns, limit], rows::job)?.collect()),
        },
    }
    .ctx("listing jobs")?;
    rows::attach_attempts(conn, &mut jobs)?;
    Ok(jobs)
}

/// Inserts a job after checking the assignment's final status and job limit. A limit refusal
/// blocks the assignment (when active) and returns the refusal; the caller commits either way.
pub fn insert_guarded(conn: &Connection, ns: &str, aid: &str, new: &NewJob, actor: &Actor, at: Millis) -> Result<Job> {
    let assignment = assignments::load(conn, ns, aid)?;
    let caller = scope::check(conn, ns, actor, Mutation::InsertJob { assignment_id: aid, job_type: new.job_type }, at)?;
    let placed = NewJob { after: decision::placement(caller.as_ref(), new.after.as_deref())?, ..new.clone() };
    if let Some(source) = &new.session {
        session::check_source(new, source, aid, &get(conn, ns, &source.job_id)?)?;
    }
    if let Err(refusal) = lifecycle::check_insert(&assignment) {
        if matches!(refusal, Error::JobLimitReached { .. }) && assignment.status == AssignmentStatus::Active {
            assignments::block(conn, aid, &lifecycle::job_limit_reason(assignment.max_jobs), at)?;
        }
        return Err(refusal);
    }
    let job = insert(conn, ns, aid, &placed, actor, at)?;
    mark_decided(conn, aid, actor, &Decision::Queued { job_type: job.job_type, job_id: &job.id }.line())?;
    Ok(job)
}

/// Inserts a job into the chain without guards (the caller decided it may).
pub fn insert(conn: &Connection, ns: &str, aid: &str, new: &NewJob, actor: &Actor, at: Millis) -> Result<Job> {
    new.validate()?;
    let position: u32 = match &new.after {
        Some(after) => {
            let (owner, position): (String, u32) = conn
                .prepare_cached("SELECT assignment_id, position FROM jobs WHERE id = ?1 AND namespace = ?2")
                .and_then(|mut s| s.query_row(params![after, ns], |r| Ok((r.get(0)?, r.get(1)?))).optional())
                .ctx("reading the --after job")?
                .ok_or_else(|| Error::JobNotFound { namespace: ns.to_string(), id: after.clone() })?;
            if owner != aid {
                return Err(Error::JobNotInAssignment {
                    job_id: after.clone(),
                    expected: aid.to_string(),
                    actual: owner,
                });
            }
            conn.prepare_cached("UPDATE jobs SET position = position + 1 WHERE assignment_id = ?1 AND position > ?2")
                .and_then(|mut s| s.execute(params![aid, position]))
                .ctx("making room in the chain")?;
            position + 1
        }
        None => conn
            .prepare_cached("SELECT COALESCE(MAX(position), 0) + 1 FROM jobs WHERE assignment_id = ?1")
            .and_then(|mut s| s.query_row(params![aid], |r| r.get(0)))
            .ctx("reading the chain length")?,
    };
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO jobs (id, namespace, assignment_id, position, type, harness, context, status, max_attempts, \
             for_job_id, created_at, session_mode, session_source_job_id, model, effort) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
             ON CONFLICT (id) DO NOTHING",
        )
        .ctx("inserting a job")?;
    let id = ids::insert_unique(ids::new_job_id, "inserting a job", |id| {
        insert
            .execute(params![
                id,
                ns,
                aid,
                position,
                new.job_type.as_str(),
                new.harness,
                new.context,
                new.max_attempts,
                new.for_job_id,
                at,
                new.session.as_ref().map_or(SessionMode::Fresh, |s| s.mode).as_str(),
                new.session.as_ref().map(|s| &s.job_id),
                new.model,
                new.effort
            ])
            .ctx("inserting a job")
    })?;
    drop(insert);
    let action = match &new.after {
        Some(after) => format!("{} job inserted after {after} ({})", new.job_type, new.harness),
        None => format!("{} job queued ({})", new.job_type, new.harness),
    };
    rows::record(conn, aid, Some(&id), at, actor, &action, None)?;
    touch(conn, aid, at)?;
    get(conn, ns, &id)
}

/// A PM job that inserted a job or changed its assignment's status has decided: its decision
/// took effect, so it is never re-run and never judged as "made no decision".
pub fn mark_decided(conn: &Connection, aid: &str, actor: &Actor, decision: &str) -> Result<()> {
    if let Some(job_id) = actor.job_id() {
        conn.prepare_cached(
            "UPDATE jobs SET decided = 1, decision = ?3 WHERE id = ?1 AND assignment_id = ?2 AND type = 'pm' \
             AND decision IS NULL",
        )
        .and_then(|mut s| s.execute(params![job_id, aid, decision]))
        .ctx("recording a PM decision")?;
    }
    Ok(())
}

/// Records `no decision` as the chain line of a PM job that ended without deciding.
pub fn mark_undecided(conn: &Connection, job_id: &str) -> Result<()> {
    conn.prepare_cached("UPDATE jobs SET decision = ?2 WHERE id = ?1 AND type = 'pm' AND decision IS NULL")
        .and_then(|mut s| s.execute(params![job_id, decision::NO_DECISION]))
        .ctx("recording a PM's missing decision")?;
    Ok(())
}

/// A PM job's `proceed`: the assignment's already queued job runs next, by its decision.
pub fn proceed(conn: &Connection, ns: &str, aid: &str, actor: &Actor, at: Millis) -> Result<Job> {
    decision::check_proceed_caller(actor)?;
    assignments::load(conn, ns, aid)?;
    scope::check(conn, ns, actor, Mutation::Proceed { assignment_id: aid }, at)?;
    let next: Option<String> = conn
        .prepare_cached("SELECT id FROM jobs WHERE assignment_id = ?1 AND status = 'pending' ORDER BY position LIMIT 1")
        .and_then(|mut s| s.query_row(params![aid], |r| r.get(0)).optional())
        .ctx("finding the queued job")?;
    let next = next.map(|id| get(conn, ns, &id)).transpose()?;
    let plan = decision::proceed(aid, next.as_ref())?;
    mark_decided(conn, aid, actor, &plan.decision)?;
    rows::record(conn, aid, Some(&plan.next.id), at, actor, &plan.action, None)?;
    touch(conn, aid, at)?;
    Ok(plan.next.clone())
}

fn touch(conn: &Connection, aid: &str, at: Millis) -> Result<()> {
    conn.prepare_cached("UPDATE assignments SET updated_at = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![aid, at]))
        .ctx("updating an assignment")?;
    Ok(())
}

/// Cancels one pending or running job; a runner holding it sees its lease gone and stops the agent.
/// What follows is [`engine::after_cancel`]'s: a PM job after a stopped running one — which
/// starts only once that runner confirmed the stop ([`engine::stopping`]).
pub fn cancel(conn: &Connection, ns: &str, id: &str, defaults: &JobDefaults, actor: &Actor, at: Millis) -> Result<Job> {
    let job = get(conn, ns, id)?;
    scope::check(conn, ns, actor, Mutation::CancelJob { assignment_id: &job.assignment_id }, at)?;
    lifecycle::check_cancel_job(&job.id, job.status)?;
    mark_cancelled(conn, &job.id, job.status, &format!("cancelled by {actor}"), at)?;
    rows::record(conn, &job.assignment_id, Some(&job.id), at, actor, "job cancelled", None)?;
    touch(conn, &job.assignment_id, at)?;
    let cancelled = get(conn, ns, id)?;
    let assignment = assignments::load(conn, ns, &job.assignment_id)?;
    match engine::after_cancel(job.status, &cancelled, &assignment, defaults) {
        AfterFinal::QueuePm(pm) => drop(insert(conn, ns, &assignment.id, &pm, &Actor::Engine, at)?),
        AfterFinal::Block(reason) => assignments::block(conn, &assignment.id, &reason, at)?,
        AfterFinal::Nothing | AfterFinal::Undecided { .. } => {}
    }
    Ok(cancelled)
}

/// Cancels every pending and running job of an assignment that ended.
/// The job making the change is spared: a PM completing its assignment finishes normally.
pub fn cancel_open(conn: &Connection, aid: &str, why: &str, actor: &Actor, at: Millis) -> Result<()> {
    let own_job = actor.job_id();
    let open: Vec<(String, JobStatus)> = conn
        .prepare_cached(
            "SELECT id, status FROM jobs WHERE assignment_id = ?1 AND status IN ('pending', 'running') \
             AND id IS NOT ?2 ORDER BY position",
        )
        .and_then(|mut s| s.query_map(params![aid, own_job], |r| Ok((r.get(0)?, rows::parsed(r, 1)?)))?.collect())
        .ctx("listing open jobs")?;
    for (id, was) in open {
        mark_cancelled(conn, &id, was, why, at)?;
        rows::record(conn, aid, Some(&id), at, actor, "job cancelled", Some(why))?;
    }
    Ok(())
}

/// Cancels job `id`, which had status `was`. A running job keeps its lease: it is *stopping*
/// until its runner confirms the agent is gone ([`engine::stopping::keeps_lease_on_cancel`]).
fn mark_cancelled(conn: &Connection, id: &str, was: JobStatus, why: &str, at: Millis) -> Result<()> {
    let keep_lease = engine::stopping::keeps_lease_on_cancel(was);
    conn.prepare_cached(
        "UPDATE jobs SET status = 'cancelled', finished_at = ?2, error = ?3, error_kind = 'cancelled', \
         duration_ms = CASE WHEN status = 'running' THEN ?2 - started_at ELSE duration_ms END, not_before = NULL, \
         lease_owner = CASE WHEN ?4 THEN lease_owner END, lease_token = CASE WHEN ?4 THEN lease_token END, \
         lease_expires_at = CASE WHEN ?4 THEN lease_expires_at END \
         WHERE id = ?1 AND status IN ('pending', 'running')",
    )
    .and_then(|mut s| s.execute(params![id, at, why, keep_lease]))
    .ctx("cancelling a job")?;
    conn.prepare_cached(
        "UPDATE attempts SET outcome = 'cancelled', finished_at = ?2, error_kind = 'cancelled', error = ?3 \
         WHERE job_id = ?1 AND outcome = 'running'",
    )
    .and_then(|mut s| s.execute(params![id, at, why]))
    .ctx("closing a cancelled attempt")?;
    Ok(())
}

/// Queues a fresh copy of a failed or cancelled job after the chain's last job that is no longer
/// pending (job limit permitting).
pub fn retry_guarded(
    conn: &Connection,
    ns: &str,
    id: &str,
    defaults: &JobDefaults,
    actor: &Actor,
    at: Millis,
) -> Result<Job> {
    let job = get(conn, ns, id)?;
    let caller = scope::check(
        conn,
        ns,
        actor,
        Mutation::RetryJob { assignment_id: &job.assignment_id, job_type: job.job_type },
        at,
    )?;
    lifecycle::check_retry_job(&job.id, job.status)?;
    let copy = NewJob::retry_of(
        &job,
        &chain(conn, &job.assignment_id)?,
        caller.is_some_and(|c| c.job_type == JobType::Pm),
        defaults,
    );
    let new = insert_guarded(conn, ns, &job.assignment_id, &copy, actor, at)?;
    rows::record(
        conn,
        &job.assignment_id,
        Some(&new.id),
        at,
        actor,
        &format!("job {} retried as {}", job.id, new.id),
        None,
    )?;
    Ok(new)
}
