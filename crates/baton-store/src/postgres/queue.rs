//! `baton queue`: counts, and the jobs that matter now.
//!
//! Final statuses are counted by the trigger-kept `status_counts`; open statuses (active,
//! deferred, blocked, pending, running) are counted through the status indexes, which touches only the
//! work in flight. Neither scans the finished jobs a namespace accumulates. The lists are
//! bounded by [`QUEUE_LIST_CAP`] in SQL, with their totals counted beside them, and the whole
//! summary is read in two round trips (see [`summary`]): a CLI call runs each of these
//! statements once, so preparing them would only add round trips.

use super::rows::{self, ASSIGNMENT_COLUMNS, JOB_COLUMNS};
use super::{batch, runners, sync, Context, TxResult};
use baton_core::engine::is_idle;
use baton_core::store::{QueueSummary, QUEUE_LIST_CAP};
use baton_core::time::Millis;
use baton_core::{Assignment, AssignmentStatus, JobStatus};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{FromRow, Row};
use std::collections::BTreeMap;

/// The summary in two round trips: every list in one message ([`batch`]), then the attempts
/// and warnings of the jobs listed and the jobs of the runners listed in a second. Both run in
/// the caller's read snapshot, so the second sees the same data as the first.
pub async fn summary(conn: &mut PgConnection, ns: &str, now: Millis) -> TxResult<QueueSummary> {
    let literals = [batch::text(ns), batch::number(now)];
    let cap = QUEUE_LIST_CAP;
    let heads = listed_heads();
    let due = "(j.not_before IS NULL OR j.not_before <= $2)";
    let statements: Vec<String> = [
        "SELECT 'job', status, COUNT(*) FROM jobs \
           WHERE namespace = $1 AND status IN ('pending', 'running') GROUP BY status \
         UNION ALL \
         SELECT 'assignment', status, COUNT(*) FROM assignments \
           WHERE namespace = $1 AND status IN ('active', 'deferred', 'blocked') GROUP BY status \
         UNION ALL \
         SELECT entity, status, n FROM status_counts WHERE namespace = $1"
            .to_string(),
        // Ready and waiting heads from one pass over the ready rule: the first `cap` of each
        // (oldest assignment first), each row carrying its list's total.
        format!(
            "SELECT * FROM (SELECT j.*, {due} AS due_now, \
               row_number() OVER (PARTITION BY {due} ORDER BY a.created_at, a.id) AS nth, \
               COUNT(*) OVER (PARTITION BY {due}) AS of_total, a.created_at AS a_created, a.id AS a_id \
             FROM {heads}) h WHERE nth <= {cap} ORDER BY a_created, a_id"
        ),
        format!("SELECT {JOB_COLUMNS} FROM jobs WHERE namespace = $1 AND status = 'running' ORDER BY started_at, id"),
        format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE namespace = $1 AND status = 'blocked' \
             ORDER BY updated_at, id LIMIT {cap}"
        ),
        runners::LIST_SQL.to_string(),
        "SELECT id, host FROM assignments WHERE namespace = $1 AND host IS NOT NULL AND status IN ('active', 'blocked')"
            .to_string(),
        format!("SELECT {ASSIGNMENT_COLUMNS} {} ORDER BY updated_at, id LIMIT {cap}", super::idle::idle_from()),
        format!("SELECT COUNT(*) {}", super::idle::idle_from()),
        sync::branches_sql(),
    ]
    .iter()
    .map(|sql| batch::bind(sql, &literals))
    .collect();
    let [counts, heads, running, blocked, runners, hosts, idle, idle_total, sync] =
        <[Vec<PgRow>; 9]>::try_from(batch::run(conn, &statements).await.ctx("reading the queue")?)
            .map_err(|_| sqlx::Error::Protocol("the queue's reads returned too few results".into()))
            .ctx("reading the queue")?;

    let mut assignment_counts: BTreeMap<String, u64> =
        AssignmentStatus::ALL.iter().map(|s| (s.as_str().to_string(), 0)).collect();
    let mut job_counts: BTreeMap<String, u64> = JobStatus::ALL.iter().map(|s| (s.as_str().to_string(), 0)).collect();
    for row in &counts {
        let (entity, status, n): (String, String, i64) = FromRow::from_row(row).ctx("reading counts")?;
        let target = if entity == "job" { &mut job_counts } else { &mut assignment_counts };
        target.insert(status, u64::try_from(n).unwrap_or(0));
    }
    let (mut ready, mut waiting, mut ready_total, mut waiting_total) = (Vec::new(), Vec::new(), 0i64, 0i64);
    for row in &heads {
        let job = rows::job(row).ctx("listing ready jobs")?;
        let (due, total): (bool, i64) =
            (row.try_get("due_now").ctx("listing ready jobs")?, row.try_get("of_total").ctx("listing ready jobs")?);
        if due {
            ready.push(job);
            ready_total = total;
        } else {
            waiting.push(job);
            waiting_total = total;
        }
    }
    let mut running = rows::all(running, rows::job).ctx("listing running jobs")?;
    let blocked = rows::all(blocked, rows::assignment).ctx("listing blocked assignments")?;
    // Counted in the same snapshot by the first statement.
    let blocked_total = assignment_counts.get(AssignmentStatus::Blocked.as_str()).copied().unwrap_or(0);
    let mut runners =
        runners.iter().map(|r| runners::runner(r, now)).collect::<Result<Vec<_>, _>>().ctx("reading a runner")?;
    let hosts = hosts
        .iter()
        .map(FromRow::from_row)
        .collect::<Result<Vec<(String, String)>, _>>()
        .ctx("reading assignments' hosts")?
        .into_iter()
        .collect();
    let idle_total: i64 = match idle_total.first() {
        Some(row) => row.try_get(0).ctx("counting idle assignments")?,
        None => 0,
    };
    let idle: Vec<Assignment> = rows::all(idle, rows::assignment)
        .ctx("listing idle assignments")?
        .into_iter()
        .filter(|a| is_idle(a, 0))
        .collect();
    let sync = sync::branch_rows(&sync)?;

    // The second round trip, for what depends on the first: attempts, warnings, runners' jobs.
    let ids: Vec<String> = ready.iter().chain(&waiting).chain(&running).map(|j| j.id.clone()).collect();
    let runner_ids: Vec<String> = runners.iter().map(|r| r.id.clone()).collect();
    let mut second = Vec::new();
    if !ids.is_empty() {
        let ids = [batch::texts(&ids)];
        second.push(batch::bind(rows::ATTEMPTS_SQL, &ids));
        second.push(batch::bind(rows::WARNINGS_SQL, &ids));
    }
    if !runner_ids.is_empty() {
        second.push(batch::bind(runners::HELD_BY_SQL, &[batch::texts(&runner_ids)]));
    }
    let mut found = if second.is_empty() {
        Vec::new()
    } else {
        batch::run(conn, &second).await.ctx("reading the queue's attempts")?
    }
    .into_iter();
    if !ids.is_empty() {
        let (attempts, warnings) = (found.next().unwrap_or_default(), found.next().unwrap_or_default());
        for jobs in [&mut ready, &mut waiting, &mut running] {
            rows::attach(jobs, &attempts, &warnings)?;
        }
    }
    runners::with_jobs(&mut runners, &found.next().unwrap_or_default())?;

    Ok(QueueSummary {
        namespace: ns.to_string(),
        assignments: assignment_counts,
        jobs: job_counts,
        ready,
        ready_total: u64::try_from(ready_total).unwrap_or(0),
        waiting,
        waiting_total: u64::try_from(waiting_total).unwrap_or(0),
        running,
        stopping: super::stopping::jobs(conn, ns).await?,
        blocked,
        blocked_total,
        idle,
        idle_total: u64::try_from(idle_total).unwrap_or(0),
        runners,
        hosts,
        sync,
    })
}

/// The same heads as [`ready_heads`] (with all job columns), found the other way round for a
/// listing that wants them all: one pass over the namespace's pending jobs keeping each
/// assignment's first, rather than a probe per active assignment, which costs a claim nothing
/// (it stops at the first) but a full listing one index probe per assignment.
fn listed_heads() -> String {
    format!(
        "(SELECT DISTINCT ON (p.assignment_id) {JOB_COLUMNS} FROM jobs p \
           WHERE p.namespace = $1 AND p.status = 'pending' ORDER BY p.assignment_id, p.position) j \
         JOIN assignments a ON a.id = j.assignment_id \
         WHERE a.namespace = $1 AND a.status = 'active' \
           AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.assignment_id = a.id AND r.status = 'running') \
           AND {}",
        super::stopping::NONE_STOPPING
    )
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
