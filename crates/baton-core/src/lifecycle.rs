//! The lifecycle rules of baton, in one place. Backends call these pure functions inside their
//! write transactions and apply the plan they return, so SQLite and PostgreSQL cannot disagree.
//!
//! # Jobs
//!
//! | from      | to          | who                 | when |
//! |-----------|-------------|---------------------|------|
//! | (new)     | `pending`   | person, PM job, engine | `create --first`, `insert-job`, `retry-job`, the PM shadow job, a resume |
//! | `pending` | `running`   | runner              | it claims the assignment's next ready job under a lease |
//! | `running` | `complete`  | runner              | the agent reported success |
//! | `running` | `failed`    | runner              | permanent failure, timeout, or no attempts left |
//! | `running` | `pending`   | runner, engine      | transient failure waiting out its back-off; graceful shutdown (attempt not charged); lost lease (another runner takes it) |
//! | `pending` | `cancelled` | person, PM job, engine | `cancel-job`; its assignment completed or cancelled |
//! | `running` | `cancelled` | person, PM job, engine | as above; the runner holding it stops the agent |
//!
//! `complete`, `failed` and `cancelled` are final: a failed job is re-run by `retry-job`, which
//! queues a fresh copy right after it.
//!
//! # Assignments
//!
//! | from      | to          | who                  | notes |
//! |-----------|-------------|----------------------|-------|
//! | `active`  | `complete`  | person, PM job       | pending jobs are cancelled, a running one stopped |
//! | `active`  | `blocked`   | person, PM job, engine | needs a reason; the engine blocks on guards and on a PM that decided nothing |
//! | `active`  | `cancelled` | person, PM job       | pending jobs are cancelled, a running one stopped |
//! | `blocked` | `active`    | person               | a resume; with nothing pending a `pm` job is queued carrying the person's note |
//! | `blocked` | `complete`  | person, PM job       | as above |
//! | `blocked` | `cancelled` | person, PM job       | as above |
//! | (new)     | `deferred`  | person               | `create --after`: it waits for every parent to complete; its jobs do not run |
//! | `deferred`| `active`    | engine               | its last open parent completed (in that transaction); its branch starts then |
//! | `deferred`| `blocked`   | engine               | a parent was cancelled; the reason names it |
//! | `deferred`| `cancelled` | person               | pending jobs are cancelled |
//! | `blocked` | `deferred`  | person               | a resume while some parent is still open |
//!
//! `complete` and `cancelled` are final: nothing is inserted into them and they never change.
//! Guards: an insert past `max_jobs` is refused and blocks the assignment ("job limit N reached");
//! a resume that a guard would stop at once is refused with the guard and how to raise it.

use crate::engine::deferral::{self, Activation, Parent, Resume};
use crate::error::{Error, Result};
use crate::model::{Assignment, AssignmentStatus, JobStatus};

/// The job table above, as data: every `(from, to)` a job may take.
pub const JOB_TRANSITIONS: [(JobStatus, JobStatus); 6] = {
    use JobStatus::*;
    [
        (Pending, Running),
        (Running, Complete),
        (Running, Failed),
        (Running, Pending),
        (Pending, Cancelled),
        (Running, Cancelled),
    ]
};

/// The assignment table above, as data.
pub const ASSIGNMENT_TRANSITIONS: [(AssignmentStatus, AssignmentStatus); 10] = {
    use AssignmentStatus::*;
    [
        (Active, Complete),
        (Active, Blocked),
        (Active, Cancelled),
        (Blocked, Active),
        (Blocked, Complete),
        (Blocked, Cancelled),
        (Deferred, Active),
        (Deferred, Blocked),
        (Deferred, Cancelled),
        (Blocked, Deferred),
    ]
};

/// May a job move from `from` to `to`?
pub fn job_transition_allowed(from: JobStatus, to: JobStatus) -> bool {
    JOB_TRANSITIONS.contains(&(from, to))
}

