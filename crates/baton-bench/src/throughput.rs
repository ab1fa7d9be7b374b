//! Section 3, throughput: N assignments, each with one pending job, run to the end by
//! `baton run --until-idle` with concurrency 1 and 8. Each job's no-op harness prints one line
//! and exits 0; the PM job the engine queues after it runs the PM twin, which completes the
//! assignment. Every job that ends (PM jobs included) counts; the clock runs from spawning the
//! runner to its exit.
//!
//! The floor is the bench spawning the same no-op script and waiting for it, in a plain loop
//! (and from 8 threads at once for the concurrency-8 row). A second floor runs each assignment's
//! two processes (no-op, then PM twin) without a runner; the runner's own CPU and its
//! descendants' are accounted per job; a shorter run with `isolation = "worktree"` is shown for
//! context.

use crate::agents::{self, Isolation};
use crate::error::{Ctx, Result};
use crate::report::{Bound, Row, Section, Verdict};
use crate::sandbox::Sandbox;
use crate::stats::Samples;
use crate::Options;
use rusqlite::{params, Connection};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The full loop against its floor, the same processes spawned in a loop (issue #18).
const LOOP_TARGET: f64 = 0.8;
/// The engine's CPU per job against the CPU of one no-op agent process.
const ENGINE_CPU_TARGET: f64 = 2.0;
/// Database bytes per job, prompt and transcript text aside.
const BYTES_PER_JOB_TARGET: u64 = 500;
/// Stored prompt bytes per byte of prompt text.
const PROMPT_TARGET: f64 = 0.5;

pub fn run(opts: &Options) -> Result<Section> {
    let n = if opts.quick { 40 } else { 1000 };
    let mut section =
        Section::new("3. Throughput (no-op harness + PM twin, jobs ended per second)", "jobs/s", "per job");
    for concurrency in [1usize, 8] {
        eprintln!("  {n} assignments, concurrency {concurrency}…");
        let run = run_until_idle(opts, n, concurrency, Agents::Plain(Isolation::None))?;
        let (sb, conn, ended, complete, took) = (&run.sandbox, &run.conn, run.ended, run.complete, run.took);
        let per_job = |d: Duration| d.as_secs_f64() * 1e3 / ended.max(1) as f64;
        let (own, rest) = (per_job(run.cpu.own_cpu), per_job(run.cpu.total_cpu.saturating_sub(run.cpu.own_cpu)));
        let noop = sb.root.join("noop.sh");
        let rate = ended as f64 / took.as_secs_f64();
        let floor = spawn_loop(sb, &noop, (n * 2).max(100), concurrency)?;
        let twin = twin_rate(opts, n, concurrency)?;
        let phases = (concurrency == 1).then(|| phases(conn, &sb.namespace)).transpose()?;
        section.row(
            Row::new(
                format!("baton run --until-idle --concurrency {concurrency}"),
                format!("{rate:.0}"),
                format!("{:.2} ms", 1e3 / rate),
            )
            .floor(format!("{:.0}/s", twin.rate))
            .ratio_target(rate / twin.rate, Bound::AtLeast(LOOP_TARGET)),
        );
        section.row(
            Row::new(
                format!("floor: the no-op alone spawned in a loop, {concurrency} at once"),
                format!("{:.0}", floor.rate),
                format!("{:.2} ms", 1e3 / floor.rate),
            )
            .ratio(rate / floor.rate),
        );
        // The engine's share: everything the runner and its supervisors spent, less what the
        // agents (the no-op, and the PM twin with the `baton` it runs) cost inside their jobs,
        // measured by a second run whose agents record their own CPU.
        eprintln!("  again with each agent's CPU recorded, for the engine's share…");
        let measured = run_until_idle(opts, n, concurrency, Agents::Measured)?;
        let agents_cpu = crate::harness::measured_cpu(&measured.sandbox.root.join(AGENTS_CPU_LOG));
        let measured_per_job = |d: Duration| d.as_secs_f64() * 1e3 / measured.ended.max(1) as f64;
        let engine = measured_per_job(measured.cpu.total_cpu.saturating_sub(agents_cpu));
        let agent_floor = ms_f(floor.cpu_per_spawn);
        section.row(
            Row::new(
                format!("engine CPU per job, concurrency {concurrency} (containment: {})", measured.containment),
                format!("{engine:.2} ms"),
                "",
            )
            .floor(format!("{agent_floor:.2} ms"))
            .ratio_target(engine / agent_floor, Bound::AtMost(ENGINE_CPU_TARGET)),
        );
        section.note(format!(
            "concurrency {concurrency}: {ended} jobs ended ({complete} complete) for {n} assignments in {:.2} s; \
             CPU per job: {own:.2} ms in the runner, {rest:.2} ms in its supervisors and agents; floor = the no-op \
             script, then the PM twin, spawned and waited for {} ({:.2} ms of CPU per pair); engine CPU = the \
             runner's and its descendants' CPU less what the agents cost inside their jobs ({:.2} ms per job, \
             recorded by each agent's `__measure` wrapper in a second run of {} jobs, wrapper included); its floor = \
             the CPU of one no-op agent process",
            took.as_secs_f64(),
            if concurrency == 1 { "in a plain loop".to_string() } else { format!("from {concurrency} threads") },
            ms_f(twin.cpu_per_pair),
            measured_per_job(agents_cpu),
            measured.ended,
        ));
        if concurrency == 1 {
            let size = stored_size(conn)?;
            let empty = empty_size(opts)?;
            let per_job = size.rest.saturating_sub(empty) as f64 / ended.max(1) as f64;
            section.row(
                Row::new(
                    "database bytes per job (history, one attempt; prompt and transcript text excluded)",
                    format!("{per_job:.0} B"),
                    "",
                )
                .target(format!("≤ {BYTES_PER_JOB_TARGET} B"), Verdict::of(per_job <= BYTES_PER_JOB_TARGET as f64)),
            );
            let prompt = size.prompt_stored as f64 / size.prompt_raw.max(1) as f64;
            section.row(
                Row::new("stored prompt text per byte of prompt", format!("{prompt:.2} B"), "")
                    .floor(format!("{} B raw", size.prompt_raw))
                    .ratio_target(prompt, Bound::AtMost(PROMPT_TARGET)),
            );
            section.note(format!(
                "database size after the concurrency-1 run, checkpointed: {} B in use ({} B of it prompt text, {} B \
                 transcript text, {empty} B an empty database's schema) for {ended} jobs and their assignments",
                size.total, size.prompt_stored, size.transcript
            ));
        }
        if let Some(p) = phases {
            section.note(format!(
                "concurrency 1, from the jobs' recorded times (ms resolution, mean): an implement job takes {:.2} ms \
                 from its claim to its recorded end (its no-op agent alone: {:.2} ms), a PM job {:.2} ms (the PM \
                 twin alone: {:.2} ms), and {:.2} ms pass from one job's recorded end to the next claim",
                p.work_ms,
                ms_f(twin.noop),
                p.pm_ms,
                ms_f(twin.pm),
                p.gap_ms
            ));
        }
    }
    let n = if opts.quick { 10 } else { 100 };
    eprintln!("  {n} assignments in a git repository, isolation = worktree…");
    let run = run_until_idle(opts, n, 1, Agents::Plain(Isolation::Worktree))?;
    let rate = run.ended as f64 / run.took.as_secs_f64();
    section.row(Row::new(
        "baton run --until-idle --concurrency 1, isolation = worktree",
        format!("{rate:.0}"),
        format!("{:.2} ms", 1e3 / rate),
    ));
    section.note(format!(
        "worktree row: {n} assignments in a git repository with isolation = \"worktree\" (the default there): each \
         assignment's first job creates its branch and worktree, and every job records git HEADs and a diff stat; \
         {} jobs ended in {:.2} s; shown for context, no verdict",
        run.ended,
        run.took.as_secs_f64()
    ));
    Ok(section)
}

/// One `baton run --until-idle` over freshly seeded assignments.
struct UntilIdle {
    sandbox: Sandbox,
    conn: Connection,
    ended: i64,
    complete: i64,
    took: Duration,
    cpu: crate::sandbox::Accounted,
    /// The runner's containment mechanism, as it registered it.
    containment: String,
}

/// How a run's agents are started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agents {
    /// As they are: what the loop's rate is measured with.
    Plain(Isolation),
    /// Under `__measure`, which records each agent's CPU inside its job: for the engine's share.
    Measured,
}

