//! `baton retry-job JOB_ID`: queues a fresh copy of a failed or cancelled job after the chain's
//! last job that is no longer pending (the original keeps its record), and says when it runs.

use crate::cli::JobIdArgs;
use crate::context::Context;
use crate::error::CliResult;
use baton_core::{AssignmentDetail, AssignmentStatus, JobStatus};

pub async fn run(ctx: &mut Context, args: JobIdArgs) -> CliResult {
    let defaults = ctx.job_defaults();
    let store = ctx.store().await?;
    let job = store.retry_job(ctx.ns(), &args.id, &defaults, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&job);
    }
    let detail = store.assignment(ctx.ns(), &job.assignment_id).await?;
    ctx.out.text(&format!(
        "queued job {} ({} on {}), a copy of {}, at position {} of assignment {}\n{}\n",
        ctx.out.style.bold(&job.id),
        job.job_type,
        job.harness,
        args.id,
        job.position,
        job.assignment_id,
        when_it_runs(&detail, &job.id)
    ))
}

/// When the copy `id` will run, given its assignment as it now stands.
fn when_it_runs(detail: &AssignmentDetail, id: &str) -> String {
    let a = &detail.assignment;
    if a.status == AssignmentStatus::Blocked {
        return format!(
            "it runs once a person resumes the assignment: baton update-assignment {} --status active",
            a.id
        );
    }
    let before = detail.jobs.iter().take_while(|j| j.id != id);
    if let Some(running) = before.clone().find(|j| j.status == JobStatus::Running) {
        return format!("it runs after job {} ({}) ends", running.id, running.job_type);
    }
    match before.filter(|j| j.status == JobStatus::Pending).count() {
        0 => "it runs next, as soon as a runner is free (`baton run` starts one)".to_string(),
        n => format!("it runs after the {n} job(s) queued before it"),
    }
}
