//! `baton jobs [--status S] [--assignment A] [--limit N]`: jobs of the namespace newest first, or
//! one assignment's in chain order.

use crate::cli::JobsArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::output::format::duration;
use crate::output::table::Table;
use crate::output::views;
use baton_core::store::JobFilter;

pub async fn run(ctx: &mut Context, args: JobsArgs) -> CliResult {
    let filter = JobFilter { status: args.status, assignment_id: args.assignment.clone(), limit: args.limit };
    let store = ctx.store().await?;
    let list = store.jobs(ctx.ns(), &filter).await?;
    if list.is_empty() {
        if let Some(id) = &args.assignment {
            // An empty list must not hide a mistyped id: this fails with "no assignment …".
            store.assignment(ctx.ns(), id).await?;
        } else {
            super::namespaces::hint_if_empty(ctx).await?;
        }
    }
    if ctx.out.json {
        return ctx.out.json(&list);
    }
    if list.is_empty() {
        let which = args.status.map(|s| format!("{s} ")).unwrap_or_default();
        let whose = match &args.assignment {
            Some(id) => format!("assignment {id}"),
            None => format!("namespace {}", ctx.ns()),
        };
        return ctx.out.text(&format!("no {which}jobs in {whose}\n"));
    }
    let mut t =
        Table::new(&["ID", "ASSIGNMENT", "#", "TYPE", "HARNESS", "STATUS", "TRIES", "DURATION", "RESULT"]).flex(8);
    for job in &list {
        t.row(vec![
            job.id.as_str().into(),
            job.assignment_id.as_str().into(),
            job.position.to_string().into(),
            job.job_type.as_str().into(),
            job.harness.as_str().into(),
            views::job_status(job),
            views::attempts(job).into(),
            duration(job.duration_ms).into(),
            views::job_summary(job),
        ]);
    }
    ctx.out.text(&t.render(&ctx.out.style, ctx.out.width))
}
