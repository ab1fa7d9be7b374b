//! `baton proceed ASSIGNMENT`: a PM job's decision to let the job already queued after it run
//! next, recorded as that PM's one decision. From a person's shell it is refused: a queued job
//! runs by itself.

use crate::cli::ProceedArgs;
use crate::context::Context;
use crate::error::CliResult;

pub async fn run(ctx: &mut Context, args: ProceedArgs) -> CliResult {
    let store = ctx.store().await?;
    let next = store.proceed(ctx.ns(), &args.assignment_id, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&next);
    }
    ctx.out.text(&format!(
        "proceeded: the queued job {} ({}) of assignment {} runs next\n",
        ctx.out.style.bold(&next.id),
        next.job_type,
        next.assignment_id
    ))
}
