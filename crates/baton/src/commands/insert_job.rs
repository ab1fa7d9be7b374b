//! `baton insert-job ASSIGNMENT --type TYPE`: adds a job to the chain, at the end or right after
//! `--after JOB` (a PM job's insert always goes right after the PM job). The harness defaults per
//! job type from config; an explicit one is checked first. The context comes from `--context` or,
//! byte for byte, from `--context-file PATH|-`.
//!
//! `--continue JOB` / `--fork JOB` carry on an earlier job's agent session (the harness defaults
//! to that job's); `--model` and `--effort` go to the harness's own flags. Every choice is
//! checked before anything is stored: the model and effort against the config here, the source
//! job again inside the insert's transaction.

use crate::cli::InsertJobArgs;
use crate::context::Context;
use crate::context_file;
use crate::error::CliResult;
use baton_core::error::InvalidInput;
use baton_core::request::{session, NewJob, SessionSource};
use baton_core::{Actor, SessionMode};

pub async fn run(ctx: &mut Context, args: InsertJobArgs) -> CliResult {
    let source = match (args.continue_job, args.fork) {
        (Some(_), Some(_)) => {
            let both = "--continue and --fork exclude each other; continue the session or fork it, not both";
            return Err(baton_core::Error::InvalidInput(InvalidInput::new(both)).into());
        }
        (Some(job_id), None) => Some(SessionSource { mode: SessionMode::Continued, job_id }),
        (None, Some(job_id)) => Some(SessionSource { mode: SessionMode::Forked, job_id }),
        (None, None) => None,
    };
    let context = context_file::resolve(args.context, args.context_file.as_deref(), ctx.input())?.unwrap_or_default();
    let store = ctx.store().await?;
    // A continuation runs on its source job's harness unless told otherwise.
    let harness = match (&args.harness, &source) {
        (None, Some(source)) => Some(store.job(ctx.ns(), &source.job_id).await?.harness),
        _ => args.harness,
    };
    let mut new = NewJob::with_defaults(&ctx.config, args.job_type, harness, context)?;
    new.after = args.after;
    new.session = source;
    new.model = args.model;
    new.effort = args.effort;
    new.validate()?;
    session::check_choices(&ctx.config, &new, matches!(ctx.actor, Actor::Job { .. }))?;
    let job = store.insert_job(ctx.ns(), &args.assignment_id, new, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&job);
    }
    let carried = match (job.session_mode, &job.session_source_job_id) {
        (SessionMode::Continued, Some(src)) => format!(", continuing the session of {src}"),
        (SessionMode::Forked, Some(src)) => format!(", forking the session of {src}"),
        _ => String::new(),
    };
    ctx.out.text(&format!(
        "queued job {} ({} on {}{carried}) at position {} of assignment {}\n",
        ctx.out.style.bold(&job.id),
        job.job_type,
        job.harness,
        job.position,
        job.assignment_id
    ))
}
