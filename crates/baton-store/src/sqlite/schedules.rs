//! Schedules on SQLite: adding, listing, pausing and removing them, and the fire — one
//! `BEGIN IMMEDIATE` transaction that moves the slot with a compare-and-set, applies the overlap
//! rule, creates the assignment through [`assignments::create`] and records the run.

use super::{assignments, rows, Context};
use baton_core::engine::schedule::{self, Fire};
use baton_core::store::{FireOutcome, FireRequest, NewSchedule};
use baton_core::time::{rfc3339, Millis};
use baton_core::{ids, Actor, Error, JobType, Overlap, Result, Schedule, ScheduleRun, ScheduleTemplate, RUNS_SHOWN};
use rusqlite::{params, Connection, OptionalExtension, Row};

const COLUMNS: &str = "id, namespace, cron, timezone, north_star, overlap, paused, next_fire_at, last_fired_at, \
     last_assignment_id, first_type, harness, model, effort, context, budget_usd, budget_tokens, max_jobs, base, \
     created_by, created_at";

fn row(r: &Row<'_>) -> rusqlite::Result<Schedule> {
    let first: Option<String> = r.get(10)?;
    Ok(Schedule {
        id: r.get(0)?,
        namespace: r.get(1)?,
        cron: r.get(2)?,
        timezone: r.get(3)?,
        north_star: r.get(4)?,
        overlap: rows::parsed::<Overlap>(r, 5)?,
        paused: r.get(6)?,
        next_fire_at: r.get(7)?,
        last_fired_at: r.get(8)?,
        last_assignment_id: r.get(9)?,
        creates: ScheduleTemplate {
            first: first
                .map(|t| t.parse::<JobType>())
                .transpose()
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(10, rusqlite::types::Type::Text, Box::new(e)))?,
            harness: r.get(11)?,
            model: r.get(12)?,
            effort: r.get(13)?,
            context: r.get(14)?,
            budget_usd: r.get(15)?,
            budget_tokens: r.get(16)?,
            max_jobs: r.get(17)?,
            base: r.get(18)?,
        },
        created_by: r.get(19)?,
        created_at: r.get(20)?,
        runs: Vec::new(),
        runs_total: 0,
    })
}

/// Adds a schedule whose first slot is the first after `at`.
pub fn add(conn: &Connection, new: &NewSchedule, actor: &Actor, at: Millis) -> Result<Schedule> {
    schedule::check_actor(actor)?;
    let spec = new.validate()?;
    let id = ids::new_schedule_id();
    let next = spec.next_after(at)?;
    let t = &new.creates;
    conn.prepare_cached(&format!(
        "INSERT INTO schedules ({COLUMNS}) VALUES \
         (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, NULL, NULL, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            id,
            new.namespace,
            spec.pattern(),
            new.timezone.trim(),
            new.north_star.trim(),
            new.overlap.as_str(),
            next,
            t.first.map(JobType::as_str),
            t.harness,
            t.model,
            t.effort,
            t.context,
            t.budget_usd,
            t.budget_tokens,
            t.max_jobs,
            t.base,
            actor.to_string(),
            at
        ])
    })
    .ctx("adding a schedule")?;
    get(conn, &new.namespace, &id)
}

/// One schedule with its latest runs.
pub fn get(conn: &Connection, ns: &str, id: &str) -> Result<Schedule> {
    let mut s = load(conn, ns, id)?;
    with_runs(conn, &mut s)?;
    Ok(s)
}

fn load(conn: &Connection, ns: &str, id: &str) -> Result<Schedule> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM schedules WHERE id = ?1 AND namespace = ?2"))
        .and_then(|mut s| s.query_row(params![id.trim(), ns], row).optional())
        .ctx("reading a schedule")?
        .ok_or_else(|| Error::ScheduleNotFound { namespace: ns.to_string(), id: id.to_string() })
}

