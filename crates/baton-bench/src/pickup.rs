//! Section 2, pickup latency: an idle `baton run` and one job at a time. For each job the bench
//! creates a fresh assignment, lets the runner settle, runs `baton insert-job`, and measures from
//! the moment that process exited to the moment the harness process started (the `__stamp`
//! stand-in writes CLOCK_REALTIME first thing). The PM twin then completes the assignment and
//! the bench waits until nothing is pending or running before the next job.
//!
//! The floor is the bench spawning the same stand-in directly: spawn → its first instruction,
//! as many times in a row after the jobs. The same spawn is also sampled once in each job's
//! settle time, beside the sleeping runner, as the job's own pickup starts from a runner that
//! slept: shown for context (on this kind of machine it is slower than back-to-back spawns).
//! The jobs run with `isolation = "none"`; a shorter series in a git repository with
//! `isolation = "worktree"` (where each new assignment's first job creates a worktree) is shown
//! for context.

use crate::agents::{self, Isolation};
use crate::error::{Ctx, Result};
use crate::harness::{realtime_ns, STAMP};
use crate::report::{Bound, Row, Section, Verdict};
use crate::sandbox::{open_jobs, wait_until, Sandbox};
use crate::stats::{ms, ratio, Samples};
use crate::Options;
use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const P50_TARGET: Duration = Duration::from_millis(5);
/// Pickup p50 against the spawn of the same stand-in (issue #18).
const RATIO_TARGET: f64 = 2.0;
const P99_TARGET: Duration = Duration::from_millis(20);
/// Quiet time before each insert, so the runner is back asleep on its wake-up socket.
pub const SETTLE: Duration = Duration::from_millis(20);

pub fn run(opts: &Options) -> Result<Section> {
    let jobs = if opts.quick { 30 } else { 500 };
    let plain = pickups(opts, Isolation::None, jobs)?;
    let worktree_jobs = if opts.quick { 10 } else { 50 };
    eprintln!("  again in a git repository with isolation = \"worktree\"…");
    let git = pickups(opts, Isolation::Worktree, worktree_jobs)?;

    let (exit, spawn) = (&plain.from_exit, &plain.from_spawn);
    let (floor, between) = (&plain.floor, &plain.floor_between);
    let mut section = Section::new("2. Pickup latency (idle runner, one job at a time)", "p50", "p99");
    let met = exit.median() <= P50_TARGET && exit.percentile(99.0) <= P99_TARGET;
    section.row(
        Row::new("insert-job exit → harness process start", ms(exit.median()), ms(exit.percentile(99.0)))
            .floor(ms(floor.median()))
            .ratio_target(ratio(exit.median(), floor.median()), Bound::AtMost(RATIO_TARGET)),
    );
    section.row(
        Row::new("the same, against absolute bounds", ms(exit.median()), ms(exit.percentile(99.0)))
            .target("p50 ≤ 5 ms, p99 ≤ 20 ms", Verdict::of(met)),
    );
    section.row(
        Row::new("the same, against spawns between the jobs", ms(exit.median()), ms(exit.percentile(99.0)))
            .floor(ms(between.median()))
            .ratio(ratio(exit.median(), between.median())),
    );
    section.row(Row::new("insert-job spawn → harness process start", ms(spawn.median()), ms(spawn.percentile(99.0))));
    section.row(Row::new("floor: bench spawns the stand-in directly", ms(floor.median()), ms(floor.percentile(99.0))));
    section.row(Row::new("the same spawn, between the jobs", ms(between.median()), ms(between.percentile(99.0))));
    section.row(
        Row::new(
            "insert-job exit → harness start, isolation = worktree (new assignment)",
            ms(git.from_exit.median()),
            ms(git.from_exit.percentile(99.0)),
        )
        .floor(ms(git.floor.median())),
    );
    section.note(format!(
        "{} jobs, each on a fresh assignment, isolation = \"none\" (the repository folder is no git repository), \
         {} ms settle before each insert; max {}; {} harnesses started before insert-job had exited (counted as 0); \
         {} jobs not complete",
        exit.len(),
        SETTLE.as_millis(),
        ms(exit.max()),
        plain.early,
        plain.unfinished
    ));
    section.note(
        "floor: as many spawns of the stand-in in a row after the jobs; \"between the jobs\": one spawn in each \
         job's settle time, beside the sleeping runner, as each pickup starts from a runner that slept; shown for \
         context, no verdict",
    );
    section.note(format!(
        "worktree row: {} jobs in a git repository with isolation = \"worktree\" (the default there); each is the \
         first job of a new assignment, so its pickup includes creating the assignment's branch and worktree; \
         shown for context, no verdict; {} jobs not complete",
        git.from_exit.len(),
        git.unfinished
    ));
    Ok(section)
}

/// What one series of pickups measured.
struct Pickups {
    from_exit: Samples,
    from_spawn: Samples,
    floor: Samples,
    /// The stand-in spawned once in each job's settle time.
    floor_between: Samples,
    /// Harnesses that started before `insert-job` had exited.
    early: usize,
    /// Jobs that did not end `complete`.
    unfinished: i64,
}

