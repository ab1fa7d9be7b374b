//! Filling a database fast, through the real schema: `baton_store::open` creates and migrates
//! the file, then one rusqlite transaction inserts rows with the real columns. The schema's
//! triggers keep `status_counts` and `job_count` right, exactly as they do for baton's own writes.
//!
//! The shape: every tenth assignment is active and every tenth (offset by one) blocked, the rest
//! complete. Each has a chain of `jobs_per` jobs alternating a work job and its PM job
//! (plan, pm, implement, pm, review, pm, uat, pm, document, pm). Complete assignments' jobs are
//! all complete; an active or blocked assignment's jobs are complete but its last, which is
//! pending. Complete jobs carry a result, cost, tokens and one attempt; history has what baton
//! records (created, queued, started, complete, the status change).

use crate::error::{Ctx, Result};
use rusqlite::{params, Connection};
use std::path::Path;
use std::time::{Duration, Instant};

const WORK_TYPES: [&str; 5] = ["plan", "implement", "review", "uat", "document"];
const RUNNER: &str = "rbench0001";
/// Minutes between the start of two jobs of a chain, and how long a job ran.
const JOB_GAP_MS: i64 = 6 * 60_000;
const JOB_RAN_MS: i64 = 4 * 60_000;

/// How much to fill.
#[derive(Debug, Clone, Copy)]
pub struct FillSpec {
    pub assignments: usize,
    pub jobs_per: usize,
}