/// The file `__measure` appends to, in a run's temp folder.
const AGENTS_CPU_LOG: &str = "agents-cpu.log";

fn run_until_idle(opts: &Options, n: usize, concurrency: usize, started_as: Agents) -> Result<UntilIdle> {
    let sb = Sandbox::new(opts, "throughput")?;
    let noop = agents::write_noop(&sb)?;
    let work = [agents::path_str(&noop)];
    match started_as {
        Agents::Plain(isolation) => {
            if isolation == Isolation::Worktree {
                crate::pickup::git_init(&sb)?;
            }
            agents::configure_with(&sb, &work, isolation)?;
        }
        Agents::Measured => agents::configure_measured(&sb, &work, &opts.bench, &sb.root.join(AGENTS_CPU_LOG))?,
    }
    seed(&sb, n, true)?;
    let started = Instant::now();
    let mut runner = sb.start_runner(&["--until-idle", "--concurrency", &concurrency.to_string()])?;
    let accounted = runner.wait_accounted(Duration::from_secs(600))?;
    let took = started.elapsed();
    if !accounted.success {
        return Err(format!("baton run --until-idle failed: {}", runner.log_tail()));
    }
    let conn = sb.connect()?;
    let (ended, complete, assignments_done) = tally(&conn, &sb.namespace)?;
    if assignments_done != n as i64 {
        return Err(format!("only {assignments_done} of {n} assignments were completed: {}", runner.log_tail()));
    }
    let containment = conn
        .query_row("SELECT COALESCE(containment, 'none') FROM runners ORDER BY started_at DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap_or_else(|_| "unknown".to_string());
    Ok(UntilIdle { sandbox: sb, conn, ended, complete, took, cpu: accounted, containment })
}

/// The no-op and PM twin processes run by the bench itself.
struct Twin {
    /// Jobs (two per pair) per second.
    rate: f64,
    /// Median wall time of one no-op and of one PM twin process.
    noop: Duration,
    pm: Duration,
    /// CPU (user + system) of one no-op and one PM twin process together.
    cpu_per_pair: Duration,
}

/// Mean times of the concurrency-1 run, from the jobs' `started_at`/`finished_at`.
struct Phases {
    work_ms: f64,
    pm_ms: f64,
    gap_ms: f64,
}

fn ms_f(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn phases(conn: &Connection, ns: &str) -> Result<Phases> {
    let mean = |sql: &str| -> Result<f64> {
        conn.query_row(sql, [ns], |r| r.get::<_, Option<f64>>(0)).map(Option::unwrap_or_default).ctx("timing jobs")
    };
    Ok(Phases {
        work_ms: mean("SELECT AVG(finished_at - started_at) FROM jobs WHERE namespace = ?1 AND type <> 'pm'")?,
        pm_ms: mean("SELECT AVG(finished_at - started_at) FROM jobs WHERE namespace = ?1 AND type = 'pm'")?,
        gap_ms: mean(
            "SELECT AVG(started_at - previous) FROM (SELECT started_at, \
             LAG(finished_at) OVER (ORDER BY started_at, finished_at) AS previous FROM jobs WHERE namespace = ?1) \
             WHERE previous IS NOT NULL",
        )?,
    })
}

/// The processes of an assignment's two jobs without the runner: the no-op script, then the PM
/// twin (`sh` exec'ing `baton update-assignment … --status complete`), back to back, from
/// `threads` threads.
fn twin_rate(opts: &Options, n: usize, threads: usize) -> Result<Twin> {
    let sb = Sandbox::new(opts, "twin")?;
    let noop = agents::write_noop(&sb)?;
    agents::configure(&sb, &[agents::path_str(&noop)])?;
    let ids = seed(&sb, n, false)?;
    let pm = sb.root.join("pm.sh");
    let baton_dir = opts.baton.parent().map(agents::path_str).unwrap_or_default();
    let path = format!("{baton_dir}:/usr/local/bin:/usr/bin:/bin");
    let next = std::sync::atomic::AtomicUsize::new(0);
    let cpu_before = children_cpu();
    let started = Instant::now();
    type Times = (Vec<Duration>, Vec<Duration>);
    let results: Vec<Result<Times>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<Times> {
                    let mut times: Times = (Vec::new(), Vec::new());
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(aid) = ids.get(i) else { return Ok(times) };
                        let t0 = Instant::now();
                        let out = sb.command(&noop).stdout(Stdio::piped()).output().ctx("spawning the no-op")?;
                        let t1 = Instant::now();
                        let twin = sb
                            .command(&pm)
                            .env("PATH", &path)
                            .env("BATON_ASSIGNMENT_ID", aid)
                            .stdout(Stdio::piped())
                            .output()
                            .ctx("spawning the PM twin")?;
                        times.0.push(t1 - t0);
                        times.1.push(t1.elapsed());
                        if !out.status.success() || !twin.status.success() {
                            return Err(format!("the no-op or the PM twin failed: {} / {}", out.status, twin.status));
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a spawn thread panicked".into()))).collect()
    });
    let rate = (ids.len() * 2) as f64 / started.elapsed().as_secs_f64();
    let cpu_per_pair = children_cpu().saturating_sub(cpu_before).div_f64(ids.len().max(1) as f64);
    let (mut noops, mut pms) = (Vec::new(), Vec::new());
    for times in results {
        let (n, p) = times?;
        noops.extend(n);
        pms.extend(p);
    }
    Ok(Twin { rate, noop: Samples::new(noops).median(), pm: Samples::new(pms).median(), cpu_per_pair })
}

/// Inserts `n` active assignments, with one pending `implement` job each when `with_job`,
/// through the real schema; returns their ids.
fn seed(sb: &Sandbox, n: usize, with_job: bool) -> Result<Vec<String>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ctx("starting tokio")?;
    runtime.block_on(baton_store::open(&sb.database_url())).map_err(|e| format!("opening the database: {e}"))?;
    let mut conn = Connection::open(&sb.db).ctx("opening the database")?;
    let tx = conn.transaction().ctx("starting a transaction")?;
    let now = baton_core::time::now_ms();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let (aid, jid) = (baton_core::ids::new_assignment_id(), baton_core::ids::new_job_id());
        let at = now - (n - i) as i64;
        tx.execute(
            "INSERT INTO assignments (id, namespace, north_star, status, max_jobs, origin_root, created_at, updated_at) \
             VALUES (?1, ?2, ?3, 'active', 50, ?4, ?5, ?5)",
            params![aid, sb.namespace, format!("throughput {i}"), sb.repo.display().to_string(), at],
        )
        .ctx("inserting an assignment")?;
        let mut history = vec![(None, "created")];
        if with_job {
            tx.execute(
                "INSERT INTO jobs (id, namespace, assignment_id, position, type, harness, context, status, \
                 max_attempts, created_at) VALUES (?1, ?2, ?3, 1, 'implement', 'work', '', 'pending', 3, ?4)",
                params![jid, sb.namespace, aid, at],
            )
            .ctx("inserting a job")?;
            history.push((Some(&jid), "implement job queued (work)"));
        }
        for (job, action) in history {
            let actor = "person:bench";
            tx.execute(
                "INSERT INTO history (assignment_id, job_id, at, actor, action) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![aid, job, at, actor, action],
            )
            .ctx("inserting history")?;
        }
        ids.push(aid);
    }
    tx.commit().ctx("committing the seed")?;
    Ok(ids)
}