fn pickups(opts: &Options, isolation: Isolation, jobs: usize) -> Result<Pickups> {
    let sb = Sandbox::new(opts, "pickup")?;
    if isolation == Isolation::Worktree {
        git_init(&sb)?;
    }
    let log = sb.root.join("stamps.log");
    let stamper = vec![agents::path_str(&opts.bench), STAMP.to_string(), agents::path_str(&log)];
    agents::configure_with(&sb, &stamper, isolation)?;
    // Create the database before the runner starts (as `baton init && baton create` would).
    sb.baton_json(&["queue"])?;
    let conn = sb.connect()?;
    let mut runner = sb.start_runner(&[])?;
    runner.wait_registered(&conn)?;

    eprintln!("  {jobs} jobs, one at a time…");
    let mut inserted: Vec<(String, i128, i128)> = Vec::with_capacity(jobs);
    let (floor_log, mut between) = (sb.root.join("floor-stamps.log"), Vec::with_capacity(jobs));
    for i in 0..jobs {
        let created = sb.baton_json(&["create", &format!("pickup {i}")])?;
        let aid = created["id"].as_str().or(created["assignment"]["id"].as_str()).unwrap_or_default().to_string();
        std::thread::sleep(SETTLE);
        // The stand-in touches no database: the runner sleeps on through it.
        between.push(floor_sample(&opts.bench, &sb, &floor_log)?);
        runner.check_alive()?;
        let spawned = realtime_ns();
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
        let job_id = job["id"].as_str().unwrap_or_default().to_string();
        wait_until("the job and its PM to finish", Duration::from_secs(30), || {
            runner.check_alive()?;
            Ok(open_jobs(&conn, &sb.namespace)? == (0, 0))
        })?;
        inserted.push((job_id, spawned, exited));
    }
    let stamps = read_stamps(&log)?;
    let (mut from_exit, mut from_spawn, mut early) = (Vec::with_capacity(jobs), Vec::with_capacity(jobs), 0);
    for (job_id, spawned, exited) in &inserted {
        let started = *stamps
            .get(job_id)
            .ok_or_else(|| format!("job {job_id} left no stamp (its harness did not run): {}", runner.log_tail()))?;
        if started < *exited {
            early += 1;
        }
        from_exit.push(nanos(started - exited));
        from_spawn.push(nanos(started - spawned));
    }
    let unfinished: i64 = conn
        .query_row("SELECT COUNT(*) FROM jobs WHERE namespace = ?1 AND status <> 'complete'", [&sb.namespace], |r| {
            r.get(0)
        })
        .ctx("counting unfinished jobs")?;
    runner.stop()?;
    let floor = floor(&opts.bench, &sb, jobs)?;
    Ok(Pickups {
        from_exit: Samples::new(from_exit),
        from_spawn: Samples::new(from_spawn),
        floor,
        floor_between: Samples::new(between),
        early,
        unfinished,
    })
}

/// Makes the sandbox's repository a git repository with one commit.
pub fn git_init(sb: &Sandbox) -> Result<()> {
    let steps: [&[&str]; 2] = [
        &["init", "-q"],
        &["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "--allow-empty", "-m", "init"],
    ];
    for args in steps {
        let status = sb.command("git").args(args).status().ctx("running git (needed for the worktree row)")?;
        if !status.success() {
            return Err(format!("git {} failed: {status}", args.join(" ")));
        }
    }
    Ok(())
}

/// Spawn → first instruction of the stand-in, started by the bench itself, `n` times.
pub fn floor(bench: &Path, sb: &Sandbox, n: usize) -> Result<Samples> {
    let log = sb.root.join("floor-stamps.log");
    (0..n).map(|_| floor_sample(bench, sb, &log)).collect::<Result<Vec<_>>>().map(Samples::new)
}

/// One spawn of the stand-in, which stamps `log`: spawn → its first instruction.
fn floor_sample(bench: &Path, sb: &Sandbox, log: &Path) -> Result<Duration> {
    let before = realtime_ns();
    let status = sb.command(bench).arg(STAMP).arg(log).status().ctx("spawning the stand-in")?;
    if !status.success() {
        return Err(format!("the stand-in failed: {status}"));
    }
    let text = std::fs::read_to_string(log).ctx("reading the floor stamps")?;
    let stamp: i128 = text.lines().last().and_then(|l| l.split(' ').nth(1)?.parse().ok()).unwrap_or(before);
    Ok(nanos(stamp - before))
}

pub fn read_stamps(log: &Path) -> Result<HashMap<String, i128>> {
    let text = std::fs::read_to_string(log).ctx("reading the harness stamps")?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let (job, ns) = l.split_once(' ')?;
            Some((job.to_string(), ns.parse().ok()?))
        })
        .collect())
}

/// A non-negative duration from signed nanoseconds.
pub fn nanos(ns: i128) -> Duration {
    Duration::from_nanos(ns.max(0) as u64)
}
