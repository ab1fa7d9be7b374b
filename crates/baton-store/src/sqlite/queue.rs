//! `baton queue`: counts from the trigger-kept counters, and the jobs that matter now.
//!
//! Nothing here grows with the open work it does not print: the ready-rule heads are kept by
//! triggers in `queue_heads` (with their number per namespace in `queue_head_counts`), so the
//! ready and waiting lists are index range scans bounded by [`QUEUE_LIST_CAP`], and the totals
//! are the counter and a count of the heads still backing off.

use super::rows::{self, ASSIGNMENT_COLUMNS, JOB_COLUMNS};
use super::Context;
use baton_core::store::{QueueSummary, QUEUE_LIST_CAP};
use baton_core::time::Millis;
use baton_core::{AssignmentStatus, Job, JobStatus, Result};
use rusqlite::{params, Connection};
use std::collections::{BTreeMap, HashMap};

pub fn summary(conn: &Connection, ns: &str, now: Millis) -> Result<QueueSummary> {
    let mut assignments: BTreeMap<String, u64> =
        AssignmentStatus::ALL.iter().map(|s| (s.as_str().to_string(), 0)).collect();
    let mut jobs: BTreeMap<String, u64> = JobStatus::ALL.iter().map(|s| (s.as_str().to_string(), 0)).collect();
    let counts: Vec<(String, String, u64)> = conn
        .prepare_cached("SELECT entity, status, n FROM status_counts WHERE namespace = ?1")
        .and_then(|mut s| s.query_map(params![ns], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
        .ctx("reading counts")?;
    for (entity, status, n) in counts {
        let target = if entity == "job" { &mut jobs } else { &mut assignments };
        target.insert(status, n);
    }

    let (ready_total, waiting_total) = head_totals(conn, ns, now)?;
    let ready = full_jobs(conn, ns, &listed_heads(conn, ns, now, Backoff::Over)?)?;
    let waiting = full_jobs(conn, ns, &listed_heads(conn, ns, now, Backoff::Waiting)?)?;
    let mut running: Vec<Job> = conn
        .prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE namespace = ?1 AND status = 'running' ORDER BY started_at"
        ))
        .and_then(|mut s| s.query_map(params![ns], rows::job)?.collect())
        .ctx("listing running jobs")?;
    rows::attach_attempts(conn, &mut running)?;
    let blocked = conn
        .prepare_cached(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE namespace = ?1 AND status = 'blocked' \
             ORDER BY updated_at, id LIMIT ?2"
        ))
        .and_then(|mut s| s.query_map(params![ns, QUEUE_LIST_CAP as i64], rows::assignment)?.collect())
        .ctx("listing blocked assignments")?;
    let blocked_total = assignments.get("blocked").copied().unwrap_or(0);
    let runners = super::runners::list(conn, ns, now)?;
    // Where the listed open work runs, for the assignments it belongs to (not all open ones).
    let listed: Vec<&str> = ready.iter().chain(&waiting).chain(&running).map(|j| j.assignment_id.as_str()).collect();
    let listed = serde_json::to_string(&listed).map_err(|e| baton_core::Error::database("listing hosts", e))?;
    let hosts = conn
        .prepare_cached(
            "SELECT id, host FROM assignments WHERE id IN (SELECT value FROM json_each(?1)) AND host IS NOT NULL",
        )
        .and_then(|mut s| s.query_map(params![listed], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .ctx("reading assignments' hosts")?;
    let (idle, idle_total) = super::idle::list(conn, ns)?;
    let sync = super::sync::branches(conn, &listed)?;
    Ok(QueueSummary {
        namespace: ns.to_string(),
        assignments,
        jobs,
        ready,
        ready_total,
        waiting,
        waiting_total,
        running,
        stopping: super::stopping::jobs(conn, ns)?,
        blocked,
        blocked_total,
        idle,
        idle_total,
        runners,
        hosts,
        sync,
    })
}

/// Which side of its back-off a listed head is on.
#[derive(Clone, Copy)]
enum Backoff {
    /// Ready now: no `not_before`, or one that has passed.
    Over,
    /// Still waiting for its `not_before`.
    Waiting,
}

/// How many heads are ready now (their back-off, if any, over).
pub fn ready_total(conn: &Connection, ns: &str, now: Millis) -> Result<u64> {
    head_totals(conn, ns, now).map(|(ready, _)| ready)
}

/// How many heads are ready and how many wait, from the kept counter and the backing-off heads
/// (only those carry a `not_before`, through the partial index `queue_heads_timed`).
fn head_totals(conn: &Connection, ns: &str, now: Millis) -> Result<(u64, u64)> {
    let (all, waiting): (i64, i64) = conn
        .prepare_cached(
            "SELECT (SELECT COALESCE(SUM(n), 0) FROM queue_head_counts WHERE namespace = ?1), \
             (SELECT COUNT(*) FROM queue_heads WHERE namespace = ?1 AND not_before > ?2)",
        )
        .and_then(|mut s| s.query_row(params![ns, now], |r| Ok((r.get(0)?, r.get(1)?))))
        .ctx("counting ready jobs")?;
    let waiting = u64::try_from(waiting).unwrap_or(0);
    Ok((u64::try_from(all).unwrap_or(0).saturating_sub(waiting), waiting))
}

/// The first [`QUEUE_LIST_CAP`] heads on one side of their back-off, oldest assignment first.
fn listed_heads(conn: &Connection, ns: &str, now: Millis, side: Backoff) -> Result<Vec<Head>> {
    let sql = match side {
        Backoff::Over => {
            "SELECT job_id, assignment_id, not_before FROM queue_heads INDEXED BY queue_heads_order \
             WHERE namespace = ?1 AND (not_before IS NULL OR not_before <= ?2) \
             ORDER BY created_at, assignment_id LIMIT ?3"
        }
        Backoff::Waiting => {
            "SELECT job_id, assignment_id, not_before FROM queue_heads \
             WHERE namespace = ?1 AND not_before > ?2 ORDER BY created_at, assignment_id LIMIT ?3"
        }
    };
    conn.prepare_cached(sql)
        .and_then(|mut s| {
            s.query_map(params![ns, now, QUEUE_LIST_CAP as i64], |r| {
                Ok(Head { job_id: r.get(0)?, assignment_id: r.get(1)?, not_before: r.get(2)? })
            })?
            .collect()
        })
        .ctx("listing ready jobs")
}

/// The ready heads (back-off over) after `after` in the queue's order — oldest assignment first
/// — at most `limit`, from the trigger-kept `queue_heads`: what a claim walks, a page at a time,
/// without reading every open job. With the last one's place in that order, to ask for the next
/// page (`None` once the page came back empty).
pub fn ready_heads_after(
    conn: &Connection,
    ns: &str,
    now: Millis,
    after: Option<&HeadKey>,
    limit: usize,
) -> Result<(Vec<Head>, Option<HeadKey>)> {
    let (created_at, assignment_id) = after.map(|k| (k.created_at, k.assignment_id.as_str())).unwrap_or((i64::MIN, ""));
    let rows: Vec<(Head, Millis)> = conn
        .prepare_cached(
            "SELECT job_id, assignment_id, not_before, created_at FROM queue_heads INDEXED BY queue_heads_order \
             WHERE namespace = ?1 AND (created_at, assignment_id) > (?2, ?3) \
             AND (not_before IS NULL OR not_before <= ?4) ORDER BY created_at, assignment_id LIMIT ?5",
        )
        .and_then(|mut s| {
            s.query_map(params![ns, created_at, assignment_id, now, limit as i64], |r| {
                Ok((Head { job_id: r.get(0)?, assignment_id: r.get(1)?, not_before: r.get(2)? }, r.get(3)?))
            })?
            .collect()
        })
        .ctx("listing ready jobs")?;
    let last = rows
        .last()
        .map(|(head, created_at)| HeadKey { created_at: *created_at, assignment_id: head.assignment_id.clone() });
    Ok((rows.into_iter().map(|(head, _)| head).collect(), last))
}

/// Whether any head is kept (ready or backing off).
pub fn any_head(conn: &Connection, ns: &str) -> Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM queue_heads WHERE namespace = ?1)")
        .and_then(|mut s| s.query_row(params![ns], |r| r.get(0)))
        .ctx("looking for ready jobs")
}

