//! What an agent may do from inside a job.
//!
//! A command run with `BATON_JOB_ID` set acts as that job. It may read anything in its
//! namespace, but it may change only its own assignment, only while its claim holds (the fencing
//! token in `BATON_JOB_TOKEN` is checked in the same transaction as the change), and only as its
//! type allows: changing the assignment's status is the PM's decision — an implement agent
//! marking its own work complete would skip the quality gate baton exists for. Agents never
//! queue PM jobs (the engine does, after every job), never raise guards, never create
//! assignments and never start runners.
//!
//! This guards against agents' mistakes, not against a hostile agent: an agent with a shell can
//! unset the variables or open the database directly. It is not a security boundary.

use crate::error::{Error, Result};
use crate::model::{JobStatus, JobType};

/// The job an agent's command acts as, as the store found it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallerJob {
    pub id: String,
    pub assignment_id: String,
    pub job_type: JobType,
    pub status: JobStatus,
    /// The caller's token matches the job's current lease.
    pub holds_lease: bool,
    /// The caller presented a token at all.
    pub has_token: bool,
    /// On a PM job: the decision it already made (its chain line), if any.
    pub decision: Option<String>,
}

/// A change an agent asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mutation<'a> {
    CreateAssignment,
    InsertJob {
        assignment_id: &'a str,
        job_type: JobType,
    },
    ChangeStatus {
        assignment_id: &'a str,
    },
    ChangeGuards {
        assignment_id: &'a str,
    },
    CancelJob {
        assignment_id: &'a str,
    },
    RetryJob {
        assignment_id: &'a str,
        job_type: JobType,
    },
    /// `proceed`: a PM lets the already queued job run.
    Proceed {
        assignment_id: &'a str,
    },
}

impl Mutation<'_> {
    /// Whether this is one of a PM job's decisions (of which it makes exactly one).
    pub fn is_decision(&self) -> bool {
        matches!(
            self,
            Mutation::InsertJob { .. }
                | Mutation::RetryJob { .. }
                | Mutation::ChangeStatus { .. }
                | Mutation::Proceed { .. }
        )
    }
}

fn refuse(refusal: String) -> Error {
    Error::Scope { refusal }
}

/// Whether `caller` may make `mutation`; the error says why not and what to do instead.
pub fn check(caller: &CallerJob, mutation: Mutation<'_>) -> Result<()> {
    let id = &caller.id;
    if !caller.has_token {
        return Err(refuse(format!(
            "BATON_JOB_ID={id} is set without BATON_JOB_TOKEN: changes from inside a job need the token its runner \
             set; a person should unset BATON_JOB_ID"
        )));
    }
    if !caller.holds_lease {
        return Err(refuse(format!(
            "job {id} no longer holds its claim (it is {}): its runner has stopped this agent, and this change was \
             not made",
            caller.status
        )));
    }
    if caller.job_type == JobType::Pm && mutation.is_decision() {
        if let Some(decision) = &caller.decision {
            return Err(crate::engine::decision::already_decided(id, decision));
        }
    }
    let own = |target: &str| -> Result<()> {
        if target == caller.assignment_id {
            Ok(())
        } else {
            Err(refuse(format!("job {id} may change only its own assignment {}, not {target}", caller.assignment_id)))
        }
    };
    match mutation {
        Mutation::CreateAssignment => Err(refuse(format!(
            "job {id} cannot create assignments: a person files them; queue follow-up work in {} instead",
            caller.assignment_id
        ))),
        Mutation::InsertJob { assignment_id, job_type } | Mutation::RetryJob { assignment_id, job_type } => {
            own(assignment_id)?;
            if job_type == JobType::Pm {
                return Err(refuse(format!(
                    "job {id} cannot queue a pm job: baton queues one after every job by itself"
                )));
            }
            Ok(())
        }
        Mutation::ChangeStatus { assignment_id } => {
            own(assignment_id)?;
            if caller.job_type != JobType::Pm {
                return Err(refuse(format!(
                    "only a pm job may change its assignment's status; job {id} is {} job: report the result \
                     and the PM decides",
                    with_article(caller.job_type)
                )));
            }
            Ok(())
        }
        Mutation::ChangeGuards { .. } => {
            Err(refuse(format!("job {id} cannot change the job limit or the budget: only a person raises guards")))
        }
        Mutation::CancelJob { assignment_id } => own(assignment_id),
        Mutation::Proceed { assignment_id } => {
            own(assignment_id)?;
            if caller.job_type != JobType::Pm {
                return Err(refuse(format!(
                    "proceed is a PM job's decision; job {id} is {} job, and a queued job runs by itself",
                    with_article(caller.job_type)
                )));
            }
            Ok(())
        }
    }
}

