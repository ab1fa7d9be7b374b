//! Schedules on PostgreSQL: adding, listing, pausing and removing them, and the fire. A fire
//! locks the schedule's row first, so fires of one schedule run one after another and each reads
//! what the one before it left; its compare-and-set (`UPDATE … WHERE next_fire_at = <slot
//! read>`) then moves the slot only for the caller that read it. A runner that lost the race
//! finds the slot moved and writes nothing.

use super::{assignments, pg_text, rows, Context, TxError, TxResult};
use baton_core::engine::schedule::{self, Fire};
use baton_core::store::{FireOutcome, FireRequest, NewAssignment, NewSchedule};
use baton_core::time::{rfc3339, Millis};
use baton_core::{ids, Actor, Error, JobType, Overlap, Schedule, ScheduleRun, ScheduleTemplate, RUNS_SHOWN};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::Row;

const COLUMNS: &str = "id, namespace, cron, timezone, north_star, overlap, paused, next_fire_at, last_fired_at, \
     last_assignment_id, first_type, harness, model, effort, context, budget_usd, budget_tokens, max_jobs, base, \
     created_by, created_at";

fn decode(what: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: what.to_string(), source: Box::new(e) }
}

fn row(r: &PgRow) -> sqlx::Result<Schedule> {
    let overlap: String = r.try_get(5)?;
    let first: Option<String> = r.try_get(10)?;
    let max_jobs: Option<i32> = r.try_get(17)?;
    Ok(Schedule {
        id: r.try_get(0)?,
        namespace: r.try_get(1)?,
        cron: r.try_get(2)?,
        timezone: r.try_get(3)?,
        north_star: r.try_get(4)?,
        overlap: overlap.parse::<Overlap>().map_err(|e| decode("overlap", e))?,
        paused: r.try_get(6)?,
        next_fire_at: r.try_get(7)?,
        last_fired_at: r.try_get(8)?,
        last_assignment_id: r.try_get(9)?,
        creates: ScheduleTemplate {
            first: first.map(|t| t.parse::<JobType>()).transpose().map_err(|e| decode("first_type", e))?,
            harness: r.try_get(11)?,
            model: r.try_get(12)?,
            effort: r.try_get(13)?,
            context: r.try_get(14)?,
            budget_usd: r.try_get(15)?,
            budget_tokens: r.try_get(16)?,
            max_jobs: max_jobs.map(|n| n.max(0) as u32),
            base: r.try_get(18)?,
        },
        created_by: r.try_get(19)?,
        created_at: r.try_get(20)?,
        runs: Vec::new(),
        runs_total: 0,
    })
}

/// Adds a schedule whose first slot is the first after `at`.
pub async fn add(conn: &mut PgConnection, new: &NewSchedule, actor: &Actor, at: Millis) -> TxResult<Schedule> {
    schedule::check_actor(actor)?;
    let spec = new.validate()?;
    let id = ids::new_schedule_id();
    let next = spec.next_after(at)?;
    let t = &new.creates;
    sqlx::query(&format!(
        "INSERT INTO schedules ({COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, FALSE, $7, NULL, NULL, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
    ))
    .bind(&id)
    .bind(&new.namespace)
    .bind(pg_text(spec.pattern()))
    .bind(pg_text(new.timezone.trim()))
    .bind(pg_text(new.north_star.trim()))
    .bind(new.overlap.as_str())
    .bind(next)
    .bind(t.first.map(JobType::as_str))
    .bind(t.harness.as_deref().map(pg_text))
    .bind(t.model.as_deref().map(pg_text))
    .bind(t.effort.as_deref().map(pg_text))
    .bind(pg_text(&t.context))
    .bind(t.budget_usd)
    .bind(t.budget_tokens)
    .bind(t.max_jobs.map(|n| i32::try_from(n).unwrap_or(i32::MAX)))
    .bind(t.base.as_deref().map(pg_text))
    .bind(pg_text(&actor.to_string()))
    .bind(at)
    .execute(&mut *conn)
    .await
    .ctx("adding a schedule")?;
    get(conn, &new.namespace, &id).await
}

/// One schedule with its latest runs.
pub async fn get(conn: &mut PgConnection, ns: &str, id: &str) -> TxResult<Schedule> {
    let mut s = load(conn, ns, id, false).await?;
    with_runs(conn, &mut s).await?;
    Ok(s)
}

/// One schedule's row; with `lock`, held `FOR UPDATE` until the transaction ends.
async fn load(conn: &mut PgConnection, ns: &str, id: &str, lock: bool) -> TxResult<Schedule> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let found = sqlx::query(&format!("SELECT {COLUMNS} FROM schedules WHERE id = $1 AND namespace = $2{lock}"))
        .bind(id.trim())
        .bind(ns)
        .fetch_optional(&mut *conn)
        .await
        .ctx("reading a schedule")?;
    match found {
        Some(r) => row(&r).ctx("reading a schedule"),
        None => Err(Error::ScheduleNotFound { namespace: ns.to_string(), id: id.to_string() }.into()),
    }
}

