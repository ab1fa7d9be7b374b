//! Schedules: a cron pattern in a time zone that creates an assignment at each of its times
//! (its *slots*), with the run history of what each slot did.

use super::{JobType, Overlap};
use crate::time::{serde_ms, Millis};
use serde::{Deserialize, Serialize};

/// How many of a schedule's latest runs its `runs` list carries; `runs_total` counts them all.
pub const RUNS_SHOWN: usize = 50;

/// A schedule as `baton schedule show --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Unique id, e.g. `s7k2m9qxp`.
    pub id: String,
    pub namespace: String,
    /// Five cron fields (minute hour day-of-month month day-of-week) or `@hourly`, `@daily`,
    /// `@weekly`, read in `timezone`.
    pub cron: String,
    /// An IANA time zone name (`Europe/Berlin`), `UTC` by default.
    pub timezone: String,
    /// The north star of every assignment it creates.
    pub north_star: String,
    pub overlap: Overlap,
    /// A paused schedule fires at no slot (nor on demand); resuming it skips the slots it missed.
    pub paused: bool,
    /// The slot it fires at next.
    #[serde(with = "serde_ms")]
    pub next_fire_at: Millis,
    /// When it last created an assignment.
    #[serde(with = "serde_ms::option")]
    pub last_fired_at: Option<Millis>,
    /// The assignment it created last (what `overlap = skip` waits for).
    pub last_assignment_id: Option<String>,
    /// What each assignment it creates looks like.
    pub creates: ScheduleTemplate,
    /// Who added it (`person:NAME`).
    pub created_by: String,
    #[serde(with = "serde_ms")]
    pub created_at: Millis,
    /// Its latest runs, newest first (at most [`RUNS_SHOWN`]).
    pub runs: Vec<ScheduleRun>,
    /// How many runs it has had.
    pub runs_total: u64,
}

/// The `create` options a schedule keeps for the assignments it creates. Config defaults (the
/// harness, the job limit, the base branch) are applied when it fires, as `create` applies them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleTemplate {
    /// `--first`: the type of the job queued with each assignment.
    pub first: Option<JobType>,
    pub harness: Option<String>,
    pub model: Option<String>,
    pub effort: Option<String>,
    /// The person's context every created assignment carries.
    pub context: String,
    pub budget_usd: Option<f64>,
    pub budget_tokens: Option<i64>,
    pub max_jobs: Option<u32>,
    /// `--base`: the git ref each assignment's branch starts from, resolved when it fires.
    pub base: Option<String>,
}

/// One fire of a schedule: at a slot, or on demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleRun {
    /// The slot it was for; `None` for a fire on demand (`POST /api/schedules/<id>/fire`).
    #[serde(with = "serde_ms::option")]
    pub slot_at: Option<Millis>,
    #[serde(with = "serde_ms")]
    pub fired_at: Millis,
    /// The assignment it created; `None` when it was skipped.
    pub assignment_id: Option<String>,
    /// Why it created nothing (the previous assignment still open, or the assignment could not
    /// be created); `None` when it created one.
    pub skipped: Option<String>,
    /// Who fired it: `runner r… on HOST`, or `api` with the person.
    pub by: String,
}
