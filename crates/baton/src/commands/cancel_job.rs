//! `baton cancel-job ID`: cancels a pending job, or a running one (the runner holding it stops its
//! agent when it sees the change).

use crate::cli::JobIdArgs;
use crate::context::Context;
use crate::error::CliResult;

pub async fn run(ctx: &mut Context, args: JobIdArgs) -> CliResult {
    let store = ctx.store().await?;
    let job = store.cancel_job(ctx.ns(), &args.id, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&job);
    }
    let stopped =
        if job.started_at.is_some() && job.finished_at.is_none() { "; its runner stops the agent" } else { "" };
    ctx.out.text(&format!(
        "cancelled job {} ({} of assignment {}){stopped}\n",
        ctx.out.style.bold(&job.id),
        job.job_type,
        job.assignment_id
    ))
}
