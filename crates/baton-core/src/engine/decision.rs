//! The PM's decision protocol: a PM job makes exactly one decision — queue the next job (placed
//! right after itself), let an already queued job run (`proceed`), or complete, block or cancel
//! the assignment — and the first one wins. The decision is recorded on the PM job as its line in
//! the chain; later decision commands from the same job are refused by [`crate::scope::check`].

use crate::error::{Error, Result};
use crate::model::{Actor, AssignmentStatus, Job, JobType};
use crate::scope::CallerJob;

/// The line a PM job that ended with no decision shows in the chain.
pub const NO_DECISION: &str = "no decision";

/// A decision a PM job made, as its chain line reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision<'a> {
    /// `insert-job` (or `retry-job`): the job queued next.
    Queued { job_type: JobType, job_id: &'a str },
    /// `proceed`: the already queued job runs next.
    Proceeded { job_id: &'a str },
    /// `update-assignment --status …`, with the reason of a block.
    Status { status: AssignmentStatus, reason: Option<&'a str> },
}

impl Decision<'_> {
    /// The chain line: `queued <type> <jid>`, `proceeded: <jid> runs next`, `completed`,
    /// `cancelled` or `blocked: <reason>`.
    pub fn line(&self) -> String {
        match self {
            Decision::Queued { job_type, job_id } => format!("queued {job_type} {job_id}"),
            Decision::Proceeded { job_id } => format!("proceeded: {job_id} runs next"),
            Decision::Status { status: AssignmentStatus::Complete, .. } => "completed".to_string(),
            Decision::Status { status: AssignmentStatus::Cancelled, .. } => "cancelled".to_string(),
            Decision::Status { status: AssignmentStatus::Blocked, reason } => {
                format!("blocked: {}", reason.unwrap_or("no reason given"))
            }
            Decision::Status { status: AssignmentStatus::Active, .. } => "resumed".to_string(),
            // Only a person's resume of a child whose parents are open leads here; no PM runs then.
            Decision::Status { status: AssignmentStatus::Deferred, .. } => "deferred".to_string(),
        }
    }
}

/// The refusal of a PM job's second decision.
pub fn already_decided(job_id: &str, decision: &str) -> Error {
    Error::Scope { refusal: format!("job {job_id} already decided: {decision}; a PM job makes one decision") }
}

/// Where a job inserted by `caller` goes: a PM job's next step runs right after the PM job, so
/// without `--after` it means "after me", and `--after` naming any other job is refused. Other
/// callers keep what they asked for.
pub fn placement(caller: Option<&CallerJob>, after: Option<&str>) -> Result<Option<String>> {
    let Some(pm) = caller.filter(|c| c.job_type == JobType::Pm) else {
        return Ok(after.map(str::to_string));
    };
    match after {
        None => Ok(Some(pm.id.clone())),
        Some(after) if after == pm.id => Ok(Some(pm.id.clone())),
        Some(other) => Err(Error::Scope {
            refusal: format!(
                "a PM job's next step goes right after it: drop --after {other} (job {} places its insert after \
                 itself)",
                pm.id
            ),
        }),
    }
}

/// `proceed` is a PM job's decision: a person's is refused before anything is read.
pub fn check_proceed_caller(actor: &Actor) -> Result<()> {
    match actor {
        Actor::Job { .. } => Ok(()),
        _ => Err(Error::invalid("proceed is a PM job's decision; a queued job runs by itself")),
    }
}

/// A PM's `proceed`, planned: the job that runs next, the decision line recorded on the PM job,
/// and the history action.
pub struct Proceed<'a> {
    pub next: &'a Job,
    pub decision: String,
    pub action: String,
}

/// Plans `proceed` on assignment `aid`, whose first queued job is `next`; refused with nothing queued.
pub fn proceed<'a>(aid: &str, next: Option<&'a Job>) -> Result<Proceed<'a>> {
    let Some(next) = next else {
        return Err(Error::invalid(format!(
            "assignment {aid} has nothing queued to proceed to: queue the next step with baton insert-job, or \
             complete or block the assignment"
        )));
    };
    Ok(Proceed {
        next,
        decision: Decision::Proceeded { job_id: &next.id }.line(),
        action: format!("proceeded: the queued job {} ({}) runs next", next.id, next.job_type),
    })
}

/// What the history says when a PM job ended without deciding while a job was already queued.
pub fn undecided_with_queued_job(pm_job_id: &str) -> String {
    format!("the PM job {pm_job_id} made no decision; the queued job runs next")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::JobStatus;

    fn pm() -> CallerJob {
        CallerJob {
            id: "p1".into(),
            assignment_id: "a1".into(),
            job_type: JobType::Pm,
            status: JobStatus::Running,
            holds_lease: true,
            has_token: true,
            decision: None,
        }
    }

    #[test]
    fn chain_lines() {
        assert_eq!(Decision::Queued { job_type: JobType::Review, job_id: "j2" }.line(), "queued review j2");
        assert_eq!(Decision::Proceeded { job_id: "j2" }.line(), "proceeded: j2 runs next");
        let blocked = Decision::Status { status: AssignmentStatus::Blocked, reason: Some("need a key") };
        assert_eq!(blocked.line(), "blocked: need a key");
        assert_eq!(Decision::Status { status: AssignmentStatus::Complete, reason: None }.line(), "completed");
    }

    #[test]
    fn a_pms_insert_lands_right_after_it() {
        assert_eq!(placement(Some(&pm()), None).unwrap().as_deref(), Some("p1"));
        assert_eq!(placement(Some(&pm()), Some("p1")).unwrap().as_deref(), Some("p1"));
        let err = placement(Some(&pm()), Some("j9")).unwrap_err().to_string();
        assert!(err.contains("drop --after j9"), "{err}");
        assert_eq!(placement(None, Some("j9")).unwrap().as_deref(), Some("j9"));
        let implement = CallerJob { job_type: JobType::Implement, ..pm() };
        assert_eq!(placement(Some(&implement), None).unwrap(), None);
    }
}
