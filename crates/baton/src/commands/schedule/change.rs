//! `baton schedule pause|resume|remove ID`, and the hidden `next-fire ID TIME`.

use super::view;
use crate::context::Context;
use crate::error::CliResult;
use baton_core::Error;

pub async fn pause(ctx: &mut Context, id: &str, paused: bool) -> CliResult {
    let store = ctx.store().await?;
    let s = store.pause_schedule(ctx.ns(), id, paused, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&s);
    }
    let did = if paused { "paused" } else { "resumed" };
    ctx.out.text(&format!("{did} schedule {}\n{}", ctx.out.style.bold(&s.id), view::summary(&s)))
}

pub async fn remove(ctx: &mut Context, id: &str) -> CliResult {
    let store = ctx.store().await?;
    let s = store.remove_schedule(ctx.ns(), id, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&s);
    }
    ctx.out.text(&format!(
        "removed schedule {} ({} runs; the assignments it created stay)\n",
        ctx.out.style.bold(&s.id),
        s.runs_total
    ))
}

pub async fn next_fire(ctx: &mut Context, id: &str, at: &str) -> CliResult {
    let at = chrono::DateTime::parse_from_rfc3339(at.trim())
        .map_err(|_| Error::invalid(format!("`{at}` is not an RFC 3339 time; write it like 2026-12-01T09:00:00Z")))?
        .timestamp_millis();
    let store = ctx.store().await?;
    let s = store.set_next_fire(ctx.ns(), id, at, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&s);
    }
    ctx.out.text(&view::summary(&s))
}
