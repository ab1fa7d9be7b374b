//! `baton insert-job ASSIGNMENT --type TYPE`: adds a job to the chain, at the end or right after
//! `--after JOB` (a PM job's insert always goes right after the PM job). The harness defaults per
//! job type from config; an explicit one is checked first. The context comes from `--context` or,
//! byte for byte, from `--context-file PATH|-`.

use crate::cli::InsertJobArgs;
use crate::context::Context;
use crate::context_file;
use crate::error::CliResult;
use baton_core::request::NewJob;

pub async fn run(ctx: &mut Context, args: InsertJobArgs) -> CliResult {
    let context = context_file::resolve(args.context, args.context_file.as_deref())?.unwrap_or_default();
    let mut new = NewJob::with_defaults(&ctx.config, args.job_type, args.harness, context)?;
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