/// May an assignment move from `from` to `to`?
pub fn assignment_transition_allowed(from: AssignmentStatus, to: AssignmentStatus) -> bool {
    ASSIGNMENT_TRANSITIONS.contains(&(from, to))
}

/// A job transition the table allows: the engine's plans carry these, so a backend can only be
/// asked to make a move that [`JOB_TRANSITIONS`] lists. Backends write it as
/// `SET status = to WHERE status = from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobTransition {
    from: JobStatus,
    to: JobStatus,
}

impl JobTransition {
    /// The transition `from → to`, or an error when the table forbids it.
    pub fn new(from: JobStatus, to: JobStatus) -> Result<JobTransition> {
        if job_transition_allowed(from, to) {
            Ok(JobTransition { from, to })
        } else {
            Err(Error::ForbiddenJobTransition { from, to })
        }
    }

    pub fn from(self) -> JobStatus {
        self.from
    }

    pub fn to(self) -> JobStatus {
        self.to
    }
}

pub use crate::request::AssignmentUpdate;

/// What the backend must do to apply an [`AssignmentUpdate`], decided by [`plan_assignment_update`].
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentPlan {
    pub status: AssignmentStatus,
    pub reason: Option<String>,
    pub max_jobs: u32,
    pub budget_usd: Option<f64>,
    pub budget_tokens: Option<i64>,
    /// Cancel every pending job and the running one (the assignment ended).
    pub cancel_open_jobs: bool,
    /// Queue a `pm` job with this context (a resume with nothing pending).
    pub queue_pm: Option<String>,
    /// History entries to record, in order: (action, reason).
    pub history: Vec<(String, Option<String>)>,
    /// A resume that starts an assignment created `--after` others for the first time: record
    /// `activated_at` and, when it names one, the ref its branch starts from.
    pub activation: Option<Activation>,
}

/// The state a plan is made from, read inside the write transaction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AssignmentState<'a> {
    pub assignment: &'a Assignment,
    /// Jobs still `pending` (in any chain position).
    pub pending_jobs: u32,
    /// The assignments it was created `--after`, as they stand now.
    pub parents: &'a [Parent],
}

