//! Runner registration, leases and claims.
//!
//! A claim is one `BEGIN IMMEDIATE` transaction: re-queue jobs whose lease expired, pick the
//! oldest ready job (the ready rule of [`super::queue::next_jobs`]), and mark it running under a
//! fresh fencing token. The partial unique index `jobs_one_running` makes a second running job
//! in one assignment impossible whatever a runner believes.

use super::rows::{self, ASSIGNMENT_COLUMNS};
use super::{assignments, finish, jobs, queue, Context};
use crate::prompt;
use baton_core::engine::{self, spend, ClaimCheck, JobTransition, LostLease};
use baton_core::prompt_dictionary::PromptDictionary;
use baton_core::store::{AgentProcess, AttemptPrompt, AttemptStart, Claim, EnginePolicy, Lease, RunnerInfo};
use baton_core::time::Millis;
use baton_core::{Actor, AssignmentStatus, JobStatus, JobType, Result};
use rusqlite::{params, Connection, OptionalExtension};

pub fn register(conn: &Connection, info: &RunnerInfo, at: Millis) -> Result<()> {
    // A runner older than the database's newest protocol would not follow its rules.
    super::version::check_protocol(conn)?;
    conn.prepare_cached(
        "INSERT INTO runners (id, namespace, host, pid, started_at, heartbeat_at, concurrency, lease_ms, containment) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT(id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, stopped_at = NULL",
    )
    .and_then(|mut s| {
        s.execute(params![
            info.id,
            info.namespace,
            info.host,
            info.pid,
            info.started_at,
            at,
            info.concurrency,
            info.lease_ms as i64,
            info.containment
        ])
    })
    .ctx("registering a runner")?;
    Ok(())
}