/// Where a database's bytes go.
struct StoredSize {
    /// Pages in use (the file less its free pages), after a checkpoint.
    total: u64,
    /// Stored prompt bytes (compressed as kept) and the prompts' raw size.
    prompt_stored: u64,
    prompt_raw: u64,
    /// Transcript event text.
    transcript: u64,
    /// Everything else.
    rest: u64,
}

/// The pages in use of a database baton just created: the schema, before any row.
fn empty_size(opts: &Options) -> Result<u64> {
    let sb = Sandbox::new(opts, "empty")?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ctx("starting tokio")?;
    runtime.block_on(baton_store::open(&sb.database_url())).map_err(|e| format!("opening the database: {e}"))?;
    drop(runtime);
    Ok(stored_size(&sb.connect()?)?.total)
}

fn stored_size(conn: &Connection) -> Result<StoredSize> {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).ctx("checkpointing")?;
    let one = |sql: &str| -> Result<u64> {
        conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0)).map(|n| n.unwrap_or(0).max(0) as u64).ctx("sizing")
    };
    let pages = one("PRAGMA page_count")?.saturating_sub(one("PRAGMA freelist_count")?);
    let total = pages * one("PRAGMA page_size")?;
    let prompt_stored = one("SELECT SUM(LENGTH(prompt)) FROM attempts")?;
    let prompt_raw = one("SELECT SUM(prompt_bytes) FROM attempts")?;
    let transcript = one("SELECT SUM(LENGTH(CAST(event AS BLOB))) FROM job_events")?;
    let rest = total.saturating_sub(prompt_stored + transcript);
    Ok(StoredSize { total, prompt_stored, prompt_raw, transcript, rest })
}