/// `a plan`, `an implement`, `a uat` (said "you-ay-tee"): the type with the article it is read with.
pub fn with_article(job_type: JobType) -> String {
    let name = job_type.as_str();
    let article = if name.starts_with(['a', 'e', 'i', 'o']) { "an" } else { "a" };
    format!("{article} {name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(job_type: JobType) -> CallerJob {
        CallerJob {
            id: "j1".into(),
            assignment_id: "a1".into(),
            job_type,
            status: JobStatus::Running,
            holds_lease: true,
            has_token: true,
            decision: None,
        }
    }

    #[test]
    fn a_pm_makes_one_decision() {
        let decided = CallerJob { decision: Some("queued review j2".into()), ..caller(JobType::Pm) };
        for m in [
            Mutation::InsertJob { assignment_id: "a1", job_type: JobType::Review },
            Mutation::ChangeStatus { assignment_id: "a1" },
            Mutation::Proceed { assignment_id: "a1" },
        ] {
            let err = check(&decided, m).unwrap_err().to_string();
            assert_eq!(err, "job j1 already decided: queued review j2; a PM job makes one decision");
        }
        assert!(check(&decided, Mutation::CancelJob { assignment_id: "a1" }).is_ok(), "cancel is no decision");
        let err = check(&caller(JobType::Review), Mutation::Proceed { assignment_id: "a1" }).unwrap_err().to_string();
        assert!(err.starts_with("proceed is a PM job's decision"), "{err}");
        let err =
            check(&caller(JobType::Implement), Mutation::ChangeStatus { assignment_id: "a1" }).unwrap_err().to_string();
        assert!(err.contains("job j1 is an implement job"), "{err}");
        assert_eq!(with_article(JobType::Plan), "a plan");
        assert_eq!(with_article(JobType::Uat), "a uat");
    }

    #[test]
    fn a_pm_decides_about_its_own_assignment() {
        let pm = caller(JobType::Pm);
        assert!(check(&pm, Mutation::InsertJob { assignment_id: "a1", job_type: JobType::Review }).is_ok());
        assert!(check(&pm, Mutation::ChangeStatus { assignment_id: "a1" }).is_ok());
        assert!(check(&pm, Mutation::CancelJob { assignment_id: "a1" }).is_ok());
        let other = check(&pm, Mutation::ChangeStatus { assignment_id: "a2" }).unwrap_err().to_string();
        assert!(other.contains("only its own assignment a1"), "{other}");
    }

    #[test]
    fn other_jobs_cannot_change_status_or_queue_pms() {
        let implement = caller(JobType::Implement);
        let err = check(&implement, Mutation::ChangeStatus { assignment_id: "a1" }).unwrap_err().to_string();
        assert!(err.contains("only a pm job"), "{err}");
        assert!(check(&implement, Mutation::InsertJob { assignment_id: "a1", job_type: JobType::Review }).is_ok());
        let err = check(&implement, Mutation::InsertJob { assignment_id: "a1", job_type: JobType::Pm })
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot queue a pm job"), "{err}");
        assert!(check(&implement, Mutation::CreateAssignment).is_err());
        assert!(check(&caller(JobType::Pm), Mutation::ChangeGuards { assignment_id: "a1" }).is_err());
    }

    #[test]
    fn a_stale_or_tokenless_caller_is_refused() {
        let mut stale = caller(JobType::Pm);
        stale.holds_lease = false;
        stale.status = JobStatus::Pending;
        let err = check(&stale, Mutation::ChangeStatus { assignment_id: "a1" }).unwrap_err().to_string();
        assert!(err.contains("no longer holds its claim (it is pending)"), "{err}");
        let mut tokenless = caller(JobType::Pm);
        tokenless.has_token = false;
        assert!(check(&tokenless, Mutation::ChangeStatus { assignment_id: "a1" })
            .unwrap_err()
            .to_string()
            .contains("BATON_JOB_TOKEN"));
    }
}
