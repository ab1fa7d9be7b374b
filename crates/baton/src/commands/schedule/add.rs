//! `baton schedule add CRON "NORTH STAR" [create's options] [--timezone] [--overlap]`: the
//! pattern, the zone and the options are checked before anything is stored — the options by
//! building the assignment the schedule would create, as `create` builds it.

use super::{view, AddArgs};
use crate::context::Context;
use crate::context_file;
use crate::error::CliResult;
use baton_core::store::NewSchedule;
use baton_core::ScheduleTemplate;

pub async fn run(ctx: &mut Context, args: AddArgs) -> CliResult {
    let shape = args.assignment;
    let context = context_file::resolve(shape.context, shape.context_file.as_deref(), None)?.unwrap_or_default();
    let new = NewSchedule {
        namespace: ctx.ns().to_string(),
        cron: args.cron,
        timezone: args.timezone,
        north_star: args.north_star,
        overlap: args.overlap,
        creates: ScheduleTemplate {
            first: shape.first,
            harness: shape.harness,
            model: shape.model,
            effort: shape.effort,
            context,
            budget_usd: shape.budget_usd,
            budget_tokens: shape.budget_tokens,
            max_jobs: shape.max_jobs,
            base: shape.base,
        },
    };
    // Refused before the store is opened: bad input never waits on the database.
    new.validate()?;
    baton_runner::schedule::assignment_from(&ctx.config, &new.namespace, &new.north_star, &new.creates).await?;
    let store = ctx.store().await?;
    let s = store.add_schedule(new, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&s);
    }
    ctx.out.text(&format!("added schedule {}\n{}", ctx.out.style.bold(&s.id), view::summary(&s)))
}
