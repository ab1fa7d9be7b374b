//! What follows a job reaching `complete` or `failed`, decided once for every backend: the PM
//! shadow job after every finished non-PM job, and a block when a PM job ended with nothing
//! decided and nothing queued — so nothing is ever left silently stalled.

use super::attempt_end::pm_undecided_reason;
use super::decision::undecided_with_queued_job;
use crate::lifecycle;
use crate::model::{Assignment, AssignmentStatus, Job, JobStatus, JobType};
use crate::store::{JobDefaults, NewJob};

/// What the backend does after a job's final attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum AfterFinal {
    Nothing,
    /// Insert this job (the PM job, placed right after the one that ended).
    QueuePm(NewJob),
    /// Block the (active) assignment with this reason.
    Block(String),
    /// A PM job ended without deciding: its chain line becomes `no decision`. With a job already
    /// queued, that job runs next and `note` goes in the history; otherwise (`block`) the
    /// assignment is blocked with `note` as the reason.
    Undecided {
        note: String,
        block: bool,
    },
}

/// The inputs, read in the transaction that made the job final.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FinalState<'a> {
    /// The job as it now stands (`complete` or `failed`).
    pub job: &'a Job,
    pub assignment: &'a Assignment,
    /// Jobs of the assignment still `pending`.
    pub pending_jobs: u32,
}

/// Decides what follows a job that reached `complete` or `failed`.
pub fn after_final(state: FinalState<'_>, pm: &JobDefaults) -> AfterFinal {
    let FinalState { job, assignment, pending_jobs } = state;
    if assignment.status.is_final() || !matches!(job.status, JobStatus::Complete | JobStatus::Failed) {
        return AfterFinal::Nothing;
    }
    if job.job_type != JobType::Pm {
        // A spent budget blocks at once, with its figures: the PM would spend more of it. A
        // resume with the budget raised queues the PM then.
        if assignment.status == AssignmentStatus::Active {
            if let Some(reason) = super::claim::budget_reached(assignment) {
                return AfterFinal::Block(reason);
            }
        }
        // An assignment blocked meanwhile still gets its PM: it runs once a person resumes it.
        if lifecycle::check_insert(assignment).is_err() {
            return if assignment.status == AssignmentStatus::Active {
                AfterFinal::Block(lifecycle::job_limit_reason(assignment.max_jobs))
            } else {
                AfterFinal::Nothing
            };
        }
        return AfterFinal::QueuePm(pm_job_for(job, pm));
    }
    if job.decision.is_some() || assignment.status != AssignmentStatus::Active {
        return AfterFinal::Nothing;
    }
    if pending_jobs > 0 {
        return AfterFinal::Undecided { note: undecided_with_queued_job(&job.id), block: false };
    }
    AfterFinal::Undecided { note: pm_undecided_reason(&job.id, job.status, job.error.as_deref()), block: true }
}

/// The PM job that decides what follows `job`: placed right after it, naming it.
pub(crate) fn pm_job_for(job: &Job, pm: &JobDefaults) -> NewJob {
    NewJob {
        job_type: JobType::Pm,
        harness: pm.pm_harness.clone(),
        context: String::new(),
        max_attempts: pm.max_attempts,
        after: Some(job.id.clone()),
        for_job_id: Some(job.id.clone()),
        session: None,
        model: None,
        effort: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::{assignment, job};

    const PM: fn() -> JobDefaults =
        || JobDefaults { pm_harness: "claude".into(), max_attempts: 2, host_gone_ms: 600_000 };

    #[test]
    fn a_finished_job_gets_its_pm_right_after_it() {
        let a = assignment(AssignmentStatus::Active, 1);
        for status in [JobStatus::Complete, JobStatus::Failed] {
            let j = job("j1", JobType::Implement, status);
            let AfterFinal::QueuePm(pm) = after_final(FinalState { job: &j, assignment: &a, pending_jobs: 0 }, &PM())
            else {
                panic!("expected a PM job");
            };
            assert_eq!(
                (pm.job_type, pm.after.as_deref(), pm.for_job_id.as_deref()),
                (JobType::Pm, Some("j1"), Some("j1"))
            );
            assert_eq!((pm.harness.as_str(), pm.max_attempts), ("claude", 2));
        }
    }

    #[test]
    fn the_job_limit_blocks_instead_of_queueing_a_pm() {
        let a = assignment(AssignmentStatus::Active, 5);
        let j = job("j1", JobType::Implement, JobStatus::Complete);
        let plan = after_final(FinalState { job: &j, assignment: &a, pending_jobs: 0 }, &PM());
        assert_eq!(plan, AfterFinal::Block("job limit 5 reached".into()));
    }

    #[test]
    fn a_spent_budget_blocks_with_its_figures_instead_of_queueing_a_pm() {
        let mut a = assignment(AssignmentStatus::Active, 1);
        a.budget_tokens = Some(1_000);
        a.tokens_spent = Some(1_500);
        let j = job("j1", JobType::Implement, JobStatus::Failed);
        let AfterFinal::Block(reason) = after_final(FinalState { job: &j, assignment: &a, pending_jobs: 0 }, &PM())
        else {
            panic!("expected a block");
        };
        assert!(reason.starts_with("token budget reached (1500 of 1000"), "{reason}");
    }

    #[test]
    fn a_pm_that_decided_nothing_blocks_unless_work_is_queued() {
        let a = assignment(AssignmentStatus::Active, 2);
        let pm = job("p1", JobType::Pm, JobStatus::Complete);
        let plan = after_final(FinalState { job: &pm, assignment: &a, pending_jobs: 0 }, &PM());
        assert!(matches!(plan, AfterFinal::Undecided { note, block: true } if note.contains("made no decision")));
        let plan = after_final(FinalState { job: &pm, assignment: &a, pending_jobs: 1 }, &PM());
        assert_eq!(
            plan,
            AfterFinal::Undecided {
                note: "the PM job p1 made no decision; the queued job runs next".into(),
                block: false
            }
        );
        let decided = Job { decision: Some("queued review j2".into()), ..pm };
        assert_eq!(
            after_final(FinalState { job: &decided, assignment: &a, pending_jobs: 1 }, &PM()),
            AfterFinal::Nothing
        );
    }

    #[test]
    fn ended_or_blocked_assignments_are_left_alone() {
        let pm = job("p1", JobType::Pm, JobStatus::Failed);
        for status in [AssignmentStatus::Complete, AssignmentStatus::Cancelled, AssignmentStatus::Blocked] {
            let a = assignment(status, 2);
            assert_eq!(
                after_final(FinalState { job: &pm, assignment: &a, pending_jobs: 0 }, &PM()),
                AfterFinal::Nothing
            );
        }
        let done = job("j1", JobType::Implement, JobStatus::Complete);
        let a = assignment(AssignmentStatus::Complete, 2);
        assert_eq!(after_final(FinalState { job: &done, assignment: &a, pending_jobs: 0 }, &PM()), AfterFinal::Nothing);
    }
}
