//! Jobs: one headless agent run each, with everything recorded about its attempts and outcome.

use super::{CostSource, ErrorKind, JobStatus, JobType};
use crate::time::{serde_ms, Millis};
use serde::{Deserialize, Serialize};

/// A job and its outcome; the JSON shape is baton's documented, stable schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub assignment_id: String,
    #[serde(rename = "type")]
    pub job_type: JobType,
    /// The harness that runs it: `claude`, `codex`, `gemini` or one named in config.
    pub harness: String,
    /// Free text handed to the prompt template.
    pub context: String,
    pub status: JobStatus,
    /// Place in its assignment's chain (1-based, dense).
    pub position: u32,
    /// Runs started so far.
    pub attempts: u32,
    /// Total runs allowed, the first included.
    pub max_attempts: u32,
    /// Retry back-off: the job is not started before this instant.
    #[serde(with = "serde_ms::option")]
    pub not_before: Option<Millis>,
    #[serde(with = "serde_ms")]
    pub created_at: Millis,
    #[serde(with = "serde_ms::option")]
    pub started_at: Option<Millis>,
    #[serde(with = "serde_ms::option")]
    pub finished_at: Option<Millis>,
    pub duration_ms: Option<i64>,
    /// The agent's final text.
    pub result: Option<String>,
    pub success: Option<bool>,
    /// A message a person understands.
    pub error: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub exit_code: Option<i32>,
    pub session_id: Option<String>,
    /// Input tokens summed over its attempts (cache reads and writes included); `None` when no
    /// attempt reported any.
    pub tokens_in: Option<i64>,
    /// Output tokens summed over its attempts.
    pub tokens_out: Option<i64>,
    /// Cost summed over its attempts, reported or estimated (see `cost_source`); `None` when
    /// nothing is known — never a made-up 0.
    pub cost_usd: Option<f64>,
    /// On a `pm` job: the job it reviews.
    pub for_job_id: Option<String>,
    /// The runner holding it, while running — and on a cancelled job until that runner confirmed
    /// its agent stopped ([`Job::stopping`]).
    pub runner: Option<String>,
    /// When the current lease runs out, while running or stopping.
    #[serde(with = "serde_ms::option")]
    pub lease_expires_at: Option<Millis>,
    /// Attempts whose runner disappeared (counted apart from agent failures).
    pub lost_attempts: u32,
    /// Number of transcript events stored.
    pub transcript_events: i64,
    /// True when the transcript reached its size cap and later events were dropped.
    pub transcript_truncated: bool,
    /// Git HEAD of the working tree when the latest attempt started.
    pub git_head_before: Option<String>,
    /// Git HEAD when it ended.
    pub git_head_after: Option<String>,
    /// `git diff --stat` of everything the job changed, committed or not.
    pub diff_stat: Option<String>,
    /// On a `pm` job: its one decision, as its chain line reads (`queued review j…`,
    /// `proceeded: j… runs next`, `completed`, `cancelled`, `blocked: <reason>`, `no decision`).
    pub decision: Option<String>,
    /// Warnings its attempts left (files left out of a checkpoint commit, a refused hook, …).
    pub warnings: Vec<crate::store::JobWarning>,
    /// False when some transcript events could not be stored (a full disk, a database error):
    /// the transcript shown is not all the agent printed. Apart from `transcript_truncated`,
    /// which is the size cap doing its job.
    pub transcript_complete: bool,
    /// Why the transcript is incomplete (the first failure).
    pub transcript_error: Option<String>,
    pub attempt_history: Vec<Attempt>,
    /// How its agent session began; a continuation that could not resume ran `fresh` and says
    /// why in `session_fallback_reason`.
    pub session_mode: super::SessionMode,
    /// With `--continue`/`--fork`: the job whose session it carries on.
    pub session_source_job_id: Option<String>,
    /// Why a continuation ran as a fresh session instead (other host, unknown session, …).
    pub session_fallback_reason: Option<String>,
    /// The model asked for (`--model`), else the harness's configured one when it ran.
    pub model: Option<String>,
    /// The reasoning effort asked for (`--effort`).
    pub effort: Option<String>,
    /// The machine whose agent CLI holds this job's session (sessions live where they ran).
    pub session_host: Option<String>,
    /// The part of `tokens_in` read from the prompt cache, summed over attempts.
    #[serde(default)]
    pub cache_read_tokens: Option<i64>,
    /// The part of `tokens_in` written to the prompt cache, summed over attempts.
    #[serde(default)]
    pub cache_write_tokens: Option<i64>,
    /// Where `cost_usd` comes from; `None` when no attempt reported usage.
    #[serde(default)]
    pub cost_source: Option<CostSource>,
    /// With `[sync]`: the commit its attempt pushed to the remote, once pushed.
    #[serde(default)]
    pub pushed_commit: Option<String>,
}

