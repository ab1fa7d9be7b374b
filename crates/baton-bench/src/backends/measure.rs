//! The four measurements of the `backends` section, each on one [`World`]: CLI latency on a
//! modest database, pickup latency, throughput with several runners, and in-process
//! claim + complete operations. Everything goes through the `baton` CLI or the `Store` trait, so
//! the same code runs on SQLite and PostgreSQL.

use super::world::World;
use crate::agents;
use crate::error::{Ctx, Result};
use crate::harness::{realtime_ns, STAMP};
use crate::pickup::{nanos, read_stamps, SETTLE};
use crate::sandbox::wait_until;
use crate::spawn::timed;
use crate::stats::Samples;
use crate::Options;
use baton_core::retry::RetryPolicy;
use baton_core::store::{AttemptResult, EnginePolicy, JobDefaults, NewAssignment, NewJob};
use baton_core::{Actor, JobType};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

fn actor() -> Actor {
    Actor::Person("bench".into())
}

fn implement() -> NewJob {
    NewJob {
        job_type: JobType::Implement,
        harness: "work".into(),
        context: String::new(),
        max_attempts: 3,
        after: None,
        for_job_id: None,
        session: None,
        model: None,
        effort: None,
    }
}

/// Creates `n` active assignments through the store, each with `jobs` pending implement jobs.
pub fn seed(rt: &Runtime, w: &World, n: usize, jobs: usize) -> Result<Vec<String>> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let new = NewAssignment {
            after: Vec::new(),
            namespace: w.sb.namespace.clone(),
            north_star: format!("backends {i}"),
            max_jobs: 50,
            budget_usd: None,
            budget_tokens: None,
            origin_root: Some(w.sb.repo.display().to_string()),
            base_ref: None,
            base_branch: None,
            context: String::new(),
            first_job: (jobs > 0).then(implement),
        };
        let a = rt.block_on(w.store.create_assignment(new, &actor())).map_err(|e| format!("seeding: {e}"))?;
        for _ in 1..jobs {
            rt.block_on(w.store.insert_job(&w.sb.namespace, &a.assignment.id, implement(), &actor()))
                .map_err(|e| format!("seeding a job: {e}"))?;
        }
        ids.push(a.assignment.id);
    }
    Ok(ids)
}

/// Spawn → exit of `queue`, `create` and `insert-job`, round-robin after one warm-up round.
pub struct Cli {
    pub queue: Samples,
    pub create: Samples,
    pub insert: Samples,
    pub floor: Samples,
}

/// `floor` is the command line of the database's own client running `select 1`.
pub fn cli(rt: &Runtime, w: &World, runs: usize, floor: &[String]) -> Result<Cli> {
    agents::configure(&w.sb, &["/bin/true".to_string()])?;
    let ids = seed(rt, w, 200, 2)?;
    let mut times: [Vec<Duration>; 4] = Default::default();
    for round in 0..=runs {
        let aid = &ids[round % ids.len()];
        let name = format!("cli {round}");
        let commands: [Vec<&str>; 3] =
            [vec!["queue"], vec!["create", &name], vec!["insert-job", aid, "--type", "implement"]];
        for (i, args) in commands.iter().enumerate() {
            let t = timed(&mut w.sb.baton(args), &format!("baton {}", args.join(" ")))?;
            if round > 0 {
                times[i].push(t.wall);
            }
        }
        let (program, args) = floor.split_first().ok_or("no floor command")?;
        let t = timed(w.sb.command(program).args(args), program)?;
        if round > 0 {
            times[3].push(t.wall);
        }
    }
    let [queue, create, insert, floor] = times.map(Samples::new);
    Ok(Cli { queue, create, insert, floor })
}

/// insert-job exit → harness process start, one job at a time with an idle runner.
pub fn pickup(rt: &Runtime, w: &World, opts: &Options, jobs: usize) -> Result<Samples> {
    let (sb, ns) = (&w.sb, w.sb.namespace.as_str());
    let log = sb.root.join("stamps.log");
    agents::configure(sb, &[agents::path_str(&opts.bench), STAMP.to_string(), agents::path_str(&log)])?;
    let mut runner = sb.start_runner(&[])?;
    let pid = runner.pid;
    wait_until("the runner to register", Duration::from_secs(10), || {
        runner.check_alive()?;
        let runners = rt.block_on(w.store.runners(ns)).map_err(|e| format!("listing runners: {e}"))?;
        Ok(runners.iter().any(|r| r.pid == pid))
    })?;
    let mut inserted = Vec::with_capacity(jobs);
    for _ in 0..jobs {
        let aid = seed(rt, w, 1, 0)?.pop().ok_or("no assignment created")?;
        std::thread::sleep(SETTLE);
        let out = sb
            .baton(&["insert-job", &aid, "--type", "implement", "--json"])
            .stdout(Stdio::piped())
            .output()
            .ctx("running baton insert-job")?;
        let exited = realtime_ns();
        if !out.status.success() {
            return Err(format!("baton insert-job failed: {}", out.status));
        }
        let job: serde_json::Value = serde_json::from_slice(&out.stdout).ctx("parsing insert-job's JSON")?;
        inserted.push((job["id"].as_str().unwrap_or_default().to_string(), exited));
        wait_until("the job and its PM to finish", Duration::from_secs(30), || {
            runner.check_alive()?;
            rt.block_on(w.store.is_idle(ns)).map_err(|e| format!("checking the queue: {e}"))
        })?;
    }
    runner.stop()?;
    let stamps = read_stamps(&log)?;
    let mut samples = Vec::with_capacity(jobs);
    for (job_id, exited) in inserted {
        let started = *stamps.get(&job_id).ok_or_else(|| format!("job {job_id} left no stamp"))?;
        samples.push(nanos(started - exited));
    }
    Ok(Samples::new(samples))
}