pub fn heartbeat(conn: &Connection, runner_id: &str, at: Millis) -> Result<()> {
    conn.prepare_cached("UPDATE runners SET heartbeat_at = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![runner_id, at]))
        .ctx("recording a runner heartbeat")?;
    Ok(())
}

pub fn stop(conn: &Connection, runner_id: &str, at: Millis) -> Result<()> {
    conn.prepare_cached("UPDATE runners SET stopped_at = ?2, heartbeat_at = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![runner_id, at]))
        .ctx("recording a runner stop")?;
    Ok(())
}

pub fn list(conn: &Connection, ns: &str, now: Millis) -> Result<Vec<RunnerInfo>> {
    let mut runners: Vec<RunnerInfo> = conn
        .prepare_cached(
            "SELECT id, namespace, host, pid, started_at, heartbeat_at, concurrency, lease_ms, containment FROM runners \
             WHERE namespace = ?1 AND stopped_at IS NULL ORDER BY started_at",
        )
        .and_then(|mut s| {
            s.query_map(params![ns], |r| {
                let heartbeat_at: Millis = r.get(5)?;
                let lease_ms: i64 = r.get(7)?;
                Ok(RunnerInfo {
                    id: r.get(0)?,
                    namespace: r.get(1)?,
                    host: r.get(2)?,
                    pid: r.get(3)?,
                    started_at: r.get(4)?,
                    heartbeat_at,
                    concurrency: r.get(6)?,
                    lease_ms: lease_ms as u64,
                    jobs: Vec::new(),
                    lost: now - heartbeat_at > lease_ms,
                    containment: r.get(8)?,
                })
            })?
            .collect()
        })
        .ctx("listing runners")?;
    for runner in &mut runners {
        runner.jobs = held(conn, &runner.id)?.into_iter().map(|(id, _)| id).collect();
    }
    runners.sort_by_key(|r| r.lost);
    Ok(runners)
}

pub fn held(conn: &Connection, runner_id: &str) -> Result<Vec<(String, i64)>> {
    conn.prepare_cached(
        "SELECT id, lease_token FROM jobs WHERE lease_owner = ?1 AND status = 'running' ORDER BY started_at",
    )
    .and_then(|mut s| s.query_map(params![runner_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
    .ctx("listing held leases")
}

pub fn renew(conn: &Connection, job_id: &str, token: i64, lease_ms: u64, now: Millis) -> Result<Lease> {
    let expires_at = now + lease_ms as Millis;
    let changed = conn
        .prepare_cached(
            "UPDATE jobs SET lease_expires_at = ?3 WHERE id = ?1 AND lease_token = ?2 AND status = 'running' \
             AND lease_expires_at > ?4",
        )
        .and_then(|mut s| s.execute(params![job_id, token, expires_at, now]))
        .ctx("renewing a lease")?;
    Ok(if changed == 1 { Lease::Held { expires_at } } else { Lease::Gone })
}

/// A running job whose lease ran out: job id, assignment id, leases lost before, the runner that
/// held it, its type, whether it is a PM that decided, and its assignment's status.
type ExpiredLease = (String, String, u32, Option<String>, JobType, bool, AssignmentStatus);

/// Settles running jobs whose lease has expired (their runner died or stalled), as
/// [`engine::settle_lost`] decides.
pub fn expire_lost(conn: &Connection, ns: &str, policy: &EnginePolicy, now: Millis) -> Result<()> {
    let expired: Vec<ExpiredLease> = conn
        .prepare_cached(
            "SELECT j.id, j.assignment_id, j.lost_attempts, j.lease_owner, j.type, j.decided, a.status \
             FROM jobs j JOIN assignments a ON a.id = j.assignment_id \
             WHERE j.namespace = ?1 AND j.status = 'running' AND j.lease_expires_at <= ?2",
        )
        .and_then(|mut s| {
            s.query_map(params![ns, now], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, rows::parsed(r, 4)?, r.get(5)?, rows::parsed(r, 6)?))
            })?
            .collect()
        })
        .ctx("finding expired leases")?;
    for (job_id, aid, lost_before, owner, job_type, decided, assignment_status) in expired {
        let plan = engine::settle_lost(&LostLease {
            job_type,
            decided,
            lost_before,
            owner: owner.as_deref(),
            assignment_status,
            max_lost_leases: policy.max_lost_leases,
        })?;
        conn.prepare_cached(
            "UPDATE attempts SET outcome = 'lost', finished_at = ?2, error_kind = 'lost', error = ?3 \
             WHERE job_id = ?1 AND outcome = 'running'",
        )
        .and_then(|mut s| s.execute(params![job_id, now, plan.attempt_error]))
        .ctx("recording a lost attempt")?;
        let (status, from) = (plan.status().as_str(), plan.transition.from().as_str());
        match &plan.job_error {
            None => conn
                .prepare_cached(
                    "UPDATE jobs SET status = ?2, lost_attempts = ?3, lease_owner = NULL, lease_token = NULL, \
                     lease_expires_at = NULL WHERE id = ?1 AND status = ?4",
                )
                .and_then(|mut s| s.execute(params![job_id, status, plan.lost_attempts, from]))
                .ctx("re-queueing a lost job")?,
            Some((error, kind)) => conn
                .prepare_cached(
                    "UPDATE jobs SET status = ?2, lost_attempts = ?3, error = ?4, error_kind = ?5, \
                     success = CASE WHEN ?2 = 'complete' THEN success ELSE 0 END, finished_at = ?6, \
                     duration_ms = ?6 - started_at, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL \
                     WHERE id = ?1 AND status = ?7",
                )
                .and_then(|mut s| {
                    s.execute(params![job_id, status, plan.lost_attempts, error, kind.as_str(), now, from])
                })
                .ctx("settling a lost job")?,
        };
        rows::record(conn, &aid, Some(&job_id), now, &Actor::Engine, &plan.action, Some(&plan.reason))?;
        finish::after_final(conn, ns, &job_id, policy, now)?;
    }
    Ok(())
}

pub fn claim_next(
    conn: &Connection,
    ns: &str,
    runner_id: &str,
    lease_ms: u64,
    policy: &EnginePolicy,
    now: Millis,
) -> Result<Option<Claim>> {
    expire_lost(conn, ns, policy, now)?;
    super::stopping::expire(conn, ns, now)?;
    let runner_host: Option<String> = conn
        .prepare_cached("SELECT host FROM runners WHERE id = ?1")
        .and_then(|mut s| s.query_row(params![runner_id], |r| r.get(0)).optional())
        .ctx("reading the runner's host")?;
    if let Some(here) = &runner_host {
        super::sync::settle_stranded(conn, ns, here, policy.takeover, policy.host_gone_ms, now)?;
    }
    // A new UTC day lifts yesterday's daily cap before today's is judged.
    assignments::lift_daily_caps(conn, ns, now)?;
    let daily_cap = match policy.spend.daily_usd {
        Some(_) => spend::daily_cap_reached(policy.spend.daily_usd, spent_today(conn, ns, now)?, now),
        None => None,
    };
    // A page of heads at a time: the claim usually takes the first, and skipping or blocking
    // one changes `queue_heads`, which must not be read while it is being changed.
    let by = Claimant { ns, runner_id, runner_host: runner_host.as_deref(), daily_cap: &daily_cap, lease_ms, now };
    let mut after = None;
    loop {
        let (page, last) = queue::ready_heads_after(conn, ns, now, after.as_ref(), CLAIM_PAGE)?;
        for candidate in &page {
            if let Some(mut claim) = claim_head(conn, &by, candidate)? {
                // Heads skipped above (held by another host) still count: no gain then, no loss.
                claim.more_ready = queue::ready_total(conn, ns, now)? > 0;
                return Ok(Some(claim));
            }
        }
        match last {
            Some(last) => after = Some(last),
            None => return Ok(None),
        }
    }
}

/// Heads a claim reads at a time.
const CLAIM_PAGE: usize = 16;

/// Who claims, and under what guards.
struct Claimant<'a> {
    ns: &'a str,
    runner_id: &'a str,
    runner_host: Option<&'a str>,
    /// Why nothing may start today, when the daily spend cap is reached.
    daily_cap: &'a Option<String>,
    lease_ms: u64,
    now: Millis,
}

/// Claims `candidate` when its assignment may start it (blocking the assignment when a guard
/// says so); `None` when it was skipped or blocked.
fn claim_head(conn: &Connection, by: &Claimant<'_>, candidate: &queue::Head) -> Result<Option<Claim>> {
    let Claimant { ns, runner_id, runner_host, daily_cap, lease_ms, now } = *by;
    let assignment = conn
        .prepare_cached(&format!("SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = ?1"))
        .and_then(|mut s| s.query_row(params![candidate.assignment_id], rows::assignment))
        .ctx("reading an assignment")?;
    let check = match engine::check_claim(&assignment, runner_host) {
        ClaimCheck::Start if daily_cap.is_some() => ClaimCheck::Block(daily_cap.clone().unwrap_or_default()),
        check => check,
    };
    match check {
        ClaimCheck::Start => {}
        ClaimCheck::Skip => return Ok(None),
        ClaimCheck::Block(reason) => {
            assignments::block(conn, &assignment.id, &reason, now)?;
            return Ok(None);
        }
    }
    let job_id = candidate.job_id.as_str();
    let previous_agent = previous_agent(conn, job_id)?;
    let token: i64 = rand::random::<i64>().checked_abs().unwrap_or(i64::MAX).max(1);
    let expires_at = now + lease_ms as Millis;
    let start = JobTransition::new(JobStatus::Pending, JobStatus::Running)?;
    let attempt: u32 = conn
        .prepare_cached(
            "UPDATE jobs SET status = ?6, attempts = attempts + 1, lease_owner = ?2, lease_token = ?3, \
                 lease_expires_at = ?4, started_at = ?5, not_before = NULL, agent_host = NULL, agent_pgid = NULL, \
                 agent_started_at = NULL, agent_cgroup = NULL, git_head_before = NULL WHERE id = ?1 AND status = ?7 \
                 RETURNING attempts",
        )
        .and_then(|mut s| {
            s.query_row(
                params![job_id, runner_id, token, expires_at, now, start.to().as_str(), start.from().as_str()],
                |r| r.get(0),
            )
        })
        .ctx("claiming a job")?;
    conn.prepare_cached(
        "INSERT INTO attempts (job_id, n, runner, started_at, outcome) VALUES (?1, ?2, ?3, ?4, 'running')",
    )
    .and_then(|mut s| s.execute(params![job_id, attempt, runner_id, now]))
    .ctx("recording an attempt")?;
    rows::record(
        conn,
        &candidate.assignment_id,
        Some(job_id),
        now,
        &Actor::Engine,
        &format!("job started by runner {runner_id} (attempt {attempt})"),
        None,
    )?;
    let job = jobs::get(conn, ns, job_id)?;
    Ok(Some(Claim { job, token, attempt, lease_expires_at: expires_at, previous_agent, more_ready: false }))
}

/// The agent recorded for a job's last attempt, if any.
fn previous_agent(conn: &Connection, job_id: &str) -> Result<Option<AgentProcess>> {
    let row: (Option<String>, Option<u32>, Option<i64>, Option<String>) = conn
        .prepare_cached("SELECT agent_host, agent_pgid, agent_started_at, agent_cgroup FROM jobs WHERE id = ?1")
        .and_then(|mut s| s.query_row(params![job_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))))
        .ctx("reading a job's last agent")?;
    Ok(match row {
        (Some(host), Some(pgid), Some(start_time), cgroup) => {
            Some(AgentProcess { host, pgid, start_time: start_time as u64, cgroup })
        }
        _ => None,
    })
}

