//! Which assignments sit idle: active, with no job pending or running, so nothing will happen
//! until a person inserts a job or completes it. The watch lists them under "needs you" beside
//! the blocked ones.
//!
//! Derived here from the snapshot until the queue summary carries the rule itself; then
//! [`idle_locally`] gives way to the summary's own list.

use super::snapshot::Snapshot;
use baton_core::{Assignment, AssignmentStatus, JobStatus};

/// What the view says of an idle assignment.
pub(crate) const IDLE_TEXT: &str = "idle: nothing queued — insert a job or complete it";

/// Whether `a` is active with nothing pending or running, as far as the snapshot can tell.
///
/// The queue's lists of next and running jobs are capped; when one is cut, an assignment missing
/// from them may still have a job, so it is not called idle unless its own jobs say so.
pub(crate) fn idle_locally(s: &Snapshot, a: &Assignment) -> bool {
    if a.status != AssignmentStatus::Active || s.current_job(&a.id).is_some() {
        return false;
    }
    let q = &s.queue;
    let lists_whole = q.ready.len() as u64 >= q.ready_total
        && q.waiting.len() as u64 >= q.waiting_total
        && q.running.len() as u64 >= q.jobs.get("running").copied().unwrap_or(0);
    let open_job =
        s.jobs.values().any(|j| j.assignment_id == a.id && matches!(j.status, JobStatus::Pending | JobStatus::Running));
    lists_whole && !open_job
}
