//! What happens to a running job whose lease expired (its runner died or stalled), decided once
//! for every backend:
//! - a PM job whose decision already took effect is complete — a decided PM is never re-run;
//! - a job of an assignment that ended meanwhile is cancelled;
//! - past `max_lost_leases` the job fails (and its PM decides);
//! - otherwise it goes back to `pending` for any runner, the attempt recorded as lost.

use crate::error::Result;
use crate::lifecycle::JobTransition;
use crate::model::{AssignmentStatus, ErrorKind, JobStatus, JobType};

/// The inputs, read under the job's and assignment's locks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LostLease<'a> {
    pub job_type: JobType,
    /// The job is a PM whose insert or status change already took effect.
    pub decided: bool,
    /// Leases this job lost before this one.
    pub lost_before: u32,
    /// The runner that held it.
    pub owner: Option<&'a str>,
    pub assignment_status: AssignmentStatus,
    pub max_lost_leases: u32,
}

/// What the backend writes for a lost lease.
#[derive(Debug, Clone, PartialEq)]
pub struct LostPlan {
    /// `running` → the job's new status.
    pub transition: JobTransition,
    /// The job's `lost_attempts` after this one.
    pub lost_attempts: u32,
    /// The error on the lost attempt's row.
    pub attempt_error: String,
    /// On a job this plan ends: its error and error kind.
    pub job_error: Option<(String, ErrorKind)>,
    /// History action and reason.
    pub action: String,
    pub reason: String,
}

impl LostPlan {
    pub fn status(&self) -> JobStatus {
        self.transition.to()
    }
}

/// Settles one expired lease.
pub fn settle_lost(lost: &LostLease<'_>) -> Result<LostPlan> {
    let count = lost.lost_before + 1;
    let owner = lost.owner.unwrap_or("unknown");
    let why = format!("runner {owner} stopped renewing its lease (lost {count} of {} allowed)", lost.max_lost_leases);
    let (status, error, action) = if lost.job_type == JobType::Pm && lost.decided {
        (
            JobStatus::Complete,
            Some((format!("{why}; its decision had already taken effect"), ErrorKind::Lost)),
            "job complete (runner lost after the PM decided)",
        )
    } else if lost.assignment_status.is_final() {
        (
            JobStatus::Cancelled,
            Some((format!("{why}; its assignment had ended"), ErrorKind::Cancelled)),
            "job cancelled",
        )
    } else if count >= lost.max_lost_leases {
        let error = format!(
            "the job's runner was lost {count} times (max_lost_leases = {}); the job may be crashing its runner",
            lost.max_lost_leases
        );
        (JobStatus::Failed, Some((error, ErrorKind::Lost)), "job failed")
    } else {
        (JobStatus::Pending, None, "lease lost; job re-queued")
    };
    let reason = error.as_ref().map_or_else(|| why.clone(), |(e, _)| e.clone());
    Ok(LostPlan {
        transition: JobTransition::new(JobStatus::Running, status)?,
        lost_attempts: count,
        attempt_error: why,
        job_error: error,
        action: action.to_string(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lost(job_type: JobType, decided: bool, lost_before: u32, assignment: AssignmentStatus) -> LostLease<'static> {
        LostLease {
            job_type,
            decided,
            lost_before,
            owner: Some("r1"),
            assignment_status: assignment,
            max_lost_leases: 3,
        }
    }

    #[test]
    fn a_lost_job_is_requeued_until_the_limit() {
        let plan = settle_lost(&lost(JobType::Implement, false, 0, AssignmentStatus::Active)).unwrap();
        assert_eq!((plan.status(), plan.lost_attempts, plan.job_error.is_none()), (JobStatus::Pending, 1, true));
        assert_eq!(plan.reason, "runner r1 stopped renewing its lease (lost 1 of 3 allowed)");
        let plan = settle_lost(&lost(JobType::Implement, false, 2, AssignmentStatus::Active)).unwrap();
        assert_eq!(plan.status(), JobStatus::Failed);
        assert!(plan.reason.contains("lost 3 times"), "{}", plan.reason);
    }

    #[test]
    fn a_decided_pm_counts_complete_and_an_ended_assignment_cancels() {
        let plan = settle_lost(&lost(JobType::Pm, true, 0, AssignmentStatus::Active)).unwrap();
        assert_eq!(plan.status(), JobStatus::Complete);
        let plan = settle_lost(&lost(JobType::Pm, false, 0, AssignmentStatus::Active)).unwrap();
        assert_eq!(plan.status(), JobStatus::Pending);
        let plan = settle_lost(&lost(JobType::Review, false, 0, AssignmentStatus::Cancelled)).unwrap();
        assert_eq!((plan.status(), plan.job_error.map(|e| e.1)), (JobStatus::Cancelled, Some(ErrorKind::Cancelled)));
    }
}
