//! Runner registration, leases and claims.
//!
//! A claim is one transaction: settle jobs whose lease expired ([`expire_lost`]), then take the
//! oldest ready job whose working tree (if any) is on the runner's host, with
//! `SELECT … FOR UPDATE OF a SKIP LOCKED` on its assignment row. Concurrent claimers skip
//! assignments another transaction holds instead of queueing behind it, so they spread over
//! different assignments; holding the assignment row means nobody else changes its chain until
//! the claim commits. The partial unique index `jobs_one_running` makes a second running job in
//! one assignment impossible whatever a runner believes.
//!
//! Lease deadlines come from the database clock (`now` of the transaction), so runners on
//! machines with skewed clocks agree on when a lease has run out.

use super::queue::ready_heads;
use super::rows;
use super::{assignments, finish, jobs, Context, TxResult};
use crate::prompt;
use baton_core::engine::{self, spend, ClaimCheck, JobTransition, LostLease};
use baton_core::prompt_dictionary::PromptDictionary;
use baton_core::store::{AgentProcess, AttemptPrompt, AttemptStart, Claim, EnginePolicy, Lease, RunnerInfo};
use baton_core::time::Millis;
use baton_core::{Actor, JobStatus};
use sqlx::postgres::PgConnection;
use sqlx::Row;

pub async fn register(conn: &mut PgConnection, info: &RunnerInfo, at: Millis) -> TxResult<()> {
    // A runner older than the database's newest protocol would not follow its rules.
    super::version::check_protocol(conn).await?;
    sqlx::query(
        "INSERT INTO runners (id, namespace, host, pid, started_at, heartbeat_at, concurrency, lease_ms, containment) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, stopped_at = NULL",
    )
    .bind(&info.id)
    .bind(&info.namespace)
    .bind(&info.host)
    .bind(i64::from(info.pid))
    .bind(info.started_at)
    .bind(at)
    .bind(rows::int(info.concurrency))
    .bind(lease_bind(info.lease_ms))
    .bind(info.containment.as_deref())
    .execute(&mut *conn)
    .await
    .ctx("registering a runner")?;
    Ok(())
}

/// A lease length as stored (`BIGINT`).
fn lease_bind(lease_ms: u64) -> i64 {
    i64::try_from(lease_ms).unwrap_or(i64::MAX)
}

pub async fn heartbeat(conn: &mut PgConnection, runner_id: &str, at: Millis) -> TxResult<()> {
    sqlx::query("UPDATE runners SET heartbeat_at = $2 WHERE id = $1")
        .bind(runner_id)
        .bind(at)
        .execute(conn)
        .await
        .ctx("recording a runner heartbeat")?;
    Ok(())
}

pub async fn stop(conn: &mut PgConnection, runner_id: &str, at: Millis) -> TxResult<()> {
    sqlx::query("UPDATE runners SET stopped_at = $2, heartbeat_at = $2 WHERE id = $1")
        .bind(runner_id)
        .bind(at)
        .execute(conn)
        .await
        .ctx("recording a runner stop")?;
    Ok(())
}

/// The runners of namespace `$1` that have not stopped, as [`runner`] reads them.
pub const LIST_SQL: &str = "SELECT id, namespace, host, pid, started_at, heartbeat_at, concurrency, lease_ms, \
     containment FROM runners WHERE namespace = $1 AND stopped_at IS NULL ORDER BY started_at, id";

/// The running jobs of the runners `$1` (an array), as [`with_jobs`] reads them.
pub const HELD_BY_SQL: &str =
    "SELECT lease_owner, id FROM jobs WHERE lease_owner = ANY($1) AND status = 'running' ORDER BY started_at, id";

pub async fn list(conn: &mut PgConnection, ns: &str, now: Millis) -> TxResult<Vec<RunnerInfo>> {
    let found = sqlx::query(LIST_SQL).bind(ns).fetch_all(&mut *conn).await.ctx("listing runners")?;
    let mut runners = found.iter().map(|r| runner(r, now)).collect::<Result<Vec<_>, _>>().ctx("reading a runner")?;
    for runner in &mut runners {
        runner.jobs = held(conn, &runner.id).await?.into_iter().map(|(id, _)| id).collect();
    }
    runners.sort_by_key(|r| r.lost);
    Ok(runners)
}

