//! `baton update-assignment ID`: finish, cancel, block (with a reason) or resume (with a note for
//! the PM) an assignment, or raise its guards. The lifecycle rules live in baton-core and are
//! applied by the store inside one transaction; a refused change writes nothing.

use crate::cli::UpdateAssignmentArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::output::format::{money, one_line};
use crate::output::style::assignment_status_code;
use baton_core::request::AssignmentUpdate;
use baton_core::{AssignmentDetail, AssignmentStatus, JobStatus, JobType};

pub async fn run(ctx: &mut Context, args: UpdateAssignmentArgs) -> CliResult {
    let update = AssignmentUpdate {
        status: args.status,
        reason: args.reason,
        note: args.note,
        max_jobs: args.max_jobs,
        budget_usd: args.budget_usd,
        budget_tokens: args.budget_tokens,
    };
    // Caught before opening the store: these rules need no stored state.
    update.validate()?;
    let defaults = ctx.job_defaults();
    let store = ctx.store().await?;
    let detail = store.update_assignment(ctx.ns(), &args.id, &update, &defaults, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&detail);
    }
    ctx.out.text(&describe(ctx, &detail, &update))
}

fn describe(ctx: &Context, detail: &AssignmentDetail, update: &AssignmentUpdate) -> String {
    let a = &detail.assignment;
    let style = &ctx.out.style;
    let status = style.paint(Some(assignment_status_code(a.status)), a.status.as_str());
    let mut text = format!("assignment {} is {status}", style.bold(&a.id));
    if let Some(reason) = a.reason.as_deref().filter(|_| a.status == AssignmentStatus::Blocked) {
        text.push_str(&format!(": {}", one_line(reason)));
    }
    text.push('\n');
    if update.changes_guards() {
        let budget = a.budget_usd.map(money).unwrap_or_else(|| "none".into());
        text.push_str(&format!("  job limit {} ({} used), budget {budget}", a.max_jobs, a.job_count));
        if let Some(tokens) = a.budget_tokens {
            text.push_str(&format!(", token budget {tokens} ({} used)", a.tokens_spent.unwrap_or(0)));
        }
        text.push('\n');
    }
    match update.status {
        // A resume of a child whose parents are not all complete: it waits again.
        Some(AssignmentStatus::Active) if a.status == AssignmentStatus::Deferred => {
            let open: Vec<&str> =
                detail.parents.iter().filter(|p| !p.status.is_final()).map(|p| p.id.as_str()).collect();
            text.push_str(&format!("  it starts once {} complete(s)\n", open.join(", ")));
        }
        Some(AssignmentStatus::Active) => {
            if let Some(next) = detail.jobs.iter().find(|j| j.status == JobStatus::Pending) {
                let what = if next.job_type == JobType::Pm {
                    "a pm job decides the next step"
                } else {
                    "its next job runs when a runner is free"
                };
                text.push_str(&format!("  next: job {} ({}): {what}\n", next.id, next.job_type));
            }
        }
        Some(AssignmentStatus::Complete | AssignmentStatus::Cancelled) => {
            let cancelled = detail.jobs.iter().filter(|j| j.status == JobStatus::Cancelled).count();
            if cancelled > 0 {
                text.push_str(&format!("  {cancelled} open job(s) cancelled\n"));
            }
        }
        _ => {}
    }
    text
}