/// Decides what an `update-assignment` does, or why it is refused (nothing is then written).
pub fn plan_assignment_update(state: AssignmentState<'_>, update: &AssignmentUpdate) -> Result<AssignmentPlan> {
    let a = state.assignment;
    update.validate()?;

    let mut plan = AssignmentPlan {
        status: a.status,
        reason: a.reason.clone(),
        max_jobs: update.max_jobs.unwrap_or(a.max_jobs),
        budget_usd: update.budget_usd.or(a.budget_usd),
        budget_tokens: update.budget_tokens.or(a.budget_tokens),
        cancel_open_jobs: false,
        queue_pm: None,
        history: Vec::new(),
        activation: None,
    };

    let guards_changed = update.changes_guards();
    if guards_changed {
        if a.status.is_final() {
            return Err(Error::AssignmentFinal { id: a.id.clone(), status: a.status });
        }
        let mut parts = Vec::new();
        if let Some(max) = update.max_jobs {
            parts.push(format!("max_jobs {} → {max}", a.max_jobs));
        }
        if let Some(budget) = update.budget_usd {
            let old = a.budget_usd.map(|b| format!("${b:.2}")).unwrap_or_else(|| "none".into());
            parts.push(format!("budget {old} → ${budget:.2}"));
        }
        if let Some(budget) = update.budget_tokens {
            let old = a.budget_tokens.map(|b| format!("{b} tokens")).unwrap_or_else(|| "none".into());
            parts.push(format!("token budget {old} → {budget} tokens"));
        }
        plan.history.push((format!("guards changed: {}", parts.join(", ")), None));
    }

    let Some(to) = update.status else {
        return Ok(plan);
    };
    if to == a.status {
        if to == AssignmentStatus::Blocked && update.reason.is_some() {
            // Re-blocking with a new reason only updates the reason.
            plan.reason = update.reason.clone();
            plan.history.push(("reason changed".into(), update.reason.clone()));
            return Ok(plan);
        }
        if guards_changed {
            return Ok(plan);
        }
        return Err(Error::invalid(format!("assignment {} is already {to}", a.id)));
    }
    if a.status.is_final() {
        return Err(Error::AssignmentFinal { id: a.id.clone(), status: a.status });
    }
    if to == AssignmentStatus::Deferred {
        return Err(Error::invalid(format!(
            "assignment {} cannot be set deferred: an assignment waits only when created with --after",
            a.id
        )));
    }
    // The engine alone moves a deferred assignment on (its parents decide); a person may drop it.
    let by_engine_only = a.status == AssignmentStatus::Deferred && to != AssignmentStatus::Cancelled;
    if by_engine_only || !assignment_transition_allowed(a.status, to) {
        return Err(Error::AssignmentTransition {
            id: a.id.clone(),
            from: a.status,
            to,
            hint: if a.status == AssignmentStatus::Deferred {
                "; a deferred assignment starts by itself once every parent is complete (or cancel it)"
            } else {
                "; an active assignment is resumed only from blocked"
            },
        });
    }
    if a.status == AssignmentStatus::Blocked && to == AssignmentStatus::Active {
        match deferral::on_resume(a, state.parents) {
            Resume::Plain => {}
            Resume::Activate(activation) => plan.activation = Some(activation),
            Resume::Defer(waiting) => {
                plan.status = AssignmentStatus::Deferred;
                plan.reason = None;
                let note = match update.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                    Some(note) => format!("{waiting}; note: {note}"),
                    None => waiting,
                };
                plan.history.push((format!("status {} → {}", a.status, plan.status), Some(note)));
                return Ok(plan);
            }
        }
    }

    match to {
        AssignmentStatus::Blocked => {
            // `validate` made sure there is a reason.
            let reason = update.reason.as_deref().map(str::trim).unwrap_or_default();
            plan.reason = Some(reason.to_string());
        }
        AssignmentStatus::Active => {
            plan.reason = None;
            // A spent budget stops the next claim whether that job is queued now or already was.
            check_resume_budget(a, plan.budget_usd)?;
            check_resume_token_budget(a, plan.budget_tokens)?;
            if state.pending_jobs == 0 {
                check_resume_job_limit(a, plan.max_jobs)?;
                plan.queue_pm = Some(resume_pm_context(update.note.as_deref()));
            }
        }
        AssignmentStatus::Complete | AssignmentStatus::Cancelled => {
            plan.reason = None;
            plan.cancel_open_jobs = true;
        }
        // Refused above: only `create --after` and a resume make an assignment wait.
        AssignmentStatus::Deferred => {}
    }
    plan.status = to;
    let note = match to {
        AssignmentStatus::Blocked => plan.reason.clone(),
        AssignmentStatus::Active => update.note.clone(),
        _ => None,
    };
    plan.history.push((format!("status {} → {to}", a.status), note));
    if let Some(activation) = &plan.activation {
        plan.history.push(("activated".into(), Some(activation.history.clone())));
    }
    Ok(plan)
}

/// A resume that queues a PM job must not be refused at once by the job limit.
fn check_resume_job_limit(a: &Assignment, max_jobs: u32) -> Result<()> {
    if a.job_count >= max_jobs {
        return Err(Error::GuardRefusedResume {
            id: a.id.clone(),
            guard: format!("its job limit ({max_jobs}) is reached and a PM job must be queued"),
            flag: format!("--max-jobs {}", suggested_limit(max_jobs)),
        });
    }
    Ok(())
}

/// No resume may leave the budget spent: the next claim would block the assignment again.
fn check_resume_budget(a: &Assignment, budget_usd: Option<f64>) -> Result<()> {
    if let (Some(budget), Some(cost)) = (budget_usd, a.cost_usd) {
        if cost >= budget {
            return Err(Error::GuardRefusedResume {
                id: a.id.clone(),
                guard: format!("its budget ${budget:.2} is reached (${cost:.2} spent)"),
                flag: format!("--budget-usd {:.2}", (budget * 2.0).max(cost + 1.0)),
            });
        }
    }
    Ok(())
}

