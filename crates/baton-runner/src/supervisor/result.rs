//! What an attempt records: the harness's outcome, overridden by why the agent was stopped
//! (a timeout fails the job as such; a shutdown re-queues it without charging the attempt).

use super::SetupError;
use baton_core::store::AttemptResult;
use baton_core::time::human_duration;
use baton_core::ErrorKind;
use baton_harness::{FailureClass, Outcome};
use std::time::Duration;

/// Why the agent was stopped, if it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stopped {
    Timeout,
    LeaseGone,
    Shutdown,
    /// Its running usage reached what was left of a budget (the reason is kept beside it).
    Budget,
}

/// A failure found before the agent could run (template, harness, spawn): permanent.
pub(super) fn setup_failure(error: SetupError) -> AttemptResult {
    failure(ErrorKind::Permanent, error.to_string())
}

/// An attempt that ended before its agent ran, as `kind` with `error`; a `Cancelled` one was
/// stopped by a shutdown and is released, not charged.
pub(super) fn failure(kind: ErrorKind, error: String) -> AttemptResult {
    AttemptResult {
        released: kind == ErrorKind::Cancelled,
        success: Some(false),
        error: Some(error),
        error_kind: Some(kind),
        ..AttemptResult::default()
    }
}

/// The result of an agent that ran; `timeout` is its limit, named in a timeout's message.
pub(super) fn attempt_result(
    outcome: Outcome,
    stopped: Option<Stopped>,
    budget_stop: Option<String>,
    timeout: Duration,
    truncated: bool,
) -> AttemptResult {
    let (error_kind, error) = match stopped {
        // Not retried: the spent budget blocks the assignment when the result is recorded.
        Some(Stopped::Budget) => (Some(ErrorKind::Permanent), budget_stop),
        Some(Stopped::Timeout) => (
            Some(ErrorKind::Timeout),
            Some(format!(
                "timed out after {} (timeout_ms = {}); baton stopped the agent's whole process group",
                human_duration(timeout.as_millis() as i64),
                timeout.as_millis()
            )),
        ),
        Some(Stopped::Shutdown) => (Some(ErrorKind::Cancelled), Some("the runner shut down; re-queued".to_string())),
        _ if outcome.success => (None, None),
        _ => {
            let kind = match outcome.failure {
                Some(FailureClass::Transient) => ErrorKind::Transient,
                _ => ErrorKind::Permanent,
            };
            (Some(kind), outcome.error.clone().or_else(|| Some("the agent failed without saying why".to_string())))
        }
    };
    AttemptResult {
        released: stopped == Some(Stopped::Shutdown),
        result: outcome.result,
        success: Some(outcome.success && stopped.is_none()),
        error,
        error_kind,
        exit_code: outcome.exit_code,
        session_id: outcome.session_id,
        tokens_in: outcome.tokens_in.map(|t| t as i64),
        tokens_out: outcome.tokens_out.map(|t| t as i64),
        cache_read_tokens: outcome.cache_read_tokens.map(|t| t as i64),
        cache_write_tokens: outcome.cache_write_tokens.map(|t| t as i64),
        cost_usd: outcome.cost_usd,
        transcript_truncated: truncated,
        transcript_error: None,
        transcript_tail: Vec::new(),
        git_head_after: None,
        diff_stat: None,
        session_mode: None,
        session_fallback_reason: None,
        session_host: None,
        model: None,
    }
}
