//! `baton insert-job ASSIGNMENT --type TYPE`: adds a job to the chain, at the end or right after
//! `--after JOB`. The harness defaults per job type from config; an explicit one is checked first.

use crate::cli::InsertJobArgs;
use crate::context::Context;
use crate::error::CliResult;
use baton_core::request::NewJob;

pub async fn run(ctx: &mut Context, args: InsertJobArgs) -> CliResult {
    let mut new = NewJob::with_defaults(&ctx.config, args.job_type, args.harness, args.context)?;
    new.after = args.after;
    new.validate()?;
    let store = ctx.store().await?;
    let job = store.insert_job(ctx.ns(), &args.assignment_id, new, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&job);
    }
    ctx.out.text(&format!(
        "queued job {} ({} on {}) at position {} of assignment {}\n",
        ctx.out.style.bold(&job.id),
        job.job_type,
        job.harness,
        job.position,
        job.assignment_id
    ))
}
