//! Idle assignments: active, with nothing pending, running or being stopped (a cancelled job
//! whose agent is still exiting, [`super::stopping`], is work in flight). No runner will ever pick one up
//! and no PM is coming (an assignment created without `--first`, or whose last job was removed),
//! so it is listed for a person under "needs you" next to the blocked ones.

use crate::model::{Assignment, AssignmentStatus};

/// What a person reads next to an idle assignment, and what to do about it.
pub const IDLE_REASON: &str = "idle: nothing queued — insert a job or complete it";

/// Is `assignment`, with `open_jobs` jobs pending, running or being stopped, idle? Backends select the
/// candidates with the same condition in SQL (an index-friendly `NOT EXISTS`) and keep those this
/// function accepts.
pub fn is_idle(assignment: &Assignment, open_jobs: u64) -> bool {
    assignment.status == AssignmentStatus::Active && open_jobs == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::assignment;

    #[test]
    fn only_active_assignments_without_open_jobs_are_idle() {
        assert!(is_idle(&assignment(AssignmentStatus::Active, 0), 0));
        assert!(!is_idle(&assignment(AssignmentStatus::Active, 2), 1));
        for status in [AssignmentStatus::Blocked, AssignmentStatus::Complete, AssignmentStatus::Cancelled] {
            assert!(!is_idle(&assignment(status, 0), 0), "{status}");
        }
    }
}