/// (jobs ended, jobs complete, assignments complete).
fn tally(conn: &Connection, ns: &str) -> Result<(i64, i64, i64)> {
    let one = |sql: &str| -> Result<i64> { conn.query_row(sql, [ns], |r| r.get(0)).ctx("counting") };
    Ok((
        one("SELECT COUNT(*) FROM jobs WHERE namespace = ?1 AND status IN ('complete', 'failed', 'cancelled')")?,
        one("SELECT COUNT(*) FROM jobs WHERE namespace = ?1 AND status = 'complete'")?,
        one("SELECT COUNT(*) FROM assignments WHERE namespace = ?1 AND status = 'complete'")?,
    ))
}

/// Spawns per second: `total` runs of `script` (stdout piped and read, as the runner does), from
/// `threads` threads at once.
pub fn spawn_rate(sb: &Sandbox, script: &Path, total: usize, threads: usize) -> Result<f64> {
    spawn_loop(sb, script, total, threads).map(|spawned| spawned.rate)
}

/// What [`spawn_loop`] measured.
pub struct Spawned {
    /// Runs per second.
    pub rate: f64,
    /// CPU (user + system) of one run of the script.
    pub cpu_per_spawn: Duration,
}

/// `total` runs of `script` from `threads` threads: their rate and CPU.
pub fn spawn_loop(sb: &Sandbox, script: &Path, total: usize, threads: usize) -> Result<Spawned> {
    let per_thread = total.div_ceil(threads);
    let cpu_before = children_cpu();
    let started = Instant::now();
    let results: Vec<Result<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    for _ in 0..per_thread {
                        let out = sb.command(script).stdout(Stdio::piped()).output().ctx("spawning the no-op")?;
                        if !out.status.success() {
                            return Err(format!("the no-op script failed: {}", out.status));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a spawn thread panicked".into()))).collect()
    });
    results.into_iter().collect::<Result<Vec<()>>>()?;
    let runs = per_thread * threads;
    Ok(Spawned {
        rate: runs as f64 / started.elapsed().as_secs_f64(),
        cpu_per_spawn: children_cpu().saturating_sub(cpu_before).div_f64(runs.max(1) as f64),
    })
}

/// User + system CPU of every child this process has reaped so far.
fn children_cpu() -> Duration {
    // SAFETY: rusage is plain data filled by getrusage.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}
