//! Where `retry-job` places its copy, decided once for every backend.
//!
//! The chain reads in the order things happened: a retried job's copy goes right after the last
//! job of the chain that is no longer pending (after the PM that blocked over the failure, say),
//! not right after the failed job, where the old PM's decision would read as coming after it.
//! Jobs still pending (planned, not yet run) stay after the copy, which runs first.

use crate::model::{Job, JobStatus};

/// The job the copy is placed after: the last job of `chain` (in chain order) that is not
/// pending. `None` only for a chain with nothing settled, which a retry never has (the retried
/// job itself failed or was cancelled).
pub fn place_after(chain: &[Job]) -> Option<String> {
    let mut ordered: Vec<&Job> = chain.iter().collect();
    ordered.sort_by_key(|j| j.position);
    ordered.iter().rev().find(|j| j.status != JobStatus::Pending).map(|j| j.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::job;
    use crate::model::JobType;

    fn at(id: &str, job_type: JobType, status: JobStatus, position: u32) -> Job {
        Job { position, ..job(id, job_type, status) }
    }

    #[test]
    fn the_copy_goes_after_the_last_settled_job() {
        let chain = vec![
            at("j1", JobType::Implement, JobStatus::Failed, 1),
            at("p1", JobType::Pm, JobStatus::Complete, 2),
            at("j2", JobType::Review, JobStatus::Pending, 3),
        ];
        assert_eq!(place_after(&chain).as_deref(), Some("p1"));
        // Chain order, not the order the rows came in.
        let reversed: Vec<Job> = chain.into_iter().rev().collect();
        assert_eq!(place_after(&reversed).as_deref(), Some("p1"));
        assert_eq!(place_after(&[at("j1", JobType::Plan, JobStatus::Cancelled, 1)]).as_deref(), Some("j1"));
        assert_eq!(place_after(&[at("j1", JobType::Plan, JobStatus::Pending, 1)]), None);
    }
}
