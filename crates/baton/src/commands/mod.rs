//! Dispatch: one file per command. Each command validates its input before touching the store
//! (so bad input changes nothing), calls one store operation, and prints the result as JSON or
//! for people.

mod assignment;
mod assignments;
mod cancel_job;
mod clean;
mod completions;
mod create;
mod diff;
mod doctor;
mod gc;
mod init;
mod insert_job;
mod job;
mod jobs;
mod logs;
mod mcp;
mod merge;
mod namespaces;
mod proceed;
mod queue;
mod retry_job;
mod run;
pub mod schedule;
mod serve;
mod templates;
mod update_assignment;
mod watch;
mod wrong_kind;

use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::output::Output;

pub async fn dispatch(cli: Cli) -> CliResult {
    let out = Output::new(&cli.global);
    dispatch_to(cli, out).await
}

/// Runs the command, printing through `out` (`baton mcp` hands in a captured one).
pub async fn dispatch_to(cli: Cli, out: Output) -> CliResult {
    // These two work without (or before) a valid configuration.
    let command = match cli.command {
        Command::Completions(args) => return completions::run(&args),
        Command::Init(args) => return init::run(&args, &cli.global, &out).await,
        // The doctor reports a configuration that does not load instead of failing on it.
        Command::Doctor => return doctor::run(&cli.global, &out).await,
        // Each tool call loads the config itself, as the command it runs would.
        Command::Mcp => return mcp::run().await,
        other => other,
    };
    let ctx = Context::load(&cli.global, out)?;
    run_in(command, ctx).await
}

/// Runs a data command in `ctx` (the configuration, store and output it acts with).
pub async fn run_in(command: Command, mut ctx: Context) -> CliResult {
    let result = match command {
        Command::Create(args) => create::run(&mut ctx, args).await,
        Command::InsertJob(args) => insert_job::run(&mut ctx, args).await,
        Command::Queue => queue::run(&mut ctx).await,
        Command::Namespaces => namespaces::run(&mut ctx).await,
        Command::Assignments(args) => assignments::run(&mut ctx, args).await,
        Command::Assignment(args) => assignment::run(&mut ctx, args).await,
        Command::Jobs(args) => jobs::run(&mut ctx, args).await,
        Command::Job(args) => job::run(&mut ctx, args).await,
        Command::UpdateAssignment(args) => update_assignment::run(&mut ctx, args).await,
        Command::Proceed(args) => proceed::run(&mut ctx, args).await,
        Command::CancelJob(args) => cancel_job::run(&mut ctx, args).await,
        Command::RetryJob(args) => retry_job::run(&mut ctx, args).await,
        Command::Run(args) => run::run(&mut ctx, args).await,
        Command::Logs(args) => logs::run(&mut ctx, args).await,
        Command::Clean(args) => clean::run(&mut ctx, args).await,
        Command::Gc(args) => gc::run(&mut ctx, args.dry_run).await,
        Command::Diff(args) => diff::run(&mut ctx, args).await,
        Command::Merge(args) => merge::run(&mut ctx, args).await,
        Command::Templates(args) => templates::run(&mut ctx, args).await,
        Command::Serve(args) => serve::run(&mut ctx, args).await,
        Command::Watch => watch::run(&mut ctx).await,
        Command::Schedule(args) => schedule::run(&mut ctx, args).await,
        Command::Completions(_) | Command::Init(_) | Command::Doctor | Command::Mcp => Ok(()),
    };
    match result {
        Err(CliError::Core(
            err @ (baton_core::Error::JobNotFound { .. } | baton_core::Error::AssignmentNotFound { .. }),
        )) => Err(CliError::Core(wrong_kind::explain(&mut ctx, err).await)),
        other => other,
    }
}
