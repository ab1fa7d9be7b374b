//! What `baton schedule add` (and `POST /api/schedules`) stores, and what a fire hands the store.

use super::{check_amount, check_count, check_text, check_tokens, Field, NewAssignment, CONTEXT_LIMIT_BYTES};
use crate::engine::schedule::{self, CronSpec};
use crate::error::Result;
use crate::model::{Overlap, ScheduleTemplate};
use crate::time::Millis;

/// A new schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSchedule {
    pub namespace: String,
    pub cron: String,
    pub timezone: String,
    pub north_star: String,
    pub overlap: Overlap,
    pub creates: ScheduleTemplate,
}

impl NewSchedule {
    /// The rules a schedule must meet before anything is stored: a readable pattern and zone,
    /// and the limits `create` applies to the same fields. Returns the parsed pattern.
    pub fn validate(&self) -> Result<CronSpec> {
        let spec = schedule::parse(&self.cron, &self.timezone)?;
        if self.north_star.trim().is_empty() {
            return Err(super::RequestError::EmptyNorthStar.into());
        }
        check_text(Field::NorthStar, &self.north_star, CONTEXT_LIMIT_BYTES)?;
        check_text(Field::Context, &self.creates.context, CONTEXT_LIMIT_BYTES)?;
        if let Some(max) = self.creates.max_jobs {
            check_count(Field::MaxJobs, max)?;
        }
        if let Some(budget) = self.creates.budget_usd {
            check_amount(Field::BudgetUsd, budget)?;
        }
        if let Some(budget) = self.creates.budget_tokens {
            check_tokens(Field::BudgetTokens, budget)?;
        }
        Ok(spec)
    }
}

/// What one fire asks of the store.
#[derive(Debug, Clone, PartialEq)]
pub struct FireRequest {
    /// The slot a runner fires (the schedule's `next_fire_at` it read); `None` fires on demand,
    /// outside the slots, without moving the next one.
    pub slot: Option<Millis>,
    /// The assignment to create, built from the schedule as `create` builds one; the error says
    /// why it could not be built (the run is recorded as skipped with it, and the slot moves on).
    pub assignment: std::result::Result<NewAssignment, String>,
    /// Who fires: `runner r… on HOST`, or `api`.
    pub by: String,
}

/// What a fire did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FireOutcome {
    /// It created this assignment.
    Fired { schedule_id: String, assignment_id: String },
    /// It created nothing, for this reason (recorded in the run history).
    Skipped { schedule_id: String, reason: String },
    /// The slot was no longer due: another runner fired it, or the schedule was paused, moved or
    /// not due yet by the database's clock. Nothing was written.
    NotDue { schedule_id: String },
}