/// A head's place in the queue's order.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadKey {
    created_at: Millis,
    assignment_id: String,
}

/// A ready-rule head: the next job of an active assignment with no running job.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub job_id: String,
    pub assignment_id: String,
    pub not_before: Option<Millis>,
}

/// The full rows of some ready-rule heads, in their order. Found through `jobs_open` (the open
/// jobs only, by assignment) rather than the index of every job's id: in a large table that
/// index is deep, and a command's page cache starts cold, so each head would cost a descent
/// through it before the one to its row.
fn full_jobs(conn: &Connection, ns: &str, heads: &[Head]) -> Result<Vec<Job>> {
    if heads.is_empty() {
        return Ok(Vec::new());
    }
    let json = |values: Vec<&str>| {
        serde_json::to_string(&values).map_err(|e| baton_core::Error::database("listing ready jobs", e))
    };
    let assignments_json = json(heads.iter().map(|h| h.assignment_id.as_str()).collect())?;
    let ids_json = json(heads.iter().map(|h| h.job_id.as_str()).collect())?;
    let mut by_id: HashMap<String, Job> = conn
        .prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs INDEXED BY jobs_open \
             WHERE namespace = ?1 AND assignment_id IN (SELECT value FROM json_each(?2)) \
             AND status IN ('pending', 'running') AND id IN (SELECT value FROM json_each(?3))"
        ))
        .and_then(|mut s| {
            s.query_map(params![ns, assignments_json, ids_json], rows::job)?
                .map(|j| j.map(|j| (j.id.clone(), j)))
                .collect()
        })
        .ctx("listing ready jobs")?;
    let mut jobs: Vec<Job> = heads.iter().filter_map(|h| by_id.remove(&h.job_id)).collect();
    rows::attach_attempts(conn, &mut jobs)?;
    Ok(jobs)
}