fn with_runs(conn: &Connection, s: &mut Schedule) -> Result<()> {
    s.runs = conn
        .prepare_cached(
            "SELECT slot_at, fired_at, assignment_id, skipped, by_whom FROM schedule_runs WHERE schedule_id = ?1 \
             ORDER BY id DESC LIMIT ?2",
        )
        .and_then(|mut st| {
            st.query_map(params![s.id, RUNS_SHOWN as i64], |r| {
                Ok(ScheduleRun {
                    slot_at: r.get(0)?,
                    fired_at: r.get(1)?,
                    assignment_id: r.get(2)?,
                    skipped: r.get(3)?,
                    by: r.get(4)?,
                })
            })?
            .collect()
        })
        .ctx("reading a schedule's runs")?;
    s.runs_total = conn
        .prepare_cached("SELECT COUNT(*) FROM schedule_runs WHERE schedule_id = ?1")
        .and_then(|mut st| st.query_row(params![s.id], |r| r.get::<_, i64>(0)))
        .ctx("counting a schedule's runs")? as u64;
    Ok(())
}

/// The namespace's schedules, oldest first.
pub fn list(conn: &Connection, ns: &str) -> Result<Vec<Schedule>> {
    let mut found: Vec<Schedule> = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM schedules WHERE namespace = ?1 ORDER BY created_at, id"))
        .and_then(|mut s| s.query_map(params![ns], row)?.collect())
        .ctx("listing schedules")?;
    for s in &mut found {
        with_runs(conn, s)?;
    }
    Ok(found)
}

