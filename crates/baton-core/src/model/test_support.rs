//! Plain values of the model for unit tests of the engine's decisions.

use super::{Assignment, AssignmentStatus, Job, JobStatus, JobType};

/// An assignment with a job limit of 5 and `job_count` jobs.
pub fn assignment(status: AssignmentStatus, job_count: u32) -> Assignment {
    Assignment {
        id: "a1".into(),
        namespace: "ns".into(),
        north_star: "ship it".into(),
        status,
        reason: (status == AssignmentStatus::Blocked).then(|| "why".to_string()),
        created_at: 0,
        updated_at: 0,
        max_jobs: 5,
        budget_usd: None,
        cost_usd: None,
        job_count,
        base_ref: None,
        branch: None,
        worktree: None,
        host: None,
    }
}

/// A job of assignment `a1` with nothing recorded yet.
pub fn job(id: &str, job_type: JobType, status: JobStatus) -> Job {
    Job {
        id: id.into(),
        assignment_id: "a1".into(),
        job_type,
        harness: "claude".into(),
        context: String::new(),
        status,
        position: 1,
        attempts: 1,
        max_attempts: 3,
        not_before: None,
        created_at: 0,
        started_at: None,
        finished_at: None,
        duration_ms: None,
        result: None,
        success: None,
        error: None,
        error_kind: None,
        exit_code: None,
        session_id: None,
        tokens_in: None,
        tokens_out: None,
        cost_usd: None,
        for_job_id: None,
        runner: None,
        lease_expires_at: None,
        lost_attempts: 0,
        transcript_events: 0,
        transcript_truncated: false,
        git_head_before: None,
        git_head_after: None,
        diff_stat: None,
        decision: None,
        attempt_history: Vec::new(),
        cache_read_tokens: None,
        cache_write_tokens: None,
        cost_source: None,
    }
}
