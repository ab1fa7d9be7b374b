//! Schedules on the runner's side: building the assignment a schedule creates (exactly as
//! `baton create` builds one, config defaults and `--base` resolved at fire time), and firing
//! the namespace's due slots.
//!
//! Every runner of a namespace fires; the store's compare-and-set on the slot decides which one
//! creates the assignment, so the others' attempts write nothing. A runner wakes at the earliest
//! slot (store writes — a new, paused or resumed schedule — wake it to look again); it does not
//! poll.

use crate::base;
use baton_core::request::{session, NewAssignment, NewJob};
use baton_core::store::{FireOutcome, FireRequest};
use baton_core::time::Millis;
use baton_core::{Actor, Config, Result, Schedule, ScheduleTemplate, Store};

/// The assignment `s` creates now, as `create` would make it from the schedule's options.
pub async fn assignment_for(config: &Config, s: &Schedule) -> Result<NewAssignment> {
    assignment_from(config, &s.namespace, &s.north_star, &s.creates).await
}

/// The assignment a schedule with these options creates; `schedule add` builds one to refuse
/// options that `create` would refuse before anything is stored.
pub async fn assignment_from(
    config: &Config,
    ns: &str,
    north_star: &str,
    t: &ScheduleTemplate,
) -> Result<NewAssignment> {
    let mut new = NewAssignment::with_defaults(config, north_star.to_string());
    new.namespace = ns.to_string();
    new.max_jobs = t.max_jobs.unwrap_or(new.max_jobs);
    new.budget_usd = t.budget_usd;
    new.budget_tokens = t.budget_tokens;
    new.context = t.context.clone();
    new.first_job = match t.first {
        Some(job_type) => {
            let mut job = NewJob::with_defaults(config, job_type, t.harness.clone(), new.context.clone())?;
            job.model = t.model.clone();
            job.effort = t.effort.clone();
            session::check_choices(config, &job, false)?;
            Some(job)
        }
        None => None,
    };
    new.validate()?;
    new.base_branch = base::resolve(&config.repo_root, t.base.as_deref()).await?;
    new.base_ref = t.base.clone();
    Ok(new)
}

/// Fires schedule `id` for `slot` (or on demand with `None`), as `by`.
pub async fn fire(
    store: &dyn Store,
    config: &Config,
    ns: &str,
    id: &str,
    slot: Option<Millis>,
    by: &str,
    actor: &Actor,
) -> Result<FireOutcome> {
    let s = store.schedule(ns, id).await?;
    let assignment = assignment_for(config, &s).await.map_err(|e| e.to_string());
    store.fire_schedule(ns, id, FireRequest { slot, assignment, by: by.to_string() }, actor).await
}

/// What [`fire_due`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slots {
    /// The earliest slot still ahead (by the runner's clock), if any schedule is unpaused.
    pub next: Option<Millis>,
    /// A due slot did not fire: it looked due by the runner's clock but not by the database's,
    /// or firing failed. Look again a little later rather than at once.
    pub retry_soon: bool,
    /// Rounds in a row in which firing a due slot failed; the retry waits longer each time.
    pub failed_rounds: u32,
}

impl Slots {
    /// How long to wait at least before looking at a due slot again: 250 ms when it was only not
    /// yet due by the database's clock, doubling with every round that failed, up to a minute —
    /// a slot that keeps failing (say, a time zone this build no longer knows) is not retried
    /// four times a second for ever.
    pub fn retry_floor_ms(&self) -> i64 {
        if !self.retry_soon {
            return 1;
        }
        (250i64 << self.failed_rounds.min(8)).min(60_000)
    }
}

/// Fires every slot of `ns` due at `now`, then reads when the next one is. `before` is what the
/// previous round found (its failures count on).
pub async fn fire_due(
    store: &dyn Store,
    config: &Config,
    ns: &str,
    now: Millis,
    by: &str,
    before: &Slots,
) -> Result<Slots> {
    let slots = store.schedule_slots(ns).await?;
    let due: Vec<(String, Millis)> = slots.iter().filter(|(_, at)| *at <= now).cloned().collect();
    if due.is_empty() {
        return Ok(Slots { next: slots.first().map(|(_, at)| *at), ..Slots::default() });
    }
    let (mut retry_soon, mut failed) = (false, false);
    for (id, slot) in due {
        match fire(store, config, ns, &id, Some(slot), by, &Actor::Engine).await {
            Ok(FireOutcome::Fired { assignment_id, .. }) => {
                tracing::info!(schedule = %id, assignment = %assignment_id, "schedule fired")
            }
            Ok(FireOutcome::Skipped { reason, .. }) => tracing::info!(schedule = %id, "schedule skipped: {reason}"),
            Ok(FireOutcome::NotDue { .. }) => retry_soon = true,
            // Removed meanwhile, or the database failed: the next round looks again.
            Err(e) => {
                tracing::warn!(schedule = %id, "firing the schedule failed: {e}");
                (retry_soon, failed) = (true, true);
            }
        }
    }
    let next = store.schedule_slots(ns).await?.first().map(|(_, at)| *at);
    let failed_rounds = if failed { before.failed_rounds.saturating_add(1) } else { 0 };
    Ok(Slots { next, retry_soon, failed_rounds })
}

#[cfg(test)]
mod tests {
    use super::Slots;

    #[test]
    fn a_slot_that_keeps_failing_is_retried_ever_later() {
        let floor = |retry_soon, failed_rounds| Slots { next: None, retry_soon, failed_rounds }.retry_floor_ms();
        assert_eq!(floor(false, 0), 1, "a slot ahead is looked at when it is due");
        assert_eq!(floor(true, 0), 250, "not yet due by the database's clock");
        assert_eq!(floor(true, 1), 500);
        assert_eq!(floor(true, 3), 2_000);
        assert_eq!(floor(true, 40), 60_000, "at most a minute");
    }
}