/// One row of [`LIST_SQL`], judged lost against the database clock `now`; without its jobs.
pub fn runner(r: &sqlx::postgres::PgRow, now: Millis) -> Result<RunnerInfo, sqlx::Error> {
    let heartbeat_at: Millis = r.try_get("heartbeat_at")?;
    let lease_ms: i64 = r.try_get("lease_ms")?;
    let pid: i64 = r.try_get("pid")?;
    let concurrency: i32 = r.try_get("concurrency")?;
    Ok(RunnerInfo {
        id: r.try_get("id")?,
        namespace: r.try_get("namespace")?,
        host: r.try_get("host")?,
        pid: u32::try_from(pid).unwrap_or_default(),
        started_at: r.try_get("started_at")?,
        heartbeat_at,
        concurrency: u32::try_from(concurrency).unwrap_or_default(),
        lease_ms: u64::try_from(lease_ms).unwrap_or_default(),
        jobs: Vec::new(),
        lost: now - heartbeat_at > lease_ms,
        containment: r.try_get("containment")?,
    })
}

/// Gives each runner its jobs from the rows of [`HELD_BY_SQL`], then puts the lost ones last,
/// as [`list`] does.
pub fn with_jobs(runners: &mut [RunnerInfo], held: &[sqlx::postgres::PgRow]) -> TxResult<()> {
    for row in held {
        let (owner, id): (String, String) = sqlx::FromRow::from_row(row).ctx("listing held leases")?;
        if let Some(runner) = runners.iter_mut().find(|r| r.id == owner) {
            runner.jobs.push(id);
        }
    }
    runners.sort_by_key(|r| r.lost);
    Ok(())
}

pub async fn held(conn: &mut PgConnection, runner_id: &str) -> TxResult<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT id, lease_token FROM jobs WHERE lease_owner = $1 AND status = 'running' ORDER BY started_at, id",
    )
    .bind(runner_id)
    .fetch_all(conn)
    .await
    .ctx("listing held leases")
}

pub async fn renew(conn: &mut PgConnection, job_id: &str, token: i64, lease_ms: u64, now: Millis) -> TxResult<Lease> {
    let expires_at = now.saturating_add(lease_bind(lease_ms));
    // An expired lease is over even before another runner takes the job: it is not renewed.
    let changed = sqlx::query(
        "UPDATE jobs SET lease_expires_at = $3 WHERE id = $1 AND lease_token = $2 AND status = 'running' \
         AND lease_expires_at > $4",
    )
    .bind(job_id)
    .bind(token)
    .bind(expires_at)
    .bind(now)
    .execute(conn)
    .await
    .ctx("renewing a lease")?
    .rows_affected();
    Ok(if changed == 1 { Lease::Held { expires_at } } else { Lease::Gone })
}

