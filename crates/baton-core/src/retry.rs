//! What happens to a job after one attempt: complete, retry after a back-off, or fail.
//!
//! Transient failures (rate limits, overloaded servers, dropped connections) are retried until
//! the job's own `max_attempts` runs have started (the value stored on the job, which `baton job`
//! shows as "attempts N of M"; the config's `max_attempts` only seeds new jobs), waiting `retry_base_ms · 2^(n-1)` with jitter between runs.
//! Permanent failures fail at once. A timeout is not retried unless `retry_on_timeout` is set:
//! a job that ran out of time on a half-edited tree is the PM's decision, not a blind re-run.

use crate::model::ErrorKind;
use crate::time::Millis;

/// The longest back-off between two attempts.
pub const MAX_BACKOFF_MS: u64 = 5 * 60 * 1000;

/// The settings that decide retries, besides the job's own `max_attempts`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub retry_base_ms: u64,
    pub retry_on_timeout: bool,
}

/// Where a job goes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Disposition {
    /// The agent succeeded.
    Complete,
    /// No retry: permanent failure, timeout, or attempts used up.
    Failed,
    /// Back to `pending`, not before this instant.
    Retry { not_before: Millis },
}

/// Decides the disposition of charged attempt number `attempt` (1-based) of a job allowed
/// `max_attempts` runs, which ended with `failure` (`None` on success). `jitter` is a random
/// number in `[0, 1)`.
pub fn disposition(
    attempt: u32,
    max_attempts: u32,
    failure: Option<ErrorKind>,
    policy: &RetryPolicy,
    now: Millis,
    jitter: f64,
) -> Disposition {
    let retryable = match failure {
        None => return Disposition::Complete,
        Some(ErrorKind::Transient) => true,
        Some(ErrorKind::Timeout) => policy.retry_on_timeout,
        Some(ErrorKind::Permanent | ErrorKind::Cancelled | ErrorKind::Lost) => false,
    };
    if !retryable || attempt >= max_attempts {
        return Disposition::Failed;
    }
    Disposition::Retry { not_before: now + backoff_ms(attempt, policy.retry_base_ms, jitter) as Millis }
}

/// The wait after attempt `attempt` failed: exponential, capped, with "equal jitter" (half fixed,
/// half random) so that runners retrying a shared rate limit spread out.
pub fn backoff_ms(attempt: u32, base_ms: u64, jitter: f64) -> u64 {
    let exponent = attempt.saturating_sub(1).min(20);
    let full = base_ms.saturating_mul(1u64 << exponent).min(MAX_BACKOFF_MS);
    let half = full / 2;
    half + (half as f64 * jitter.clamp(0.0, 1.0)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy { retry_base_ms: 1000, retry_on_timeout: false };

    #[test]
    fn success_completes() {
        assert_eq!(disposition(1, 3, None, &POLICY, 0, 0.5), Disposition::Complete);
    }

    #[test]
    fn transient_failures_retry_until_attempts_run_out() {
        assert_eq!(
            disposition(1, 3, Some(ErrorKind::Transient), &POLICY, 10, 0.0),
            Disposition::Retry { not_before: 510 }
        );
        assert_eq!(
            disposition(2, 3, Some(ErrorKind::Transient), &POLICY, 10, 1.0),
            Disposition::Retry { not_before: 2010 }
        );
        assert_eq!(disposition(3, 3, Some(ErrorKind::Transient), &POLICY, 10, 0.0), Disposition::Failed);
    }

    #[test]
    fn permanent_failures_and_timeouts_fail_at_once() {
        assert_eq!(disposition(1, 3, Some(ErrorKind::Permanent), &POLICY, 0, 0.0), Disposition::Failed);
        assert_eq!(disposition(1, 3, Some(ErrorKind::Timeout), &POLICY, 0, 0.0), Disposition::Failed);
        let lenient = RetryPolicy { retry_on_timeout: true, ..POLICY };
        assert!(matches!(disposition(1, 3, Some(ErrorKind::Timeout), &lenient, 0, 0.0), Disposition::Retry { .. }));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_ms(1, 2000, 0.0), 1000);
        assert_eq!(backoff_ms(1, 2000, 1.0), 2000);
        assert_eq!(backoff_ms(3, 2000, 1.0), 8000);
        assert_eq!(backoff_ms(30, 2000, 1.0), MAX_BACKOFF_MS);
    }
}
