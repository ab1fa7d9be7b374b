//! `baton queue`: counts, and the jobs that matter now.
//!
//! Final statuses are counted by the trigger-kept `status_counts`; open statuses (active,
//! deferred, blocked, pending, running) are counted through the status indexes, which touches only the
//! work in flight. Neither scans the finished jobs a namespace accumulates.

use super::rows::{self, ASSIGNMENT_COLUMNS, JOB_COLUMNS};
use super::{Context, TxResult};
use baton_core::store::{QueueSummary, QUEUE_LIST_CAP};
use baton_core::time::Millis;
use baton_core::{AssignmentStatus, Job, JobStatus};
use sqlx::postgres::PgConnection;
use std::collections::BTreeMap;

pub async fn summary(conn: &mut PgConnection, ns: &str, now: Millis) -> TxResult<QueueSummary> {
    let mut assignments: BTreeMap<String, u64> =
        AssignmentStatus::ALL.iter().map(|s| (s.as_str().to_string(), 0)).collect();
    let mut jobs: BTreeMap<String, u64> = JobStatus::ALL.iter().map(|s| (s.as_str().to_string(), 0)).collect();
    let counts: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT 'job', status, COUNT(*) FROM jobs \
           WHERE namespace = $1 AND status IN ('pending', 'running') GROUP BY status \
         UNION ALL \
         SELECT 'assignment', status, COUNT(*) FROM assignments \
           WHERE namespace = $1 AND status IN ('active', 'deferred', 'blocked') GROUP BY status \
         UNION ALL \
         SELECT entity, status, n FROM status_counts WHERE namespace = $1",
    )
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("reading counts")?;
    for (entity, status, n) in counts {
        let target = if entity == "job" { &mut jobs } else { &mut assignments };
        target.insert(status, u64::try_from(n).unwrap_or(0));
    }

    let next = next_jobs(conn, ns).await?;
    let (mut ready, mut waiting): (Vec<Job>, Vec<Job>) =
        next.into_iter().partition(|j| j.not_before.is_none_or(|t| t <= now));
    let (ready_total, waiting_total) = (ready.len() as u64, waiting.len() as u64);
    ready.truncate(QUEUE_LIST_CAP);
    waiting.truncate(QUEUE_LIST_CAP);
    let found = sqlx::query(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE namespace = $1 AND status = 'running' ORDER BY started_at, id"
    ))
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("listing running jobs")?;
    let mut running = rows::all(found, rows::job).ctx("listing running jobs")?;
    rows::attach_attempts(conn, &mut running).await?;
    let found = sqlx::query(&format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE namespace = $1 AND status = 'blocked' ORDER BY updated_at, id"
    ))
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("listing blocked assignments")?;
    let mut blocked = rows::all(found, rows::assignment).ctx("listing blocked assignments")?;
    let blocked_total = blocked.len() as u64;
    blocked.truncate(QUEUE_LIST_CAP);
    let runners = super::runners::list(conn, ns, now).await?;
    let hosts: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, host FROM assignments WHERE namespace = $1 AND host IS NOT NULL AND status IN ('active', 'blocked')",
    )
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("reading assignments' hosts")?;
    let hosts = hosts.into_iter().collect();
    let (idle, idle_total) = super::idle::list(conn, ns).await?;
    let sync = super::sync::branches(conn, ns).await?;
    Ok(QueueSummary {
        namespace: ns.to_string(),
        assignments,
        jobs,
        ready,
        ready_total,
        waiting,
        waiting_total,
        running,
        stopping: super::stopping::jobs(conn, ns).await?,
        blocked,
        blocked_total,
        idle,
        idle_total,
        runners,
        hosts,
        sync,
    })
}

/// The ready rule without the back-off check, as the `FROM … WHERE` of a query: `a` ranges over
/// the active assignments of namespace `$1` that have no running or stopping job
/// ([`baton_core::engine::stopping::holds_assignment`]), and `j` (with the job
/// columns `columns`) is each one's first pending job in chain order. Callers add conditions
/// with `AND`, and claims add their locking.
///
/// Driven by the assignments in age order (`assignments_by_status`), with two index probes per
/// assignment (`jobs_one_running`, `jobs_open`): a claim that takes the oldest ready assignment
/// stops at the first one, however many jobs are pending behind it.
pub fn ready_heads(columns: &str) -> String {
    format!(
        "assignments a CROSS JOIN LATERAL ( \
           SELECT {columns} FROM jobs p \
           WHERE p.namespace = a.namespace AND p.status = 'pending' AND p.assignment_id = a.id \
           ORDER BY p.position LIMIT 1) j \
         WHERE a.namespace = $1 AND a.status = 'active' \
           AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.assignment_id = a.id AND r.status = 'running') \
           AND {}",
        super::stopping::NONE_STOPPING
    )
}

/// The next job of every active assignment that has no running job, oldest assignment first.
pub async fn next_jobs(conn: &mut PgConnection, ns: &str) -> TxResult<Vec<Job>> {
    let found = sqlx::query(&format!("SELECT j.* FROM {} ORDER BY a.created_at, a.id", ready_heads(JOB_COLUMNS)))
        .bind(ns)
        .fetch_all(&mut *conn)
        .await
        .ctx("listing ready jobs")?;
    let mut jobs = rows::all(found, rows::job).ctx("listing ready jobs")?;
    rows::attach_attempts(conn, &mut jobs).await?;
    Ok(jobs)
}