impl Job {
    /// Cancelled while running, and its runner has not yet confirmed the agent stopped: the
    /// assignment stays busy until it does ([`crate::engine::stopping`]).
    pub fn stopping(&self) -> bool {
        crate::engine::stopping::is_stopping(self.status, self.runner.is_some())
    }
}

/// The one-sentence summary a report opens with (`Summary: …`, the report template's first
/// line), if the text has one: what chain summaries and checkpoint commit messages show.
pub fn report_summary(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .map(|l| l.trim_start_matches(['*', '#', ' ']))
        .find_map(|l| {
            l.strip_prefix("Summary:").or_else(|| l.strip_prefix("Summary**:")).or_else(|| l.strip_prefix("Summary:**"))
        })
        .map(|s| s.trim().trim_start_matches("**").trim())
        .filter(|s| !s.is_empty())
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// Still running.
    Running,
    Complete,
    Failed,
    /// Failed transiently (or was interrupted) and went back to pending.
    Retrying,
    Cancelled,
    /// Stopped by a graceful shutdown and re-queued without charging the attempt.
    Interrupted,
    /// The runner disappeared; another runner took the job over.
    Lost,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Running => "running",
            AttemptOutcome::Complete => "complete",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Retrying => "retrying",
            AttemptOutcome::Cancelled => "cancelled",
            AttemptOutcome::Interrupted => "interrupted",
            AttemptOutcome::Lost => "lost",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            AttemptOutcome::Running,
            AttemptOutcome::Complete,
            AttemptOutcome::Failed,
            AttemptOutcome::Retrying,
            AttemptOutcome::Cancelled,
            AttemptOutcome::Interrupted,
            AttemptOutcome::Lost,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }
}

/// One run of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1-based attempt number.
    pub n: u32,
    pub runner: Option<String>,
    #[serde(with = "serde_ms")]
    pub started_at: Millis,
    #[serde(with = "serde_ms::option")]
    pub finished_at: Option<Millis>,
    pub outcome: AttemptOutcome,
    pub error_kind: Option<ErrorKind>,
    pub error: Option<String>,
    /// Size and SHA-256 (hex) of the prompt this attempt was given (`baton job --prompt`).
    pub prompt_bytes: Option<u64>,
    pub prompt_sha256: Option<String>,
    /// This attempt's own usage and cost (`None`: not reported, or it has not ended).
    #[serde(default)]
    pub tokens_in: Option<i64>,
    #[serde(default)]
    pub tokens_out: Option<i64>,
    #[serde(default)]
    pub cache_read_tokens: Option<i64>,
    #[serde(default)]
    pub cache_write_tokens: Option<i64>,
    #[serde(default)]
    pub cost_usd: Option<f64>,
    #[serde(default)]
    pub cost_source: Option<CostSource>,
    /// The model its cost was priced for.
    #[serde(default)]
    pub model: Option<String>,
}

/// One stored transcript event of a job (the harness's common event type, as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEvent {
    pub job_id: String,
    /// 1-based, dense per job: followers resume from the last one they saw.
    pub seq: i64,
    #[serde(with = "serde_ms")]
    pub at: Millis,
    pub attempt: u32,
    pub event: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::report_summary;

    #[test]
    fn the_summary_line_is_found_in_plain_and_bold_reports() {
        assert_eq!(report_summary("Summary: fixed the parser\nWhat changed: …"), Some("fixed the parser"));
        assert_eq!(report_summary("intro\n**Summary:** two tests added"), Some("two tests added"));
        assert_eq!(report_summary("no summary here"), None);
        assert_eq!(report_summary("Summary:   "), None);
    }
}
