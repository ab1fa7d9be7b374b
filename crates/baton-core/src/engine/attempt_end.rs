//! How an ended attempt settles its job, decided once for every backend: the job's new status,
//! its back-off, the attempt's recorded outcome, and the history line that explains it; the
//! release of an attempt stopped by a graceful shutdown; and the reason an assignment is blocked
//! when its PM decided nothing.

use crate::error::Result;
use crate::lifecycle::JobTransition;
use crate::model::{AttemptOutcome, ErrorKind, JobStatus, JobType};
use crate::retry::{self, Disposition, RetryPolicy};
use crate::time::{human_duration, Millis};

/// What the backend writes for an ended attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement {
    /// `running` → the job's new status.
    pub transition: JobTransition,
    pub not_before: Option<Millis>,
    pub outcome: AttemptOutcome,
    /// The error recorded on the attempt's own row.
    pub attempt_error: Option<String>,
    /// History action and reason.
    pub action: String,
    pub reason: Option<String>,
}

impl Settlement {
    /// The job's status after the attempt.
    pub fn status(&self) -> JobStatus {
        self.transition.to()
    }
}

/// The attempt that ended, as the backend read it in the recording transaction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EndedAttempt<'a> {
    pub job_type: JobType,
    /// The job is a PM whose insert or status change already took effect.
    pub decided: bool,
    /// Runs started so far (for the history line).
    pub attempts: u32,
    /// Runs that count toward `max_attempts` (lost and interrupted ones do not), this one included.
    pub charged: u32,
    /// The job's own limit: the one `baton job` shows as "attempts N of M".
    pub max_attempts: u32,
    /// `None` when the attempt succeeded.
    pub error_kind: Option<ErrorKind>,
    pub error: Option<&'a str>,
}

impl<'a> EndedAttempt<'a> {
    /// The attempt `result` of `job` (as read in the recording transaction): `decided` whether
    /// it is a PM whose decision took effect, `charged` the runs that count toward its limit.
    pub fn of(job: &crate::model::Job, decided: bool, charged: u32, result: &'a crate::store::AttemptResult) -> Self {
        EndedAttempt {
            job_type: job.job_type,
            decided,
            attempts: job.attempts,
            charged,
            max_attempts: job.max_attempts,
            error_kind: result.error_kind,
            error: result.error.as_deref(),
        }
    }
}

/// Settles an attempt; `jitter` is a random number in `[0, 1)` for the back-off.
pub fn settle(ended: &EndedAttempt<'_>, policy: &RetryPolicy, now: Millis, jitter: f64) -> Result<Settlement> {
    let mut disposition = retry::disposition(ended.charged, ended.max_attempts, ended.error_kind, policy, now, jitter);
    // A PM whose decision already took effect is never re-run, however its process ended.
    let decided_anyway = ended.job_type == JobType::Pm && ended.decided && disposition != Disposition::Complete;
    if decided_anyway {
        disposition = Disposition::Complete;
    }
    let kind = ended.error_kind.map_or("unknown", |k| k.as_str());
    let error = ended.error.map(str::to_string);
    let (status, not_before, outcome, action, reason) = match disposition {
        Disposition::Complete if decided_anyway => (
            JobStatus::Complete,
            None,
            AttemptOutcome::Complete,
            "job complete (its decision had already taken effect)".to_string(),
            error.clone(),
        ),
        Disposition::Complete => {
            (JobStatus::Complete, None, AttemptOutcome::Complete, "job complete".to_string(), None)
        }
        Disposition::Failed => {
            (JobStatus::Failed, None, AttemptOutcome::Failed, format!("job failed ({kind})"), error.clone())
        }
        Disposition::Retry { not_before } => (
            JobStatus::Pending,
            Some(not_before),
            AttemptOutcome::Retrying,
            format!("attempt {} failed ({kind}); retry in {}", ended.attempts, human_duration(not_before - now)),
            error.clone(),
        ),
    };
    Ok(Settlement {
        transition: JobTransition::new(JobStatus::Running, status)?,
        not_before,
        outcome,
        attempt_error: error,
        action,
        reason,
    })
}

