//! `baton retry-job ID`: queues a fresh copy of a failed or cancelled job right after it (the
//! original keeps its record); prints the new job.

use crate::cli::JobIdArgs;
use crate::context::Context;
use crate::error::CliResult;

pub async fn run(ctx: &mut Context, args: JobIdArgs) -> CliResult {
    let defaults = ctx.job_defaults();
    let store = ctx.store().await?;
    let job = store.retry_job(ctx.ns(), &args.id, &defaults, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&job);
    }
    ctx.out.text(&format!(
        "queued job {} ({} on {}), a copy of {}, at position {} of assignment {}\n",
        ctx.out.style.bold(&job.id),
        job.job_type,
        job.harness,
        args.id,
        job.position,
        job.assignment_id
    ))
}
