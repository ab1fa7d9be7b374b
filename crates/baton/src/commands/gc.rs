//! `baton gc [--dry-run]`: applies the `[retention]` policy now (nothing is removed without one)
//! and prints each worktree it removed or kept — or, dry, would remove — with its size, the space
//! freed and the transcripts dropped. The pass is [`baton_runner::gc`], shared with `clean
//! --retention` and `GET /api/gc`.

use crate::context::Context;
use crate::error::CliResult;
use baton_runner::gc;

pub async fn run(ctx: &mut Context, dry_run: bool) -> CliResult {
    if !ctx.config.retention.is_set() {
        return Err(gc::no_policy().into());
    }
    let store = ctx.store().await?;
    let report = gc::run(store.as_ref(), &ctx.config, ctx.ns(), baton_core::time::now_ms(), dry_run).await?;
    if ctx.out.json {
        return ctx.out.json(&report);
    }
    ctx.out.text(&gc::describe(&report, &ctx.config))
}