/// Records the started agent, git HEAD and prompt of a claimed attempt; `false` when the lease
/// is gone.
pub fn record_start(conn: &Connection, job_id: &str, token: i64, start: &AttemptStart, now: Millis) -> Result<bool> {
    let agent = start.agent.as_ref();
    let changed = conn
        .prepare_cached(
            "UPDATE jobs SET agent_host = ?3, agent_pgid = ?4, agent_started_at = ?5, git_head_before = ?6, \
             agent_cgroup = ?8 WHERE id = ?1 AND lease_token = ?2 AND status = 'running' AND lease_expires_at > ?7",
        )
        .and_then(|mut s| {
            s.execute(params![
                job_id,
                token,
                agent.map(|a| a.host.as_str()),
                agent.map(|a| a.pgid),
                agent.map(|a| a.start_time as i64),
                start.git_head_before,
                now,
                agent.and_then(|a| a.cgroup.as_deref())
            ])
        })
        .ctx("recording an attempt's start")?;
    if changed == 1 {
        if let Some(prompt) = &start.prompt {
            let dictionary = start.prompt_dictionary.as_deref();
            let packed = prompt::pack(prompt, dictionary)?;
            let dictionary_id = dictionary.map(|d| dictionary_id(conn, d)).transpose()?;
            conn.prepare_cached(
                "UPDATE attempts SET prompt = ?2, prompt_bytes = ?3, prompt_sha256 = ?4, prompt_dictionary = ?5 \
                 WHERE job_id = ?1 AND outcome = 'running'",
            )
            .and_then(|mut s| s.execute(params![job_id, packed.compressed, packed.bytes, packed.sha256, dictionary_id]))
            .ctx("recording an attempt's prompt")?;
        }
    }
    Ok(changed == 1)
}