/// Jobs ended per second by `runners` `baton run --until-idle` processes started together.
pub struct Throughput {
    pub rate: f64,
    pub ended: u64,
    pub took: Duration,
}

pub fn throughput(rt: &Runtime, w: &World, n: usize, runners: usize) -> Result<Throughput> {
    let noop = agents::write_noop(&w.sb)?;
    agents::configure(&w.sb, &[agents::path_str(&noop)])?;
    seed(rt, w, n, 1)?;
    let started = Instant::now();
    let mut procs = (0..runners)
        .map(|i| w.sb.start_runner_logged(&["--until-idle", "--concurrency", "1"], &[], &format!("runner-{i}.log")))
        .collect::<Result<Vec<_>>>()?;
    for runner in &mut procs {
        let status = runner.wait(Duration::from_secs(600))?;
        if !status.success() {
            return Err(format!("baton run --until-idle failed ({status}): {}", runner.log_tail()));
        }
    }
    let took = started.elapsed();
    let now = baton_core::time::now_ms();
    let q = rt.block_on(w.store.queue(&w.sb.namespace, now)).map_err(|e| format!("reading the queue: {e}"))?;
    let count = |m: &std::collections::BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    let ended = ["complete", "failed", "cancelled"].iter().map(|s| count(&q.jobs, s)).sum::<u64>();
    if count(&q.assignments, "complete") != n as u64 {
        return Err(format!("only {} of {n} assignments completed", count(&q.assignments, "complete")));
    }
    Ok(Throughput { rate: ended as f64 / took.as_secs_f64(), ended, took })
}

fn policy() -> EnginePolicy {
    EnginePolicy {
        pm: JobDefaults { pm_harness: "pm".into(), max_attempts: 3, host_gone_ms: 600_000 },
        max_lost_leases: 3,
        retry: RetryPolicy { retry_base_ms: 0, retry_on_timeout: false },
        host_gone_ms: 600_000,
        takeover: false,
        spend: Default::default(),
    }
}

fn success() -> AttemptResult {
    AttemptResult {
        released: false,
        result: Some("done".into()),
        success: Some(true),
        error: None,
        error_kind: None,
        exit_code: Some(0),
        session_id: None,
        tokens_in: None,
        tokens_out: None,
        cache_read_tokens: None,
        cache_write_tokens: None,
        cost_usd: None,
        transcript_truncated: false,
        transcript_error: None,
        transcript_tail: Vec::new(),
        git_head_after: None,
        diff_stat: None,
        session_mode: None,
        session_fallback_reason: None,
        session_host: None,
        model: None,
    }
}

/// In-process `claim_next` + `finish_attempt` pairs per second over `n` assignments with one
/// job each (every finished implement job queues a PM job, which is claimed and finished too;
/// a PM that decides nothing blocks its assignment). Returns (pairs per second, pairs).
pub fn claims(rt: &Runtime, w: &World, n: usize) -> Result<(f64, usize)> {
    seed(rt, w, n, 1)?;
    let (store, ns, policy) = (&w.store, w.sb.namespace.as_str(), policy());
    let started = Instant::now();
    let pairs = rt.block_on(async {
        let mut pairs = 0usize;
        while let Some(claim) = store.claim_next(ns, "bench", 60_000, &policy).await.map_err(|e| e.to_string())? {
            store.finish_attempt(&claim.job.id, claim.token, success(), &policy).await.map_err(|e| e.to_string())?;
            pairs += 1;
        }
        Ok::<usize, String>(pairs)
    })?;
    if pairs != 2 * n {
        return Err(format!("claimed {pairs} jobs, expected {}", 2 * n));
    }
    Ok((pairs as f64 / started.elapsed().as_secs_f64(), pairs))
}
