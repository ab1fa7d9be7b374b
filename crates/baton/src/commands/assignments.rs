//! `baton assignments [--status S] [--limit N]`: the namespace's assignments, newest first.

use crate::cli::AssignmentsArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::output::format::{one_line, time};
use crate::output::table::Table;
use crate::output::views;
use baton_core::store::AssignmentFilter;

pub async fn run(ctx: &mut Context, args: AssignmentsArgs) -> CliResult {
    let filter = AssignmentFilter { status: args.status, limit: args.limit };
    let store = ctx.store().await?;
    let list = store.assignments(ctx.ns(), &filter).await?;
    if list.is_empty() {
        super::namespaces::hint_if_empty(ctx).await?;
    }
    if ctx.out.json {
        return ctx.out.json(&list);
    }
    if list.is_empty() {
        let which = args.status.map(|s| format!("{s} ")).unwrap_or_default();
        return ctx.out.text(&format!("no {which}assignments in namespace {}\n", ctx.ns()));
    }
    let mut t = Table::new(&["ID", "STATUS", "JOBS", "COST", "UPDATED", "NORTH STAR"]).flex(5);
    for a in &list {
        t.row(vec![
            a.id.as_str().into(),
            views::assignment_status(a),
            views::job_usage(a).into(),
            views::cost_of_budget(a).into(),
            time(a.updated_at).into(),
            one_line(&a.north_star).into(),
        ]);
    }
    ctx.out.text(&t.render(&ctx.out.style, ctx.out.width))
}