/// Settles running jobs whose lease has expired (their runner died or stalled), as
/// [`engine::settle_lost`] decides.
///
/// An assignment another transaction holds is skipped rather than waited for: its holder may
/// be cancelling that very job, and the next claim looks again.
pub async fn expire_lost(conn: &mut PgConnection, ns: &str, policy: &EnginePolicy, now: Millis) -> TxResult<()> {
    let expired: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, assignment_id FROM jobs WHERE namespace = $1 AND status = 'running' AND lease_expires_at <= $2 \
         ORDER BY lease_expires_at, id",
    )
    .bind(ns)
    .bind(now)
    .fetch_all(&mut *conn)
    .await
    .ctx("finding expired leases")?;
    for (job_id, aid) in expired {
        let Some(assignment_status) = super::assignments::try_lock(conn, &aid).await? else { continue };
        // Read again under the lock: the job may have been finished or cancelled since. The job
        // row is locked too: a renewal racing this one (it takes no assignment lock) either
        // committed first, and then the lease is no longer expired and the row not returned, or
        // waits and then finds the lease gone.
        let current: Option<(i32, Option<String>, String, bool)> = sqlx::query_as(
            "SELECT lost_attempts, lease_owner, type, decided FROM jobs \
             WHERE id = $1 AND status = 'running' AND lease_expires_at <= $2 FOR UPDATE",
        )
        .bind(&job_id)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await
        .ctx("reading an expired lease")?;
        let Some((lost_before, owner, job_type, decided)) = current else { continue };
        let plan = engine::settle_lost(&LostLease {
            job_type: rows::parse("type", &job_type).ctx("reading an expired lease")?,
            decided,
            lost_before: u32::try_from(lost_before).unwrap_or_default(),
            owner: owner.as_deref(),
            assignment_status: rows::parse("status", &assignment_status).ctx("reading an expired lease")?,
            max_lost_leases: policy.max_lost_leases,
        })?;
        sqlx::query(
            "UPDATE attempts SET outcome = 'lost', finished_at = $2, error_kind = 'lost', error = $3 \
             WHERE job_id = $1 AND outcome = 'running'",
        )
        .bind(&job_id)
        .bind(now)
        .bind(&plan.attempt_error)
        .execute(&mut *conn)
        .await
        .ctx("recording a lost attempt")?;
        let (status, from) = (plan.status().as_str(), plan.transition.from().as_str());
        match &plan.job_error {
            None => sqlx::query(
                "UPDATE jobs SET status = $2, lost_attempts = $3, lease_owner = NULL, lease_token = NULL, \
                 lease_expires_at = NULL WHERE id = $1 AND status = $4",
            )
            .bind(&job_id)
            .bind(status)
            .bind(rows::int(plan.lost_attempts))
            .bind(from)
            .execute(&mut *conn)
            .await
            .ctx("re-queueing a lost job")?,
            Some((error, kind)) => sqlx::query(
                "UPDATE jobs SET status = $2, lost_attempts = $3, error = $4, error_kind = $5, \
                 success = CASE WHEN $2 = 'complete' THEN success ELSE FALSE END, finished_at = $6, \
                 duration_ms = $6 - started_at, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL \
                 WHERE id = $1 AND status = $7",
            )
            .bind(&job_id)
            .bind(status)
            .bind(rows::int(plan.lost_attempts))
            .bind(error)
            .bind(kind.as_str())
            .bind(now)
            .bind(from)
            .execute(&mut *conn)
            .await
            .ctx("settling a lost job")?,
        };
        rows::record(conn, &aid, Some(&job_id), now, &Actor::Engine, &plan.action, Some(&plan.reason)).await?;
        finish::after_final(conn, ns, &job_id, policy, now).await?;
    }
    Ok(())
}

