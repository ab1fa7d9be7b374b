//! A cancelled job whose agent may still be exiting keeps its assignment busy.
//!
//! `cancel-job` on a running job ends it in the store at once, but its agent stops only when the
//! runner holding it notices (a wake-up or its next renewal) and has stopped the whole process
//! tree. Until then the agent can still write in the assignment's worktree. So the cancel keeps
//! the job's lease — the job is *stopping* — and the ready rule counts a stopping job like a
//! running one: the PM queued after the cancel (or any next job) starts only once the runner has
//! confirmed the stop and released the lease, or, when that runner is gone, once the lease ran
//! out. "One job at a time per assignment" then holds for processes, not only for rows.

use crate::model::JobStatus;

/// The history line when the runner confirmed the cancelled job's agent is gone.
pub const STOP_CONFIRMED: &str = "agent stopped after the cancel";

/// The history line when a stopping job's lease ran out before its runner confirmed the stop.
pub const STOP_UNCONFIRMED: &str = "stop not confirmed";

/// Why [`STOP_UNCONFIRMED`]: the runner died or stalled, and the assignment goes on without it.
pub const STOP_UNCONFIRMED_REASON: &str =
    "the lease of the cancelled job ran out before its runner confirmed the agent stopped";

/// Whether a job keeps its assignment busy (the ready rule): it runs, or it was cancelled while
/// running and still holds its lease (`leased`: the runner has not confirmed the stop yet).
pub fn holds_assignment(status: JobStatus, leased: bool) -> bool {
    status == JobStatus::Running || is_stopping(status, leased)
}

/// Whether a job is *stopping*: cancelled, with its runner still stopping the agent.
pub fn is_stopping(status: JobStatus, leased: bool) -> bool {
    status == JobStatus::Cancelled && leased
}

/// Whether cancelling a job that had status `was` keeps its lease until the runner confirms the
/// stop: only a running job has an agent that may still be exiting.
pub fn keeps_lease_on_cancel(was: JobStatus) -> bool {
    was == JobStatus::Running
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_and_stopping_jobs_hold_their_assignment() {
        assert!(holds_assignment(JobStatus::Running, true));
        assert!(holds_assignment(JobStatus::Cancelled, true), "the agent may still be exiting");
        assert!(!holds_assignment(JobStatus::Cancelled, false), "the stop was confirmed or the lease ran out");
        for status in [JobStatus::Pending, JobStatus::Complete, JobStatus::Failed] {
            assert!(!holds_assignment(status, false), "{status}");
        }
    }

    #[test]
    fn only_a_cancelled_job_with_its_lease_is_stopping() {
        assert!(is_stopping(JobStatus::Cancelled, true));
        assert!(!is_stopping(JobStatus::Running, true));
        assert!(!is_stopping(JobStatus::Cancelled, false));
    }

    #[test]
    fn only_a_running_job_keeps_its_lease_when_cancelled() {
        assert!(keeps_lease_on_cancel(JobStatus::Running));
        assert!(!keeps_lease_on_cancel(JobStatus::Pending));
    }
}