pub fn slots(conn: &Connection, ns: &str) -> Result<Vec<(String, Millis)>> {
    conn.prepare_cached(
        "SELECT id, next_fire_at FROM schedules WHERE namespace = ?1 AND paused = 0 ORDER BY next_fire_at, id",
    )
    .and_then(|mut s| s.query_map(params![ns], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
    .ctx("reading the schedules' next slots")
}

pub fn remove(conn: &Connection, ns: &str, id: &str, actor: &Actor) -> Result<Schedule> {
    schedule::check_actor(actor)?;
    let s = get(conn, ns, id)?;
    conn.prepare_cached("DELETE FROM schedules WHERE id = ?1")
        .and_then(|mut st| st.execute(params![s.id]))
        .ctx("removing a schedule")?;
    Ok(s)
}

pub fn pause(conn: &Connection, ns: &str, id: &str, paused: bool, actor: &Actor, at: Millis) -> Result<Schedule> {
    schedule::check_actor(actor)?;
    let s = load(conn, ns, id)?;
    // Resuming starts from now: the slots missed while paused are not fired. A schedule that
    // is not paused keeps its next slot, even a due one: it missed nothing by being paused.
    let next =
        if paused || !s.paused { s.next_fire_at } else { schedule::parse(&s.cron, &s.timezone)?.next_after(at)? };
    conn.prepare_cached("UPDATE schedules SET paused = ?2, next_fire_at = ?3 WHERE id = ?1")
        .and_then(|mut st| st.execute(params![s.id, paused, next]))
        .ctx("pausing a schedule")?;
    get(conn, ns, id)
}

pub fn set_next_fire(conn: &Connection, ns: &str, id: &str, next: Millis, actor: &Actor) -> Result<Schedule> {
    schedule::check_actor(actor)?;
    let s = load(conn, ns, id)?;
    conn.prepare_cached("UPDATE schedules SET next_fire_at = ?2 WHERE id = ?1")
        .and_then(|mut st| st.execute(params![s.id, next]))
        .ctx("moving a schedule's next slot")?;
    get(conn, ns, id)
}

/// Fires a schedule (see [`baton_core::Store::fire_schedule`]).
pub fn fire(
    conn: &Connection,
    ns: &str,
    id: &str,
    fire: &FireRequest,
    actor: &Actor,
    at: Millis,
) -> Result<FireOutcome> {
    schedule::check_actor(actor)?;
    let s = load(conn, ns, id)?;
    let not_due = || Ok(FireOutcome::NotDue { schedule_id: s.id.clone() });
    if s.paused {
        return match fire.slot {
            Some(_) => not_due(),
            None => Err(Error::invalid(format!(
                "schedule {} is paused; resume it first: baton schedule resume {}",
                s.id, s.id
            ))),
        };
    }
    if let Some(slot) = fire.slot {
        if slot != s.next_fire_at || slot > at {
            return not_due();
        }
        let next = schedule::parse(&s.cron, &s.timezone)?.next_after_fire(slot, at)?;
        // The compare-and-set: only the caller that read this slot moves it.
        let moved = conn
            .prepare_cached("UPDATE schedules SET next_fire_at = ?3 WHERE id = ?1 AND next_fire_at = ?2")
            .and_then(|mut st| st.execute(params![s.id, slot, next]))
            .ctx("moving a schedule's slot")?;
        if moved == 0 {
            return not_due();
        }
    }
    let previous = match &s.last_assignment_id {
        // Only an assignment that is gone (a person deleted it) counts as none; a failed read
        // must not slip past the overlap rule.
        Some(aid) => match assignments::load(conn, ns, aid) {
            Ok(a) => Some((a.id, a.status)),
            Err(Error::AssignmentNotFound { .. }) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let decision = match &fire.assignment {
        Err(why) => Fire::Skip(format!("the assignment could not be created: {why}")),
        Ok(_) => schedule::decide(s.overlap, previous.as_ref().map(|(id, st)| (id.as_str(), *st))),
    };
    let created = match (&decision, &fire.assignment) {
        (Fire::Create, Ok(new)) => create(conn, &s, new, fire, actor, at)?,
        _ => Err(match decision {
            Fire::Skip(reason) => reason,
            Fire::Create => String::new(),
        }),
    };
    let (assignment_id, skipped) = match &created {
        Ok(aid) => (Some(aid.clone()), None),
        Err(reason) => (None, Some(reason.clone())),
    };
    conn.prepare_cached(
        "INSERT INTO schedule_runs (schedule_id, slot_at, fired_at, assignment_id, skipped, by_whom) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| st.execute(params![s.id, fire.slot, at, assignment_id, skipped, fire.by]))
    .ctx("recording a schedule's run")?;
    Ok(match created {
        Ok(assignment_id) => FireOutcome::Fired { schedule_id: s.id, assignment_id },
        Err(reason) => FireOutcome::Skipped { schedule_id: s.id, reason },
    })
}

/// Creates the assignment as `create` does, inside a savepoint: a refusal (a harness no longer
/// configured, a limit) becomes a skipped run instead of undoing the slot's move, so a broken
/// schedule does not make every runner try the same slot forever.
fn create(
    conn: &Connection,
    s: &Schedule,
    new: &baton_core::store::NewAssignment,
    fire: &FireRequest,
    actor: &Actor,
    at: Millis,
) -> Result<std::result::Result<String, String>> {
    conn.execute_batch("SAVEPOINT schedule_fire").ctx("starting a schedule's fire")?;
    match assignments::create(conn, new, actor, at) {
        Ok(detail) => {
            let aid = detail.assignment.id;
            let slot = fire.slot.map_or_else(|| "on demand".to_string(), |t| format!("for the slot {}", rfc3339(t)));
            let why = format!("schedule {} ({} {}) fired {slot} by {}", s.id, s.cron, s.timezone, fire.by);
            rows::record(conn, &aid, None, at, &Actor::Engine, "scheduled", Some(&why))?;
            conn.prepare_cached("UPDATE schedules SET last_fired_at = ?2, last_assignment_id = ?3 WHERE id = ?1")
                .and_then(|mut st| st.execute(params![s.id, at, aid]))
                .ctx("recording a schedule's fire")?;
            conn.execute_batch("RELEASE schedule_fire").ctx("finishing a schedule's fire")?;
            Ok(Ok(aid))
        }
        Err(e @ (Error::Database { .. } | Error::DatabaseCorrupt { .. } | Error::DatabaseGone { .. })) => Err(e),
        Err(e) => {
            conn.execute_batch("ROLLBACK TO schedule_fire; RELEASE schedule_fire").ctx("undoing a schedule's fire")?;
            Ok(Err(format!("the assignment could not be created: {e}")))
        }
    }
}