pub async fn claim_next(
    conn: &mut PgConnection,
    ns: &str,
    runner_id: &str,
    lease_ms: u64,
    policy: &EnginePolicy,
    now: Millis,
) -> TxResult<Option<Claim>> {
    expire_lost(conn, ns, policy, now).await?;
    super::stopping::expire(conn, ns, now).await?;
    // An assignment's working tree lives on one host; other hosts' runners leave it alone.
    let runner_host: Option<String> = sqlx::query_scalar("SELECT host FROM runners WHERE id = $1")
        .bind(runner_id)
        .fetch_optional(&mut *conn)
        .await
        .ctx("reading the runner's host")?;
    if let Some(here) = &runner_host {
        super::sync::settle_stranded(conn, ns, here, policy.takeover, policy.host_gone_ms, now).await?;
    }
    // Assignments this claim looked at and could not start (blocked by the budget guard, or
    // changed under it): still locked by this transaction, so they are excluded explicitly.
    let mut passed: Vec<String> = Vec::new();
    // A new UTC day lifts yesterday's daily cap before today's is judged.
    assignments::lift_daily_caps(conn, ns, now).await?;
    let daily_cap = match policy.spend.daily_usd {
        Some(_) => spend::daily_cap_reached(policy.spend.daily_usd, spent_today(conn, ns, now).await?, now),
        None => None,
    };
    loop {
        let candidate: Option<(String, String)> = sqlx::query_as(&format!(
            "SELECT j.id, a.id FROM {} \
               AND (j.not_before IS NULL OR j.not_before <= $2) AND a.id <> ALL($3) \
               AND (a.host IS NULL OR $4::text IS NULL OR a.host = $4) \
             ORDER BY a.created_at, a.id LIMIT 1 FOR UPDATE OF a SKIP LOCKED",
            ready_heads("id, not_before")
        ))
        .bind(ns)
        .bind(now)
        .bind(&passed)
        .bind(&runner_host)
        .fetch_optional(&mut *conn)
        .await
        .ctx("finding a ready job")?;
        let Some((job_id, aid)) = candidate else { return Ok(None) };

        // The candidate query judged the chain from its own snapshot, which can predate the
        // commit of a transaction that held this assignment until just before we locked it
        // (another claim, a finish). Now that the lock is ours, every later statement sees the
        // latest commit and nobody can change the chain: check the rule again.
        let assignment = assignments::load(conn, ns, &aid).await?;
        let next: Option<(String, Option<Millis>)> =
            sqlx::query_as(&format!("SELECT j.id, j.not_before FROM {} AND a.id = $2", ready_heads("id, not_before")))
                .bind(ns)
                .bind(&aid)
                .fetch_optional(&mut *conn)
                .await
                .ctx("checking a ready job")?;
        let still_next =
            matches!(&next, Some((id, not_before)) if *id == job_id && not_before.is_none_or(|t| t <= now));
        let check = match (still_next, &daily_cap) {
            (false, _) => ClaimCheck::Skip,
            (true, daily) => match engine::check_claim(&assignment, runner_host.as_deref()) {
                ClaimCheck::Start if daily.is_some() => ClaimCheck::Block(daily.clone().unwrap_or_default()),
                check => check,
            },
        };
        match check {
            ClaimCheck::Start => {}
            ClaimCheck::Skip => {
                passed.push(aid);
                continue;
            }
            ClaimCheck::Block(reason) => {
                assignments::block(conn, &assignment.id, &reason, now).await?;
                passed.push(aid);
                continue;
            }
        }

        let previous_agent = previous_agent(conn, &job_id).await?;
        // The clock again, now that the claim is decided: the transaction's start time can
        // precede the commit of the job that finished just before (READ COMMITTED sees it), and
        // the attempt must not appear to start before its predecessor ended.
        let now = super::db_now(conn).await?;
        let token: i64 = rand::random::<i64>().checked_abs().unwrap_or(i64::MAX).max(1);
        let expires_at = now.saturating_add(lease_bind(lease_ms));
        let start = JobTransition::new(JobStatus::Pending, JobStatus::Running)?;
        let attempt: i32 = sqlx::query_scalar(
            "UPDATE jobs SET status = $6, attempts = attempts + 1, lease_owner = $2, lease_token = $3, \
             lease_expires_at = $4, started_at = $5, not_before = NULL, agent_host = NULL, agent_pgid = NULL, \
             agent_started_at = NULL, agent_cgroup = NULL, git_head_before = NULL WHERE id = $1 AND status = $7 \
             RETURNING attempts",
        )
        .bind(&job_id)
        .bind(runner_id)
        .bind(token)
        .bind(expires_at)
        .bind(now)
        .bind(start.to().as_str())
        .bind(start.from().as_str())
        .fetch_one(&mut *conn)
        .await
        .ctx("claiming a job")?;
        sqlx::query("INSERT INTO attempts (job_id, n, runner, started_at, outcome) VALUES ($1, $2, $3, $4, 'running')")
            .bind(&job_id)
            .bind(attempt)
            .bind(runner_id)
            .bind(now)
            .execute(&mut *conn)
            .await
            .ctx("recording an attempt")?;
        rows::record(
            conn,
            &aid,
            Some(&job_id),
            now,
            &Actor::Engine,
            &format!("job started by runner {runner_id} (attempt {attempt})"),
            None,
        )
        .await?;
        let job = jobs::get(conn, ns, &job_id).await?;
        let attempt = u32::try_from(attempt).unwrap_or_default();
        // Heads this claim passed over (another host's) count too: no gain then, no loss.
        let more_ready: bool = sqlx::query_scalar(&format!(
            "SELECT EXISTS (SELECT 1 FROM {} AND (j.not_before IS NULL OR j.not_before <= $2))",
            ready_heads("id, not_before")
        ))
        .bind(ns)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .ctx("looking for more ready jobs")?;
        return Ok(Some(Claim { job, token, attempt, lease_expires_at: expires_at, previous_agent, more_ready }));
    }
}

