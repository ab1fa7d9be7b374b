//! `baton create "NORTH STAR"`: a new assignment, optionally with its first job queued in the same
//! transaction (`--first TYPE [--context …] [--harness …]`).

use crate::cli::CreateArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::output::format::one_line;
use baton_core::store::{NewAssignment, NewJob};
use baton_core::{AssignmentDetail, Error};

pub async fn run(ctx: &mut Context, args: CreateArgs) -> CliResult {
    let north_star = args.north_star.trim().to_string();
    if north_star.is_empty() {
        return Err(Error::EmptyNorthStar.into());
    }
    let first_job = match args.first {
        Some(job_type) => {
            let harness = match args.harness {
                Some(h) => {
                    ctx.config.check_harness(&h)?;
                    h
                }
                None => ctx.config.default_harness(job_type).to_string(),
            };
            Some(NewJob {
                job_type,
                harness,
                context: args.context.unwrap_or_default(),
                max_attempts: ctx.config.max_attempts,
                after: None,
                for_job_id: None,
            })
        }
        None => None,
    };
    let new = NewAssignment {
        namespace: ctx.ns().to_string(),
        north_star,
        max_jobs: args.max_jobs.unwrap_or(ctx.config.max_jobs_per_assignment),
        budget_usd: args.budget_usd,
        origin_root: Some(ctx.config.repo_root.display().to_string()),
        base_ref: args.base.clone(),
        first_job,
    };
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
