//! `baton schedule list` and `baton schedule show ID` (with the run history).

use super::view;
use crate::context::Context;
use crate::error::CliResult;

pub async fn list(ctx: &mut Context) -> CliResult {
    let store = ctx.store().await?;
    let schedules = store.schedules(ctx.ns()).await?;
    if ctx.out.json {
        return ctx.out.json(&schedules);
    }
    if schedules.is_empty() {
        return ctx.out.text(&format!(
            "no schedules in namespace {}\nnext: baton schedule add \"0 9 * * 1\" \"…\" --timezone Europe/Berlin\n",
            ctx.ns()
        ));
    }
    let text: String =
        schedules.iter().map(|s| format!("{} {}", ctx.out.style.bold(&s.id), view::summary(s))).collect();
    ctx.out.text(&text)
}

pub async fn show(ctx: &mut Context, id: &str) -> CliResult {
    let store = ctx.store().await?;
    let s = store.schedule(ctx.ns(), id).await?;
    if ctx.out.json {
        return ctx.out.json(&s);
    }
    ctx.out.text(&format!("schedule {}\n{}{}", ctx.out.style.bold(&s.id), view::summary(&s), view::runs(&s)))
}