/// What was filled, and what `baton queue` must count.
#[derive(Debug, Clone)]
pub struct Filled {
    /// A complete assignment (with `jobs_per` jobs) to show.
    pub complete_id: String,
    /// A job of that assignment, for `baton job`.
    pub complete_job_id: String,
    /// Active assignments, oldest first, for inserting jobs into.
    pub active_ids: Vec<String>,
    pub assignments: [(&'static str, u64); 3],
    pub jobs: [(&'static str, u64); 2],
    pub history_rows: u64,
    pub took: Duration,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Complete,
    Active,
    Blocked,
}

/// Creates the database at `db` (through baton's own migrations) and fills namespace `ns`.
pub fn fill(db: &Path, ns: &str, spec: FillSpec) -> Result<Filled> {
    let started = Instant::now();
    let url = format!("sqlite://{}", db.display());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ctx("starting tokio")?;
    runtime.block_on(baton_store::open(&url)).map_err(|e| format!("opening {url} with baton_store: {e}"))?;
    drop(runtime);

    let mut conn = Connection::open(db).ctx("opening the database for the fill")?;
    // A big page cache keeps the whole fill in memory until the commit (no spilling mid-way).
    conn.execute_batch("PRAGMA cache_size = -262144;").ctx("sizing the fill's page cache")?;
    let tx = conn.transaction().ctx("starting the fill transaction")?;
    let mut filled = Filled {
        complete_id: String::new(),
        complete_job_id: String::new(),
        active_ids: Vec::new(),
        assignments: [("active", 0), ("blocked", 0), ("complete", 0)],
        jobs: [("complete", 0), ("pending", 0)],
        history_rows: 0,
        took: Duration::ZERO,
    };
    {
        let mut rows = Inserts::prepare(&tx)?;
        let now = baton_core::time::now_ms();
        let span = 90 * 86_400_000i64;
        let base = now - span;
        let step = span / spec.assignments.max(1) as i64;
        for i in 0..spec.assignments {
            let kind = match i % 10 {
                0 => Kind::Active,
                1 => Kind::Blocked,
                _ => Kind::Complete,
            };
            let created = base + i as i64 * step;
            let aid = rows.assignment(ns, i, kind, created, spec.jobs_per)?;
            match kind {
                Kind::Active => {
                    filled.active_ids.push(aid.clone());
                    filled.assignments[0].1 += 1;
                }
                Kind::Blocked => filled.assignments[1].1 += 1,
                Kind::Complete => {
                    filled.assignments[2].1 += 1;
                    if filled.complete_id.is_empty() {
                        filled.complete_id = aid.clone();
                    }
                }
            }
            let open = kind != Kind::Complete;
            filled.jobs[0].1 += (spec.jobs_per - usize::from(open)) as u64;
            filled.jobs[1].1 += u64::from(open);
        }
        filled.history_rows = rows.history_rows;
    }
    // A job's cost reaches its assignment through a trigger on UPDATE; these rows were inserted.
    tx.execute(
        "UPDATE assignments SET cost_usd = (SELECT SUM(cost_usd) FROM jobs WHERE assignment_id = assignments.id) \
         WHERE namespace = ?1",
        [ns],
    )
    .ctx("summing costs")?;
    filled.complete_job_id = tx
        .query_row(
            "SELECT id FROM jobs WHERE assignment_id = ?1 ORDER BY position LIMIT 1",
            [&filled.complete_id],
            |r| r.get(0),
        )
        .ctx("finding a complete job")?;
    tx.commit().ctx("committing the fill")?;
    // Start the measurements from a checkpointed file, as a long-lived database would be.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).ctx("checkpointing")?;
    filled.took = started.elapsed();
    Ok(filled)
}

/// The prepared inserts of one fill.
struct Inserts<'c> {
    assignment: rusqlite::Statement<'c>,
    job: rusqlite::Statement<'c>,
    attempt: rusqlite::Statement<'c>,
    history: rusqlite::Statement<'c>,
    history_rows: u64,
    /// Every id this fill drew: a million random ids are likely to repeat one (the store draws
    /// again on a taken id; this fill writes its rows itself, so it does the same).
    drawn: std::collections::HashSet<String>,
}

impl<'c> Inserts<'c> {
    fn prepare(conn: &'c Connection) -> Result<Inserts<'c>> {
        Ok(Inserts {
            assignment: conn
                .prepare(
                    "INSERT INTO assignments (id, namespace, north_star, status, reason, max_jobs, budget_usd, \
                     origin_root, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 50, ?6, '/work/repo', ?7, ?8)",
                )
                .ctx("preparing")?,
            job: conn
                .prepare(
                    "INSERT INTO jobs (id, namespace, assignment_id, position, type, harness, context, status, \
                     attempts, max_attempts, created_at, started_at, finished_at, duration_ms, result, success, \
                     exit_code, session_id, tokens_in, tokens_out, cost_usd, for_job_id, transcript_events, \
                     transcript_bytes, decided) \
                     VALUES (?1, ?2, ?3, ?4, ?5, 'claude', ?6, ?7, ?8, 3, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                     ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
                )
                .ctx("preparing")?,
            attempt: conn
                .prepare(
                    "INSERT INTO attempts (job_id, n, runner, started_at, finished_at, outcome) \
                     VALUES (?1, 1, ?2, ?3, ?4, 'complete')",
                )
                .ctx("preparing")?,
            history: conn
                .prepare(
                    "INSERT INTO history (assignment_id, job_id, at, actor, action, reason) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .ctx("preparing")?,
            history_rows: 0,
            drawn: std::collections::HashSet::new(),
        })
    }

    /// A fresh id no row of this fill has.
    fn fresh(&mut self, draw: fn() -> String) -> String {
        loop {
            let id = draw();
            if self.drawn.insert(id.clone()) {
                return id;
            }
        }
    }

    fn record(
        &mut self,
        aid: &str,
        job: Option<&str>,
        at: i64,
        actor: &str,
        action: &str,
        reason: Option<&str>,
    ) -> Result<()> {
        self.history_rows += 1;
        self.history.execute(params![aid, job, at, actor, action, reason]).map(|_| ()).ctx("inserting history")
    }

    /// One assignment with its chain; returns its id.
    fn assignment(&mut self, ns: &str, i: usize, kind: Kind, created: i64, jobs: usize) -> Result<String> {
        let aid = self.fresh(baton_core::ids::new_assignment_id);
        let north_star = format!(
            "Feature {i}: add the {} endpoint with validation, tests and documentation, keeping the public API stable",
            ["billing", "export", "search", "audit log", "webhook"][i % 5]
        );
        let ends = created + jobs as i64 * JOB_GAP_MS;
        let (status, reason) = match kind {
            Kind::Complete => ("complete", None),
            Kind::Active => ("active", None),
            Kind::Blocked => ("blocked", Some("needs a product decision: which of the two payment providers to keep")),
        };
        let budget = (i % 3 == 0).then_some(25.0);
        self.assignment
            .execute(params![aid, ns, north_star, status, reason, budget, created, ends])
            .ctx("inserting")?;
        self.record(&aid, None, created, "person:bench", "created", None)?;

        let mut previous: Option<String> = None;
        let mut last_pm = String::new();
        for position in 0..jobs {
            let id = self.fresh(baton_core::ids::new_job_id);
            let pm = position % 2 == 1;
            let job_type = if pm { "pm" } else { WORK_TYPES[(position / 2) % WORK_TYPES.len()] };
            let open = kind != Kind::Complete && position == jobs - 1;
            let at = created + position as i64 * JOB_GAP_MS;
            let context = if pm {
                String::new()
            } else {
                format!(
                    "Step {} of the plan: keep changes small, run the tests, report what changed.",
                    position / 2 + 1
                )
            };
            let (queued_by, queued) = match (&previous, pm) {
                (None, _) => ("person:bench".to_string(), format!("{job_type} job queued (claude)")),
                (Some(prev), true) => ("engine".to_string(), format!("pm job inserted after {prev} (claude)")),
                (Some(_), false) => (format!("job:{last_pm}"), format!("{job_type} job queued (claude)")),
            };
            let (status, attempts) = if open { ("pending", 0) } else { ("complete", 1) };
            let done = !open;
            let finished = at + JOB_RAN_MS;
            let result = done.then(|| {
                format!(
                    "Done. Changed {} files; all {} tests pass. Next: {}.",
                    position + 2,
                    40 + position,
                    if pm { "queued the next step" } else { "the PM decides" }
                )
            });
            self.job
                .execute(params![
                    id,
                    ns,
                    aid,
                    position as i64 + 1,
                    job_type,
                    context,
                    status,
                    attempts,
                    at,
                    done.then_some(at),
                    done.then_some(finished),
                    done.then_some(JOB_RAN_MS),
                    result,
                    done.then_some(true),
                    done.then_some(0),
                    done.then(|| format!("sess-{id}")),
                    done.then_some(12_000 + position as i64 * 100),
                    done.then_some(1_500i64),
                    done.then_some(0.05 + (position % 7) as f64 * 0.03),
                    if pm { previous.clone() } else { None },
                    if done { 40 } else { 0 },
                    if done { 12_000 } else { 0 },
                    pm && done,
                ])
                .ctx("inserting a job")?;
            self.record(&aid, Some(&id), at, &queued_by, &queued, None)?;
            if done {
                self.attempt.execute(params![id, RUNNER, at, finished]).ctx("inserting an attempt")?;
                let started = format!("job started by runner {RUNNER} (attempt 1)");
                self.record(&aid, Some(&id), at, "engine", &started, None)?;
                self.record(&aid, Some(&id), finished, "engine", "job complete", None)?;
            }
            if pm {
                last_pm = id.clone();
            }
            previous = Some(id);
        }
        match kind {
            Kind::Complete => {
                self.record(&aid, None, ends, &format!("job:{last_pm}"), "status active → complete", None)?
            }
            Kind::Blocked => {
                self.record(&aid, None, ends, &format!("job:{last_pm}"), "status active → blocked", reason)?
            }
            Kind::Active => {}
        }
        Ok(aid)
    }
}