/// An attempt its runner stopped for a graceful shutdown: back to `pending` at once, the attempt
/// recorded as `interrupted` and not charged against `max_attempts`.
pub fn release() -> Result<Settlement> {
    Ok(Settlement {
        transition: JobTransition::new(JobStatus::Running, JobStatus::Pending)?,
        not_before: None,
        outcome: AttemptOutcome::Interrupted,
        attempt_error: Some("the runner shut down; re-queued".to_string()),
        action: "job interrupted by runner shutdown; re-queued".to_string(),
        reason: None,
    })
}

/// Why an assignment is blocked when its PM job ended with nothing decided and nothing pending.
pub fn pm_undecided_reason(pm_job_id: &str, status: JobStatus, error: Option<&str>) -> String {
    match (status, error) {
        (JobStatus::Failed, Some(error)) => format!("the PM job {pm_job_id} failed without deciding: {error}"),
        (JobStatus::Failed, None) => format!("the PM job {pm_job_id} failed without deciding"),
        _ => format!(
            "the PM job {pm_job_id} made no decision (it neither queued a job nor completed or blocked the assignment)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy { retry_base_ms: 1000, retry_on_timeout: false };

    fn ended(job_type: JobType, decided: bool, charged: u32, kind: Option<ErrorKind>) -> EndedAttempt<'static> {
        EndedAttempt {
            job_type,
            decided,
            attempts: charged,
            charged,
            max_attempts: 2,
            error_kind: kind,
            error: kind.map(|_| "boom"),
        }
    }

    #[test]
    fn outcomes_and_history_lines() {
        let s = settle(&ended(JobType::Implement, false, 1, None), &POLICY, 0, 0.0).unwrap();
        assert_eq!(
            (s.status(), s.outcome, s.action.as_str()),
            (JobStatus::Complete, AttemptOutcome::Complete, "job complete")
        );
        let s = settle(&ended(JobType::Implement, false, 1, Some(ErrorKind::Transient)), &POLICY, 0, 0.0).unwrap();
        assert_eq!((s.status(), s.not_before, s.outcome), (JobStatus::Pending, Some(500), AttemptOutcome::Retrying));
        assert_eq!(s.action, "attempt 1 failed (transient); retry in 500ms");
        let s = settle(&ended(JobType::Implement, false, 2, Some(ErrorKind::Transient)), &POLICY, 0, 0.0).unwrap();
        assert_eq!((s.status(), s.reason.as_deref()), (JobStatus::Failed, Some("boom")));
    }

    #[test]
    fn the_jobs_own_max_attempts_governs_retries() {
        let generous =
            EndedAttempt { max_attempts: 5, ..ended(JobType::Implement, false, 3, Some(ErrorKind::Transient)) };
        assert_eq!(settle(&generous, &POLICY, 0, 0.0).unwrap().status(), JobStatus::Pending);
        let strict =
            EndedAttempt { max_attempts: 1, ..ended(JobType::Implement, false, 1, Some(ErrorKind::Transient)) };
        assert_eq!(settle(&strict, &POLICY, 0, 0.0).unwrap().status(), JobStatus::Failed);
    }

    #[test]
    fn a_decided_pm_completes_whatever_its_exit() {
        let s = settle(&ended(JobType::Pm, true, 1, Some(ErrorKind::Transient)), &POLICY, 0, 0.0).unwrap();
        assert_eq!(s.status(), JobStatus::Complete);
        assert!(s.action.contains("already taken effect"));
        let s = settle(&ended(JobType::Pm, false, 1, Some(ErrorKind::Permanent)), &POLICY, 0, 0.0).unwrap();
        assert_eq!(s.status(), JobStatus::Failed);
    }

    #[test]
    fn a_release_requeues_without_charge() {
        let s = release().unwrap();
        assert_eq!((s.status(), s.outcome, s.not_before), (JobStatus::Pending, AttemptOutcome::Interrupted, None));
    }

    #[test]
    fn undecided_reasons() {
        assert!(pm_undecided_reason("j1", JobStatus::Complete, None).contains("made no decision"));
        assert_eq!(
            pm_undecided_reason("j1", JobStatus::Failed, Some("401")),
            "the PM job j1 failed without deciding: 401"
        );
    }
}