async fn with_runs(conn: &mut PgConnection, s: &mut Schedule) -> TxResult<()> {
    let found = sqlx::query(
        "SELECT slot_at, fired_at, assignment_id, skipped, by_whom FROM schedule_runs WHERE schedule_id = $1 \
         ORDER BY id DESC LIMIT $2",
    )
    .bind(&s.id)
    .bind(RUNS_SHOWN as i64)
    .fetch_all(&mut *conn)
    .await
    .ctx("reading a schedule's runs")?;
    s.runs = found
        .iter()
        .map(|r| {
            Ok(ScheduleRun {
                slot_at: r.try_get(0)?,
                fired_at: r.try_get(1)?,
                assignment_id: r.try_get(2)?,
                skipped: r.try_get(3)?,
                by: r.try_get(4)?,
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()
        .ctx("reading a schedule's runs")?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schedule_runs WHERE schedule_id = $1")
        .bind(&s.id)
        .fetch_one(&mut *conn)
        .await
        .ctx("counting a schedule's runs")?;
    s.runs_total = total.max(0) as u64;
    Ok(())
}

/// The namespace's schedules, oldest first.
pub async fn list(conn: &mut PgConnection, ns: &str) -> TxResult<Vec<Schedule>> {
    let found = sqlx::query(&format!("SELECT {COLUMNS} FROM schedules WHERE namespace = $1 ORDER BY created_at, id"))
        .bind(ns)
        .fetch_all(&mut *conn)
        .await
        .ctx("listing schedules")?;
    let mut list = found.iter().map(row).collect::<sqlx::Result<Vec<_>>>().ctx("listing schedules")?;
    for s in &mut list {
        with_runs(conn, s).await?;
    }
    Ok(list)
}

pub async fn slots(conn: &mut PgConnection, ns: &str) -> TxResult<Vec<(String, Millis)>> {
    sqlx::query_as(
        "SELECT id, next_fire_at FROM schedules WHERE namespace = $1 AND NOT paused ORDER BY next_fire_at, id",
    )
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("reading the schedules' next slots")
}

pub async fn remove(conn: &mut PgConnection, ns: &str, id: &str, actor: &Actor) -> TxResult<Schedule> {
    schedule::check_actor(actor)?;
    let s = get(conn, ns, id).await?;
    sqlx::query("DELETE FROM schedules WHERE id = $1")
        .bind(&s.id)
        .execute(&mut *conn)
        .await
        .ctx("removing a schedule")?;
    Ok(s)
}

pub async fn pause(
    conn: &mut PgConnection,
    ns: &str,
    id: &str,
    paused: bool,
    actor: &Actor,
    at: Millis,
) -> TxResult<Schedule> {
    schedule::check_actor(actor)?;
    let s = load(conn, ns, id, true).await?;
    // Resuming starts from now: the slots missed while paused are not fired. A schedule that
    // is not paused keeps its next slot, even a due one: it missed nothing by being paused.
    let next =
        if paused || !s.paused { s.next_fire_at } else { schedule::parse(&s.cron, &s.timezone)?.next_after(at)? };
    sqlx::query("UPDATE schedules SET paused = $2, next_fire_at = $3 WHERE id = $1")
        .bind(&s.id)
        .bind(paused)
        .bind(next)
        .execute(&mut *conn)
        .await
        .ctx("pausing a schedule")?;
    get(conn, ns, id).await
}

pub async fn set_next_fire(
    conn: &mut PgConnection,
    ns: &str,
    id: &str,
    next: Millis,
    actor: &Actor,
) -> TxResult<Schedule> {
    schedule::check_actor(actor)?;
    let s = load(conn, ns, id, true).await?;
    sqlx::query("UPDATE schedules SET next_fire_at = $2 WHERE id = $1")
        .bind(&s.id)
        .bind(next)
        .execute(&mut *conn)
        .await
        .ctx("moving a schedule's next slot")?;
    get(conn, ns, id).await
}

/// Fires a schedule (see [`baton_core::Store::fire_schedule`]).
pub async fn fire(
    conn: &mut PgConnection,
    ns: &str,
    id: &str,
    fire: &FireRequest,
    actor: &Actor,
    at: Millis,
) -> TxResult<FireOutcome> {
    schedule::check_actor(actor)?;
    // Locked first: a concurrent fire of the same schedule (a slot, or a webhook on demand) waits
    // here and then reads the row as that fire left it — its moved slot, its new assignment.
    let s = load(conn, ns, id, true).await?;
    let not_due = FireOutcome::NotDue { schedule_id: s.id.clone() };
    if s.paused {
        return match fire.slot {
            Some(_) => Ok(not_due),
            None => Err(Error::invalid(format!(
                "schedule {} is paused; resume it first: baton schedule resume {}",
                s.id, s.id
            ))
            .into()),
        };
    }
    if let Some(slot) = fire.slot {
        if slot != s.next_fire_at || slot > at {
            return Ok(not_due);
        }
        let next = schedule::parse(&s.cron, &s.timezone)?.next_after_fire(slot, at)?;
        // The compare-and-set: only the caller that read this slot moves it.
        let moved = sqlx::query("UPDATE schedules SET next_fire_at = $3 WHERE id = $1 AND next_fire_at = $2")
            .bind(&s.id)
            .bind(slot)
            .bind(next)
            .execute(&mut *conn)
            .await
            .ctx("moving a schedule's slot")?;
        if moved.rows_affected() == 0 {
            return Ok(not_due);
        }
    }
    let previous = match &s.last_assignment_id {
        // Only an assignment that is gone (a person deleted it) counts as none; a failed read
        // must not slip past the overlap rule.
        Some(aid) => match assignments::load(conn, ns, aid).await {
            Ok(a) => Some((a.id, a.status)),
            Err(TxError::Baton(Error::AssignmentNotFound { .. })) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let decision = match &fire.assignment {
        Err(why) => Fire::Skip(format!("the assignment could not be created: {why}")),
        Ok(_) => schedule::decide(s.overlap, previous.as_ref().map(|(id, st)| (id.as_str(), *st))),
    };
    let created = match (&decision, &fire.assignment) {
        (Fire::Create, Ok(new)) => create(conn, &s, new, fire, actor, at).await?,
        _ => Err(match decision {
            Fire::Skip(reason) => reason,
            Fire::Create => String::new(),
        }),
    };
    let (assignment_id, skipped) = match &created {
        Ok(aid) => (Some(aid.clone()), None),
        Err(reason) => (None, Some(reason.clone())),
    };
    sqlx::query(
        "INSERT INTO schedule_runs (schedule_id, slot_at, fired_at, assignment_id, skipped, by_whom) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&s.id)
    .bind(fire.slot)
    .bind(at)
    .bind(assignment_id)
    .bind(skipped.as_deref().map(pg_text))
    .bind(pg_text(&fire.by))
    .execute(&mut *conn)
    .await
    .ctx("recording a schedule's run")?;
    Ok(match created {
        Ok(assignment_id) => FireOutcome::Fired { schedule_id: s.id, assignment_id },
        Err(reason) => FireOutcome::Skipped { schedule_id: s.id, reason },
    })
}

/// Creates the assignment as `create` does, inside a savepoint: a refusal becomes a skipped run
/// instead of undoing the slot's move (see the SQLite backend); an SQL error still aborts the
/// transaction, to be run again.
async fn create(
    conn: &mut PgConnection,
    s: &Schedule,
    new: &NewAssignment,
    fire: &FireRequest,
    actor: &Actor,
    at: Millis,
) -> TxResult<std::result::Result<String, String>> {
    sqlx::query("SAVEPOINT schedule_fire").execute(&mut *conn).await.ctx("starting a schedule's fire")?;
    match assignments::create(conn, new, actor, at).await {
        Ok(detail) => {
            let aid = detail.assignment.id;
            let slot = fire.slot.map_or_else(|| "on demand".to_string(), |t| format!("for the slot {}", rfc3339(t)));
            let why = format!("schedule {} ({} {}) fired {slot} by {}", s.id, s.cron, s.timezone, fire.by);
            rows::record(conn, &aid, None, at, &Actor::Engine, "scheduled", Some(&why)).await?;
            sqlx::query("UPDATE schedules SET last_fired_at = $2, last_assignment_id = $3 WHERE id = $1")
                .bind(&s.id)
                .bind(at)
                .bind(&aid)
                .execute(&mut *conn)
                .await
                .ctx("recording a schedule's fire")?;
            sqlx::query("RELEASE SAVEPOINT schedule_fire")
                .execute(&mut *conn)
                .await
                .ctx("finishing a schedule's fire")?;
            Ok(Ok(aid))
        }
        Err(super::TxError::Baton(e)) => {
            sqlx::query("ROLLBACK TO SAVEPOINT schedule_fire")
                .execute(&mut *conn)
                .await
                .ctx("undoing a schedule's fire")?;
            Ok(Err(format!("the assignment could not be created: {e}")))
        }
        Err(sql) => Err(sql),
    }
}
