//! What follows a cancel-job, decided once for every backend.
//!
//! A person who stops a *running* non-PM job interrupts the work in the middle: the PM decides
//! what happens next (retry it, queue something else, complete, block), as after any job that
//! ended, so the assignment does not sit active with nothing queued. Cancelling a *pending* job
//! only removes it from the plan (what comes after still runs), cancelling a PM job is the
//! person taking that decision away, and the engine's own cancellations (an assignment that
//! completed or was cancelled) end the work on purpose: none of these queues anything.

use super::after_final::{pm_job_for, AfterFinal};
use crate::lifecycle;
use crate::model::{Assignment, AssignmentStatus, Job, JobStatus, JobType};
use crate::store::JobDefaults;

/// Decides what follows cancelling `job`, which had status `was` just before the cancel.
/// Returns [`AfterFinal::QueuePm`], [`AfterFinal::Block`] (the job limit leaves no room for the
/// PM) or [`AfterFinal::Nothing`].
pub fn after_cancel(was: JobStatus, job: &Job, assignment: &Assignment, pm: &JobDefaults) -> AfterFinal {
    if was != JobStatus::Running || job.job_type == JobType::Pm || assignment.status != AssignmentStatus::Active {
        return AfterFinal::Nothing;
    }
    if lifecycle::check_insert(assignment).is_err() {
        return AfterFinal::Block(lifecycle::job_limit_reason(assignment.max_jobs));
    }
    AfterFinal::QueuePm(pm_job_for(job, pm))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::{assignment, job};

    fn pm() -> JobDefaults {
        JobDefaults { pm_harness: "claude".into(), max_attempts: 2, host_gone_ms: 600_000 }
    }

    #[test]
    fn stopping_a_running_job_hands_the_decision_to_a_pm() {
        let a = assignment(AssignmentStatus::Active, 1);
        let j = job("j1", JobType::Implement, JobStatus::Cancelled);
        let AfterFinal::QueuePm(new) = after_cancel(JobStatus::Running, &j, &a, &pm()) else {
            panic!("expected a PM job");
        };
        assert_eq!(
            (new.job_type, new.after.as_deref(), new.for_job_id.as_deref()),
            (JobType::Pm, Some("j1"), Some("j1"))
        );
    }

    #[test]
    fn pending_jobs_pm_jobs_and_inactive_assignments_queue_nothing() {
        let active = assignment(AssignmentStatus::Active, 1);
        let implement = job("j1", JobType::Implement, JobStatus::Cancelled);
        assert_eq!(after_cancel(JobStatus::Pending, &implement, &active, &pm()), AfterFinal::Nothing);
        let pm_job = job("p1", JobType::Pm, JobStatus::Cancelled);
        assert_eq!(after_cancel(JobStatus::Running, &pm_job, &active, &pm()), AfterFinal::Nothing);
        for status in [AssignmentStatus::Blocked, AssignmentStatus::Complete, AssignmentStatus::Cancelled] {
            let a = assignment(status, 1);
            assert_eq!(after_cancel(JobStatus::Running, &implement, &a, &pm()), AfterFinal::Nothing);
        }
    }

    #[test]
    fn no_room_for_the_pm_blocks() {
        let full = assignment(AssignmentStatus::Active, 5);
        let j = job("j1", JobType::Review, JobStatus::Cancelled);
        assert_eq!(after_cancel(JobStatus::Running, &j, &full, &pm()), AfterFinal::Block("job limit 5 reached".into()));
    }
}
