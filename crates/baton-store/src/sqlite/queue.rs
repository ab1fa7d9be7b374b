//! `baton queue`: counts from the trigger-kept counters, and the jobs that matter now.

use super::rows::{self, ASSIGNMENT_COLUMNS, JOB_COLUMNS};
use super::Context;
use baton_core::store::QueueSummary;
use baton_core::time::Millis;
use baton_core::{AssignmentStatus, Job, JobStatus, Result};
use rusqlite::{params, Connection};
use std::collections::BTreeMap;

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

    let next = next_jobs(conn, ns)?;
    let (ready, waiting): (Vec<Job>, Vec<Job>) = next.into_iter().partition(|j| j.not_before.is_none_or(|t| t <= now));
    let mut running: Vec<Job> = conn
        .prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE namespace = ?1 AND status = 'running' ORDER BY started_at"
        ))
        .and_then(|mut s| s.query_map(params![ns], rows::job)?.collect())
        .ctx("listing running jobs")?;
    rows::attach_attempts(conn, &mut running)?;
    let blocked = conn
        .prepare_cached(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE namespace = ?1 AND status = 'blocked' ORDER BY updated_at"
        ))
        .and_then(|mut s| s.query_map(params![ns], rows::assignment)?.collect())
        .ctx("listing blocked assignments")?;
    Ok(QueueSummary { namespace: ns.to_string(), assignments, jobs, ready, waiting, running, blocked })
}

/// The next job of every active assignment that has no running job (the ready rule without the
/// back-off check), oldest assignment first.
pub fn next_jobs(conn: &Connection, ns: &str) -> Result<Vec<Job>> {
    let mut jobs: Vec<Job> = conn
        .prepare_cached(&format!(
            "SELECT {} FROM jobs j JOIN assignments a ON a.id = j.assignment_id \
             WHERE j.namespace = ?1 AND j.status = 'pending' AND a.status = 'active' \
               AND j.position = (SELECT MIN(p.position) FROM jobs p WHERE p.assignment_id = j.assignment_id AND p.status = 'pending') \
               AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.assignment_id = j.assignment_id AND r.status = 'running') \
             ORDER BY a.created_at, a.id",
            JOB_COLUMNS.split(", ").map(|c| format!("j.{}", c.trim())).collect::<Vec<_>>().join(", ")
        ))
        .and_then(|mut s| s.query_map(params![ns], rows::job)?.collect())
        .ctx("listing ready jobs")?;
    rows::attach_attempts(conn, &mut jobs)?;
    Ok(jobs)
}