/// The agent recorded for a job's last attempt, if any.
async fn previous_agent(conn: &mut PgConnection, job_id: &str) -> TxResult<Option<AgentProcess>> {
    let row: (Option<String>, Option<i32>, Option<i64>, Option<String>) =
        sqlx::query_as("SELECT agent_host, agent_pgid, agent_started_at, agent_cgroup FROM jobs WHERE id = $1")
            .bind(job_id)
            .fetch_one(conn)
            .await
            .ctx("reading a job's last agent")?;
    Ok(match row {
        (Some(host), Some(pgid), Some(start_time), cgroup) => Some(AgentProcess {
            host,
            pgid: u32::try_from(pgid).unwrap_or_default(),
            start_time: u64::try_from(start_time).unwrap_or_default(),
            cgroup,
        }),
        _ => None,
    })
}

/// Records the started agent, git HEAD and prompt of a claimed attempt; `false` when the lease
/// is gone.
pub async fn record_start(
    conn: &mut PgConnection,
    job_id: &str,
    token: i64,
    start: &AttemptStart,
    now: Millis,
) -> TxResult<bool> {
    let agent = start.agent.as_ref();
    let changed = sqlx::query(
        "UPDATE jobs SET agent_host = $3, agent_pgid = $4, agent_started_at = $5, git_head_before = $6, \
         agent_cgroup = $8 WHERE id = $1 AND lease_token = $2 AND status = 'running' AND lease_expires_at > $7",
    )
    .bind(job_id)
    .bind(token)
    .bind(agent.map(|a| a.host.as_str()))
    .bind(agent.map(|a| i32::try_from(a.pgid).unwrap_or(i32::MAX)))
    .bind(agent.map(|a| i64::try_from(a.start_time).unwrap_or(i64::MAX)))
    .bind(start.git_head_before.as_deref())
    .bind(now)
    .bind(agent.and_then(|a| a.cgroup.as_deref()))
    .execute(&mut *conn)
    .await
    .ctx("recording an attempt's start")?
    .rows_affected();
    if changed == 1 {
        if let Some(text) = &start.prompt {
            let dictionary = start.prompt_dictionary.as_deref();
            let packed = prompt::pack(text, dictionary)?;
            let dictionary_sha256 = dictionary.map(PromptDictionary::sha256);
            // The dictionary is named by its hash in the same statement, so the common case (it is
            // stored already) costs no round trip of its own.
            let set_prompt = sqlx::query_scalar(
                "UPDATE attempts SET prompt = $2, prompt_bytes = $3, prompt_sha256 = $4, \
                 prompt_dictionary = (SELECT id FROM prompt_dictionaries WHERE sha256 = $5) \
                 WHERE job_id = $1 AND outcome = 'running' RETURNING prompt_dictionary",
            )
            .bind(job_id)
            .bind(&packed.compressed)
            .bind(packed.bytes)
            .bind(&packed.sha256)
            .bind(dictionary_sha256);
            let stored: Option<Option<i64>> =
                set_prompt.fetch_optional(&mut *conn).await.ctx("recording an attempt's prompt")?;
            if let (Some(None), Some(dictionary)) = (stored, dictionary) {
                store_dictionary(conn, job_id, dictionary).await?;
            }
        }
    }
    Ok(changed == 1)
}

