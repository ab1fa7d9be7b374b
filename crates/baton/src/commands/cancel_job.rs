//! `baton cancel-job JOB_ID`: cancels a pending job, or a running one (the runner holding it stops
//! its agent when it sees the change), and says what happens next: a PM job follows a stopped
//! running job, once the agent is gone; otherwise the next queued job runs (after the stop, too),
//! or the assignment is idle or blocked.

use crate::cli::JobIdArgs;
use crate::context::Context;
use crate::error::CliResult;
use baton_core::engine::{is_idle, IDLE_REASON};
use baton_core::{AssignmentDetail, AssignmentStatus, JobStatus, JobType};

pub async fn run(ctx: &mut Context, args: JobIdArgs) -> CliResult {
    let defaults = ctx.job_defaults();
    let store = ctx.store().await?;
    let job = store.cancel_job(ctx.ns(), &args.id, &defaults, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&job);
    }
    let stopped = if was_running(&job) { "; its runner stops the agent" } else { "" };
    let detail = store.assignment(ctx.ns(), &job.assignment_id).await?;
    ctx.out.text(&format!(
        "cancelled job {} ({} of assignment {}){stopped}\n{}\n",
        ctx.out.style.bold(&job.id),
        job.job_type,
        job.assignment_id,
        next_step(&detail, &job.id)
    ))
}

/// The cancel closed an attempt that was running (not one that had ended before).
fn was_running(job: &baton_core::Job) -> bool {
    job.attempt_history.last().is_some_and(|a| a.outcome == baton_core::AttemptOutcome::Cancelled)
}

/// What happens to the assignment now, in one line.
fn next_step(detail: &AssignmentDetail, cancelled: &str) -> String {
    // The PM that follows the stop may already be running (or done) by the time this reads.
    if let Some(pm) =
        detail.jobs.iter().find(|j| j.job_type == JobType::Pm && j.for_job_id.as_deref() == Some(cancelled))
    {
        // The assignment waits for the stop: the PM never runs beside the stopped agent.
        let stopping = detail.jobs.iter().any(|j| j.id == cancelled && j.stopping());
        let when = if stopping && pm.status == JobStatus::Pending { "; it starts once the agent is gone" } else { "" };
        return format!("next: PM job {} decides what follows the stopped job{when}", pm.id);
    }
    let a = &detail.assignment;
    match a.status {
        AssignmentStatus::Blocked => {
            return format!(
                "next: nothing until a person resumes {} (blocked: {})",
                a.id,
                a.reason.as_deref().unwrap_or("-")
            )
        }
        AssignmentStatus::Complete | AssignmentStatus::Cancelled => {
            return format!("next: nothing, assignment {} is {}", a.id, a.status)
        }
        AssignmentStatus::Deferred => {
            return format!("next: nothing until assignment {} starts (it waits for its parents)", a.id)
        }
        AssignmentStatus::Active => {}
    }
    let open = detail.jobs.iter().filter(|j| matches!(j.status, JobStatus::Pending | JobStatus::Running)).count();
    if is_idle(a, open as u64) {
        return format!("next: nothing — assignment {} is {IDLE_REASON}", a.id);
    }
    match detail.jobs.iter().find(|j| matches!(j.status, JobStatus::Running | JobStatus::Pending)) {
        Some(j) if j.status == JobStatus::Running => format!("next: job {} ({}) is still running", j.id, j.job_type),
        Some(j) if detail.jobs.iter().any(|j| j.stopping()) => {
            format!("next: job {} ({}) runs next, once the stopped agent is gone", j.id, j.job_type)
        }
        Some(j) => format!("next: job {} ({}) runs next", j.id, j.job_type),
        None => String::new(),
    }
}