/// The id of `dictionary` in `prompt_dictionaries`, which keeps it from the first prompt
/// compressed against it on.
fn dictionary_id(conn: &Connection, dictionary: &PromptDictionary) -> Result<i64> {
    let known = conn
        .prepare_cached("SELECT id FROM prompt_dictionaries WHERE sha256 = ?1")
        .and_then(|mut s| s.query_row([dictionary.sha256()], |r| r.get(0)).optional())
        .ctx("looking up a prompt dictionary")?;
    if let Some(id) = known {
        return Ok(id);
    }
    conn.prepare_cached("INSERT INTO prompt_dictionaries (sha256, dictionary) VALUES (?1, ?2)")
        .and_then(|mut s| s.execute(params![dictionary.sha256(), dictionary.text()]))
        .ctx("storing a prompt dictionary")?;
    Ok(conn.last_insert_rowid())
}

/// An attempt's prompt columns: the compressed text, its size, its SHA-256 and the dictionary
/// it was compressed against.
type StoredPrompt = (Option<Vec<u8>>, Option<i64>, Option<String>, Option<Vec<u8>>);

/// The prompt an attempt of a job was given (the latest attempt when `attempt` is `None`).
pub fn attempt_prompt(conn: &Connection, ns: &str, job_id: &str, attempt: Option<u32>) -> Result<AttemptPrompt> {
    let job = jobs::get(conn, ns, job_id)?;
    let n = baton_core::lifecycle::attempt_number(&job, attempt)?;
    let row: Option<StoredPrompt> = conn
        .prepare_cached(
            "SELECT a.prompt, a.prompt_bytes, a.prompt_sha256, d.dictionary FROM attempts a \
             LEFT JOIN prompt_dictionaries d ON d.id = a.prompt_dictionary WHERE a.job_id = ?1 AND a.n = ?2",
        )
        .and_then(|mut s| {
            s.query_row(params![job_id, n], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).optional()
        })
        .ctx("reading an attempt's prompt")?;
    let (compressed, bytes, sha256, dictionary) = row.unwrap_or((None, None, None, None));
    let text = compressed.map(|c| prompt::unpack(&c, dictionary.as_deref(), sha256.as_deref())).transpose()?;
    Ok(AttemptPrompt {
        job_id: job_id.to_string(),
        attempt: n,
        prompt: text,
        prompt_bytes: bytes.and_then(|b| u64::try_from(b).ok()),
        prompt_sha256: sha256,
    })
}