/// Nor may it leave the token budget spent.
fn check_resume_token_budget(a: &Assignment, budget_tokens: Option<i64>) -> Result<()> {
    if let (Some(budget), Some(spent)) = (budget_tokens, a.tokens_spent) {
        if spent >= budget {
            return Err(Error::GuardRefusedResume {
                id: a.id.clone(),
                guard: format!("its token budget ({budget} tokens) is reached ({spent} spent)"),
                flag: format!("--budget-tokens {}", budget.saturating_mul(2).max(spent.saturating_add(1_000_000))),
            });
        }
    }
    Ok(())
}

/// The context of the PM job a resume queues.
pub fn resume_pm_context(note: Option<&str>) -> String {
    match note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(note) => format!("A person resumed this assignment with this note: {note}"),
        None => "A person resumed this assignment without a note; decide the next step.".to_string(),
    }
}

/// A limit worth suggesting when one is reached: double it, at least ten more.
pub fn suggested_limit(limit: u32) -> u32 {
    limit.saturating_mul(2).max(limit.saturating_add(10))
}

/// Why an insert into this assignment is refused, if it is.
///
/// `Err(JobLimitReached)` means the backend must refuse the insert and block the assignment (when
/// active) with [`job_limit_reason`].
pub fn check_insert(a: &Assignment) -> Result<()> {
    if a.status.is_final() {
        return Err(Error::AssignmentFinal { id: a.id.clone(), status: a.status });
    }
    if a.job_count >= a.max_jobs {
        return Err(Error::JobLimitReached {
            id: a.id.clone(),
            limit: a.max_jobs,
            suggested: suggested_limit(a.max_jobs),
        });
    }
    Ok(())
}

/// The reason an assignment is blocked with when its job limit stops an insert.
pub fn job_limit_reason(limit: u32) -> String {
    format!("job limit {limit} reached")
}

/// The attempt of `job` that `attempt` names (the latest when `None`), or why it has none.
pub fn attempt_number(job: &crate::model::Job, attempt: Option<u32>) -> Result<u32> {
    let n = attempt.unwrap_or(job.attempts);
    if n == 0 || n > job.attempts {
        let has = match job.attempts {
            0 => "it has not started yet".to_string(),
            1 => "it has 1 attempt".to_string(),
            k => format!("it has attempts 1 to {k}"),
        };
        return Err(Error::invalid(format!("job {} has no attempt {n}: {has}", job.id)));
    }
    Ok(n)
}

/// May a person record a merge of this assignment's branch? Only a complete one is merged: its
/// PM judged the work done.
pub fn check_merge(a: &Assignment) -> Result<()> {
    if a.status == AssignmentStatus::Complete {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "assignment {} is {}: only a complete assignment is merged (its PM judged the work done)",
            a.id, a.status
        )))
    }
}

/// Can a person cancel this job? (`pending` or `running`.)
pub fn check_cancel_job(id: &str, status: JobStatus) -> Result<()> {
    if job_transition_allowed(status, JobStatus::Cancelled) {
        Ok(())
    } else {
        Err(Error::JobState { id: id.to_string(), status, hint: "only a pending or running job can be cancelled" })
    }
}

/// Can a person retry this job? (`failed` or `cancelled`: a fresh copy is queued after it.)
pub fn check_retry_job(id: &str, status: JobStatus) -> Result<()> {
    if matches!(status, JobStatus::Failed | JobStatus::Cancelled) {
        Ok(())
    } else {
        Err(Error::JobState {
            id: id.to_string(),
            status,
            hint: "only a failed or cancelled job can be retried (a fresh copy is queued right after it)",
        })
    }
}

#[cfg(test)]
mod tests;
