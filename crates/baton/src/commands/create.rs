//! `baton create "NORTH STAR"`: a new assignment, optionally with its first job queued in the same
//! transaction (`--first TYPE [--harness …] [--model …] [--effort …]`). `--context` stays with the
//! assignment; `--base` is checked against the repository before anything is stored.

use crate::cli::CreateArgs;
use crate::context::Context;
use crate::context_file;
use crate::error::CliResult;
use crate::output::format::one_line;
use baton_core::request::{session, NewAssignment, NewJob};
use baton_core::{Actor, AssignmentDetail};
use baton_runner::base;

pub async fn run(ctx: &mut Context, args: CreateArgs) -> CliResult {
    let mut new = NewAssignment::with_defaults(&ctx.config, args.north_star);
    new.max_jobs = args.max_jobs.unwrap_or(new.max_jobs);
    new.budget_usd = args.budget_usd;
    new.budget_tokens = args.budget_tokens;
    // The person's context stays with the assignment (every job's prompt shows it) and briefs
    // the first job.
    new.context = context_file::resolve(args.context, args.context_file.as_deref())?.unwrap_or_default();
    new.first_job = match args.first {
        Some(job_type) => {
            let mut job = NewJob::with_defaults(&ctx.config, job_type, args.harness, new.context.clone())?;
            job.model = args.model;
            job.effort = args.effort;
            session::check_choices(&ctx.config, &job, matches!(ctx.actor, Actor::Job { .. }))?;
            Some(job)
        }
        None => None,
    };
    // Refused before the store is opened: bad input never waits on the database.
    new.validate()?;
    new.base_branch = base::resolve(&ctx.config.repo_root, args.base.as_deref()).await?;
    new.base_ref = args.base;
    let store = ctx.store().await?;
    let detail = store.create_assignment(new, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&detail);
    }
    ctx.out.text(&describe(ctx, &detail))
}

fn describe(ctx: &Context, detail: &AssignmentDetail) -> String {
    let a = &detail.assignment;
    let style = &ctx.out.style;
    let mut text =
        format!("created assignment {} in namespace {}: {}\n", style.bold(&a.id), a.namespace, one_line(&a.north_star));
    for job in &detail.jobs {
        text.push_str(&format!("queued job {} ({} on {})\n", style.bold(&job.id), job.job_type, job.harness));
    }
    if detail.jobs.is_empty() {
        text.push_str(&format!("next: baton insert-job {} --type plan --context \"…\"\n", a.id));
    }
    text
}
