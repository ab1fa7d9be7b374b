//! `baton create "NORTH STAR"`: a new assignment, optionally with its first job queued in the same
//! transaction (`--first TYPE [--harness …] [--model …] [--effort …]`). `--context` stays with the
//! assignment; `--base` is checked against the repository before anything is stored. `--after`
//! makes it wait (`deferred`) for other assignments to complete; the store checks the parents.

use crate::cli::CreateArgs;
use crate::context::Context;
use crate::context_file;
use crate::error::CliResult;
use crate::output::format::one_line;
use baton_core::request::{session, NewAssignment, NewJob};
use baton_core::{Actor, AssignmentDetail, AssignmentStatus};
use baton_runner::base;

pub async fn run(ctx: &mut Context, args: CreateArgs) -> CliResult {
    let (north_star, after, args) = (args.north_star, args.after, args.assignment);
    let mut new = NewAssignment::with_defaults(&ctx.config, north_star);
    new.max_jobs = args.max_jobs.unwrap_or(new.max_jobs);
    new.budget_usd = args.budget_usd;
    new.budget_tokens = args.budget_tokens;
    // The person's context stays with the assignment (every job's prompt shows it) and briefs
    // the first job.
    new.context = context_file::resolve(args.context, args.context_file.as_deref(), ctx.input())?.unwrap_or_default();
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
    new.after = after;
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
    if a.status == AssignmentStatus::Deferred {
        let parents = detail.parents.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ");
        text.push_str(&format!(
            "deferred: it starts once {parents} complete{}\n",
            if detail.parents.len() == 1 { "s" } else { "" }
        ));
    } else if let Some(started) = detail.history.iter().find(|h| h.action == "activated") {
        text.push_str(&format!("its parents are complete: {}\n", started.reason.as_deref().unwrap_or_default()));
    }
    for job in &detail.jobs {
        text.push_str(&format!("queued job {} ({} on {})\n", style.bold(&job.id), job.job_type, job.harness));
    }
    if detail.jobs.is_empty() {
        text.push_str(&format!("next: baton insert-job {} --type plan --context \"…\"\n", a.id));
    }
    text
}
