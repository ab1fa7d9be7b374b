//! `baton schedule …`: schedules that create assignments at the slots of a cron pattern. One
//! file per verb; [`view`] prints a schedule for people. Runners fire the slots
//! (`baton_runner::schedule`); these commands only add, show and change schedules.

mod add;
mod change;
mod list;
mod view;

use crate::context::Context;
use crate::error::CliResult;
use baton_core::Overlap;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand};

pub const EXAMPLES: &str = "Examples:\n  \
    baton schedule add \"0 9 * * 1\" \"Update the dependencies\" --timezone Europe/Berlin --first implement\n  \
    baton schedule add @daily \"Triage new issues\" --first plan --budget-usd 2\n  \
    baton schedule list\n  baton schedule show s7k2m9qxp --json\n  baton schedule pause s7k2m9qxp\n\n\
    A pattern has five fields (minute hour day-of-month month day-of-week) or is @hourly, @daily or\n\
    @weekly, read in --timezone (default UTC; daylight-saving changes keep the wall-clock time).\n\
    After downtime a schedule fires once for the missed period, not once per missed slot.";

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[command(subcommand)]
    pub command: ScheduleCommand,
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Add a schedule: at each slot of CRON it creates an assignment as `baton create` would.
    #[command(after_help = "Examples:\n  \
        baton schedule add \"0 9 * * 1\" \"Update the dependencies\" --timezone Europe/Berlin --first implement\n  \
        baton schedule add @hourly \"Check the nightly build\" --overlap queue")]
    Add(Box<AddArgs>),
    /// List the namespace's schedules with their next slots.
    List,
    /// Show one schedule and its run history.
    Show(IdArgs),
    /// Stop a schedule from firing until it is resumed.
    Pause(IdArgs),
    /// Let a paused schedule fire again, from its next slot after now (missed slots are skipped).
    Resume(IdArgs),
    /// Remove a schedule and its run history (the assignments it created stay).
    Remove(IdArgs),
    /// Move a schedule's next slot to a time (RFC 3339); for tests and for a person shifting one
    /// slot. A slot in the past fires at once.
    #[command(hide = true)]
    NextFire(NextFireArgs),
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// The schedule, e.g. s7k2m9qxp.
    #[arg(value_name = "SCHEDULE_ID")]
    pub id: String,
}

#[derive(Debug, Args)]
pub struct NextFireArgs {
    #[arg(value_name = "SCHEDULE_ID")]
    pub id: String,
    /// When, as RFC 3339 (`2026-12-01T09:00:00Z`).
    #[arg(value_name = "TIME")]
    pub at: String,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Five cron fields (minute hour day-of-month month day-of-week), or @hourly, @daily, @weekly.
    #[arg(value_name = "CRON")]
    pub cron: String,

    /// The north star of every assignment it creates.
    #[arg(value_name = "NORTH_STAR")]
    pub north_star: String,

    /// The IANA time zone the pattern is read in, e.g. Europe/Berlin.
    #[arg(long, value_name = "AREA/CITY", default_value = baton_core::engine::schedule::DEFAULT_TIMEZONE)]
    pub timezone: String,

    /// At a slot while the assignment it created last is still active, blocked or deferred:
    /// `skip` the slot (recorded in its run history), or `queue` a new one anyway.
    #[arg(long, value_name = "WHAT", default_value = "skip", value_parser = overlap_parser())]
    pub overlap: Overlap,

    /// What each assignment it creates is made of, as for `create`.
    #[command(flatten)]
    pub assignment: crate::cli::NewAssignmentArgs,
}

fn overlap_parser() -> impl TypedValueParser<Value = Overlap> {
    PossibleValuesParser::new(Overlap::ALL.iter().map(|o| o.as_str()))
        .try_map(|text| text.parse::<Overlap>().map_err(|e| e.to_string()))
}

pub async fn run(ctx: &mut Context, args: ScheduleArgs) -> CliResult {
    match args.command {
        ScheduleCommand::Add(args) => add::run(ctx, *args).await,
        ScheduleCommand::List => list::list(ctx).await,
        ScheduleCommand::Show(args) => list::show(ctx, &args.id).await,
        ScheduleCommand::Pause(args) => change::pause(ctx, &args.id, true).await,
        ScheduleCommand::Resume(args) => change::pause(ctx, &args.id, false).await,
        ScheduleCommand::Remove(args) => change::remove(ctx, &args.id).await,
        ScheduleCommand::NextFire(args) => change::next_fire(ctx, &args.id, &args.at).await,
    }
}