/// The first instant after `after` at which something becomes due on its own: a back-off ends
/// or a lease expires (a stopping job's too: its assignment goes on then).
pub fn next_deadline(conn: &Connection, ns: &str, after: Millis) -> Result<Option<Millis>> {
    let stop = super::stopping::next_expiry(conn, ns, after)?;
    // Only a ready-rule head's back-off ending makes a job claimable, and the heads that back off
    // are the few rows of the partial index `queue_heads_timed`: one seek, where the pending jobs
    // of the namespace were read one by one.
    let due: Option<Millis> = conn
        .prepare_cached(
            "SELECT MIN(t) FROM ( \
               SELECT MIN(not_before) AS t FROM queue_heads WHERE namespace = ?1 AND not_before > ?2 \
               UNION ALL \
               SELECT MIN(lease_expires_at) FROM jobs WHERE namespace = ?1 AND status = 'running' \
                 AND lease_expires_at > ?2)",
        )
        .and_then(|mut s| s.query_row(params![ns, after], |r| r.get(0)))
        .ctx("finding the next deadline")?;
    Ok(due.into_iter().chain(stop).min())
}

/// Nothing runs or is being stopped, and nothing is ready or waits out a back-off.
pub fn is_idle(conn: &Connection, ns: &str) -> Result<bool> {
    let running: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM jobs WHERE namespace = ?1 AND status = 'running')")
        .and_then(|mut s| s.query_row(params![ns], |r| r.get(0)))
        .ctx("checking for running jobs")?;
    Ok(!running && super::stopping::busy_assignments(conn, ns)?.is_empty() && !queue::any_head(conn, ns)?)
}

/// Whether `token` still holds the job: it is running under that token and the lease has not
/// expired. Every write made for a claim checks this in its own transaction (fencing).
pub fn holds_lease(conn: &Connection, job_id: &str, token: i64, now: Millis) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE id = ?1 AND lease_token = ?2 AND status = 'running' \
         AND lease_expires_at > ?3)",
    )
    .and_then(|mut s| s.query_row(params![job_id, token, now], |r| r.get(0)))
    .ctx("checking a lease")
}

/// Records an attempt's warnings under its claim's token; `false` when the lease is gone.
pub fn add_warnings(
    conn: &Connection,
    job_id: &str,
    token: i64,
    attempt: u32,
    warnings: &[String],
    now: Millis,
) -> Result<bool> {
    if !holds_lease(conn, job_id, token, now)? {
        return Ok(false);
    }
    for text in warnings {
        conn.prepare_cached("INSERT INTO job_warnings (job_id, attempt, at, text) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(params![job_id, attempt, now, text]))
            .ctx("recording a job warning")?;
    }
    Ok(true)
}

/// What the namespace's attempts that ended on the UTC day of `now` cost (`[budget] daily_usd`).
fn spent_today(conn: &Connection, ns: &str, now: Millis) -> Result<Option<f64>> {
    conn.prepare_cached(
        // Kept per UTC day by triggers on `attempts` (migration 0022); later days are there
        // only when a clock ran ahead, and count as the sum over attempts always did.
        "SELECT SUM(cost_usd) FROM daily_spend WHERE namespace = ?1 AND day >= ?2",
    )
    .and_then(|mut s| s.query_row(params![ns, spend::utc_day_start(now)], |r| r.get(0)))
    .ctx("summing today's spend")
}
