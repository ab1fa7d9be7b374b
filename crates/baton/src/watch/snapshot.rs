//! What `baton watch` reads on each change: every open assignment, the recent finished ones, the
//! recent and running jobs, and the queue summary. Successive snapshots are diffed for the
//! line-per-change output and drawn for the live view.

use baton_core::store::{AssignmentFilter, JobFilter, QueueSummary};
use baton_core::time::now_ms;
use baton_core::{Assignment, AssignmentStatus, Error, Job, Result, Store};
use std::collections::BTreeMap;

/// Finished assignments read (the live view shows as many as fit, and counts the rest).
pub(crate) const RECENT_FINISHED: usize = 50;
/// Newest jobs read per snapshot (running jobs are always read as well).
const RECENT_JOBS: u32 = 200;

/// The namespace at one instant.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// Open assignments (active, blocked) and the recently finished ones, newest first.
    pub assignments: Vec<Assignment>,
    /// Recent jobs and every running one, by id.
    pub jobs: BTreeMap<String, Job>,
    pub queue: QueueSummary,
}

impl Snapshot {
    /// Reads the namespace. With `prev`, anything open in `prev` that fell out of the recent
    /// windows is read one by one, so its ending is seen rather than lost.
    pub async fn take(store: &dyn Store, ns: &str, prev: Option<&Snapshot>) -> Result<Snapshot> {
        let queue = store.queue(ns, now_ms()).await?;
        let mut assignments =
            store.assignments(ns, &AssignmentFilter { status: Some(AssignmentStatus::Active), limit: None }).await?;
        // Those waiting for their parents (`create --after`) are open work too.
        assignments.extend(
            store.assignments(ns, &AssignmentFilter { status: Some(AssignmentStatus::Deferred), limit: None }).await?,
        );
        assignments.extend(queue.blocked.iter().cloned());
        let window = Some(RECENT_FINISHED as u32 * 2);
        let recent = store.assignments(ns, &AssignmentFilter { status: None, limit: window }).await?;
        assignments.extend(recent.into_iter().filter(|a| a.status.is_final()).take(RECENT_FINISHED));

        let mut jobs: BTreeMap<String, Job> = BTreeMap::new();
        let recent = store.jobs(ns, &JobFilter { status: None, assignment_id: None, limit: Some(RECENT_JOBS) }).await?;
        for job in recent.into_iter().chain(queue.running.iter().cloned()) {
            jobs.insert(job.id.clone(), job);
        }

        if let Some(prev) = prev {
            for a in prev.assignments.iter().filter(|a| !a.status.is_final()) {
                if !assignments.iter().any(|b| b.id == a.id) {
                    if let Some(now) = still_there(store.assignment(ns, &a.id).await)? {
                        assignments.push(now.assignment);
                    }
                }
            }
            for j in prev.jobs.values().filter(|j| !j.status.is_final()) {
                if !jobs.contains_key(&j.id) {
                    if let Some(now) = still_there(store.job(ns, &j.id).await)? {
                        jobs.insert(now.id.clone(), now);
                    }
                }
            }
        }
        assignments.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        Ok(Snapshot { assignments, jobs, queue })
    }

    /// The job an assignment is on: its running job, else its next pending one.
    pub fn current_job(&self, assignment_id: &str) -> Option<&Job> {
        let q = &self.queue;
        q.running.iter().chain(q.ready.iter()).chain(q.waiting.iter()).find(|j| j.assignment_id == assignment_id)
    }
}

/// A row deleted meanwhile is simply gone, not an error.
pub(crate) fn still_there<T>(read: Result<T>) -> Result<Option<T>> {
    match read {
        Ok(v) => Ok(Some(v)),
        Err(Error::AssignmentNotFound { .. } | Error::JobNotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