/// Keeps `dictionary`, seen for the first time, and points the running attempt of `job_id` at it.
async fn store_dictionary(conn: &mut PgConnection, job_id: &str, dictionary: &PromptDictionary) -> TxResult<()> {
    sqlx::query("INSERT INTO prompt_dictionaries (sha256, dictionary) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING")
        .bind(dictionary.sha256())
        .bind(dictionary.text())
        .execute(&mut *conn)
        .await
        .ctx("storing a prompt dictionary")?;
    sqlx::query(
        "UPDATE attempts SET prompt_dictionary = (SELECT id FROM prompt_dictionaries WHERE sha256 = $2) \
         WHERE job_id = $1 AND outcome = 'running'",
    )
    .bind(job_id)
    .bind(dictionary.sha256())
    .execute(&mut *conn)
    .await
    .ctx("recording an attempt's prompt dictionary")?;
    Ok(())
}

/// An attempt's prompt columns: the compressed text, its size, its SHA-256 and the dictionary
/// it was compressed against.
type StoredPrompt = (Option<Vec<u8>>, Option<i64>, Option<String>, Option<Vec<u8>>);

/// The prompt an attempt of a job was given (the latest attempt when `attempt` is `None`).
pub async fn attempt_prompt(
    conn: &mut PgConnection,
    ns: &str,
    job_id: &str,
    attempt: Option<u32>,
) -> TxResult<AttemptPrompt> {
    let job = jobs::get(conn, ns, job_id).await?;
    let n = baton_core::lifecycle::attempt_number(&job, attempt)?;
    let row: Option<StoredPrompt> = sqlx::query_as(
        "SELECT a.prompt, a.prompt_bytes, a.prompt_sha256, d.dictionary FROM attempts a \
             LEFT JOIN prompt_dictionaries d ON d.id = a.prompt_dictionary WHERE a.job_id = $1 AND a.n = $2",
    )
    .bind(job_id)
    .bind(rows::int(n))
    .fetch_optional(&mut *conn)
    .await
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
pub async fn next_deadline(conn: &mut PgConnection, ns: &str, after: Millis) -> TxResult<Option<Millis>> {
    let stop = super::stopping::next_expiry(conn, ns, after).await?;
    let due: Option<Millis> = sqlx::query_scalar(
        "SELECT LEAST( \
           (SELECT MIN(not_before) FROM jobs WHERE namespace = $1 AND status = 'pending' AND not_before > $2), \
           (SELECT MIN(lease_expires_at) FROM jobs WHERE namespace = $1 AND status = 'running' \
              AND lease_expires_at > $2))",
    )
    .bind(ns)
    .bind(after)
    .fetch_one(&mut *conn)
    .await
    .ctx("finding the next deadline")?;
    Ok(due.into_iter().chain(stop).min())
}

/// Nothing runs or is being stopped, and nothing is ready or waits out a back-off.
pub async fn is_idle(conn: &mut PgConnection, ns: &str) -> TxResult<bool> {
    if super::stopping::any(conn, ns).await? {
        return Ok(false);
    }
    sqlx::query_scalar(&format!(
        "SELECT NOT EXISTS (SELECT 1 FROM jobs WHERE namespace = $1 AND status = 'running') \
           AND NOT EXISTS (SELECT 1 FROM {})",
        ready_heads("id")
    ))
    .bind(ns)
    .fetch_one(conn)
    .await
    .ctx("checking for work")
}

/// What the namespace's attempts that ended on the UTC day of `now` cost (`[budget] daily_usd`).
async fn spent_today(conn: &mut PgConnection, ns: &str, now: Millis) -> TxResult<Option<f64>> {
    sqlx::query_scalar(
        // Kept per UTC day by triggers on `attempts` (migration 0022); later days are there
        // only when a clock ran ahead, and count as the sum over attempts always did.
        "SELECT SUM(cost_usd) FROM daily_spend WHERE namespace = $1 AND day >= $2",
    )
    .bind(ns)
    .bind(spend::utc_day_start(now))
    .fetch_one(&mut *conn)
    .await
    .ctx("summing today's spend")
}
