//! `baton assignments [--status S] [--limit N | --all]`: the namespace's assignments, newest
//! first.
//!
//! Text shows the newest [`SHOWN`] and says how many more there are, as `queue` does: a
//! namespace of ten thousand assignments would otherwise print all of them on every call (and
//! take as long as reading them all). `--json` lists every one unless `--limit` says otherwise:
//! a script asked for the data, not for a screen.

use crate::cli::AssignmentsArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::output::format::{one_line, time};
use crate::output::table::Table;
use crate::output::views;
use baton_core::store::{AssignmentFilter, QUEUE_LIST_CAP};

/// How many assignments text output shows without `--limit` or `--all`.
const SHOWN: usize = QUEUE_LIST_CAP;

pub async fn run(ctx: &mut Context, args: AssignmentsArgs) -> CliResult {
    // One more than shown, to know whether there are more without counting them all.
    let bounded = !args.all && args.limit.is_none() && !ctx.out.json;
    let limit = if bounded { Some(SHOWN as u32 + 1) } else { args.limit };
    let filter = AssignmentFilter { status: args.status, limit };
    let store = ctx.store().await?;
    let mut list = store.assignments(ctx.ns(), &filter).await?;
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
    let more = bounded && list.len() > SHOWN;
    list.truncate(if bounded { SHOWN } else { list.len() });
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
    let mut text = t.render(&ctx.out.style, ctx.out.width);
    if more {
        text.push_str(&more_line(ctx, &args, list.len()).await?);
    }
    ctx.out.text(&text)
}

/// `… and N more` under a bounded list; the number comes from the namespace's kept counters
/// (known without a status filter; with one, the line just says there are more).
async fn more_line(ctx: &mut Context, args: &AssignmentsArgs, shown: usize) -> CliResult<String> {
    let status = args.status.map(|s| format!(" --status {s}")).unwrap_or_default();
    let hint = format!("`baton assignments{status} --all` lists them");
    let how_many = if args.status.is_none() {
        let store = ctx.store().await?;
        let total = store.namespaces().await?.iter().find(|n| n.namespace == ctx.ns()).map_or(0, |n| n.assignments);
        format!("{} more", total.saturating_sub(shown as u64))
    } else {
        "more".to_string()
    };
    Ok(ctx.out.style.dim(&format!("… and {how_many}: {hint}")) + "\n")
}
