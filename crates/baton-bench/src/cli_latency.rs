//! Section 1, CLI latency: whole-process wall time (spawn → exit) of everyday commands on a
//! database holding 10,000 assignments and 100,000 jobs, beside the same measurement of
//! `sqlite3 FILE "select 1"` (a process that opens the same file and runs one query) and of
//! `/bin/true` (a bare spawn).
//!
//! The commands run twice over: first with no other process holding the database (the targeted
//! figures), then again while an idle `baton run` on another namespace is connected, as when a
//! person works beside a runner. SQLite behaves differently then: the last connection to close a
//! WAL database checkpoints and deletes the WAL, the others don't.
//!
//! Commands run round-robin (one of each per round) so drift on the machine hits them alike;
//! one warm-up round is not counted. Every run must exit 0.

use crate::error::{Ctx, Result};
use crate::fill::{self, FillSpec};
use crate::report::{Bound, Row, Section, Verdict};
use crate::sandbox::Sandbox;
use crate::spawn::timed;
use crate::stats::{ms, ratio, Samples};
use crate::Options;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

const TARGET: Duration = Duration::from_millis(5);
/// Every command against the `sqlite3 FILE "select 1"` floor (issue #18).
const RATIO_TARGET: f64 = 2.0;
/// `baton queue` on the big database against the same on 10,000 jobs.
const SCALE_TARGET: f64 = 1.2;
/// The small database `queue` is compared with.
const SMALL_JOBS: usize = 10_000;
const JOBS_PER: usize = 10;

/// One measured command line.
struct Case {
    label: String,
    program: PathBuf,
    /// The arguments of run `n`.
    args: Box<dyn Fn(usize) -> Vec<String>>,
    /// Counted toward the target (the baton commands) or shown for context.
    targeted: bool,
}

/// A case's wall and CPU times.
struct Measured {
    wall: Samples,
    cpu: Samples,
}

pub fn run(opts: &Options) -> Result<Section> {
    let runs = if opts.quick { 30 } else { 100 };
    let sb = Sandbox::new(opts, "bench")?;
    let status = sb.baton(&["init"]).status().ctx("running baton init")?;
    if !status.success() {
        return Err(format!("baton init failed: {status}"));
    }
    let spec = FillSpec { assignments: opts.jobs / JOBS_PER, jobs_per: JOBS_PER };
    eprintln!("  filling {} assignments, {} jobs…", spec.assignments, spec.assignments * spec.jobs_per);
    let filled = fill::fill(&sb.db, &sb.namespace, spec)?;
    verify_counts(&sb, &filled)?;

    let sqlite3 = which("sqlite3");
    let cases = build_cases(&sb, &filled, spec.jobs_per, sqlite3.clone());
    eprintln!("  {runs} rounds of {} commands, no other connection…", cases.len());
    let alone = measure(&on(&sb, &cases), runs)?;

    let baton_cases: Vec<Case> =
        build_cases(&sb, &filled, spec.jobs_per, None).into_iter().filter(|c| c.targeted).collect();
    let conn = sb.connect()?;
    let mut runner = sb.start_runner_with(&[], &[("BATON_NAMESPACE", "elsewhere")])?;
    runner.wait_registered(&conn)?;
    eprintln!("  {runs} rounds of {} commands beside an idle runner…", baton_cases.len());
    let beside = measure(&on(&sb, &baton_cases), runs)?;
    runner.check_alive()?;
    runner.stop()?;

    let floor_index = cases.iter().position(|c| c.label.contains("sqlite3"));
    let floor_median = floor_index.map(|i| alone[i].wall.median());
    let floor = floor_median.map(ms).unwrap_or_else(|| "no sqlite3".into());
    let title = format!(
        "1. CLI latency (spawn → exit, {} assignments / {} jobs)",
        thousands(spec.assignments),
        thousands(spec.assignments * spec.jobs_per)
    );
    let mut section = Section::new(title, "median", "p90");
    let mut absolute_met = true;
    for (case, m) in cases.iter().zip(&alone) {
        let row = Row::new(&case.label, ms(m.wall.median()), ms(m.wall.percentile(90.0)));
        absolute_met &= !case.targeted || m.wall.median() <= TARGET;
        section.row(match (case.targeted, floor_median) {
            (true, Some(f)) => {
                row.floor(floor.clone()).ratio_target(ratio(m.wall.median(), f), Bound::AtMost(RATIO_TARGET))
            }
            (true, None) => row.target("median ≤ 5 ms", Verdict::of(m.wall.median() <= TARGET)),
            (false, _) => row,
        });
    }
    if floor_median.is_some() {
        section.row(Row::new("every baton command above, median", "", "").target("≤ 5 ms", Verdict::of(absolute_met)));
    }
    // `queue` must not grow with the open work it does not print. Measured alternately on both
    // databases, so that a load that drifts between two series cannot pass for a difference.
    let big_jobs = thousands(spec.assignments * spec.jobs_per);
    eprintln!("  `baton queue` on {big_jobs} and on {} jobs, alternately…", thousands(SMALL_JOBS));
    let (small_sb, small_queue) = small_database(opts)?;
    let big_queue = cases.iter().find(|c| c.label == "baton queue").ok_or("no `baton queue` case")?;
    let scale = measure(&[(&sb, big_queue), (&small_sb, &small_queue)], runs)?;
    let (queue_big, queue_small) = (scale[0].wall.median(), scale[1].wall.median());
    section.row(
        Row::new(
            format!("baton queue at {big_jobs} jobs vs at {}, alternately", thousands(SMALL_JOBS)),
            ms(queue_big),
            "",
        )
        .floor(ms(queue_small))
        .ratio_target(ratio(queue_big, queue_small), Bound::AtMost(SCALE_TARGET)),
    );
    for (case, m) in baton_cases.iter().zip(&beside) {
        section.row(
            Row::new(format!("{}, runner connected", case.label), ms(m.wall.median()), ms(m.wall.percentile(90.0)))
                .floor(floor.clone()),
        );
    }
    let cpu = |cases: &[Case], measured: &[Measured]| -> String {
        cases
            .iter()
            .zip(measured)
            .map(|(c, m)| format!("{} {}", c.label.split(" (").next().unwrap_or_default(), ms(m.cpu.median())))
            .collect::<Vec<_>>()
            .join("; ")
    };
    section.note(format!(
        "{runs} runs each (after one warm-up round), round-robin; the database was filled through the real schema \
         in {:.1} s ({} history rows, file {}); `baton queue --json` counts checked: assignments {}; jobs {}",
        filled.took.as_secs_f64(),
        filled.history_rows,
        crate::stats::mib(std::fs::metadata(&sb.db).map(|m| m.len()).unwrap_or(0)),
        counts(&filled.assignments),
        counts(&filled.jobs)
    ));
    section.note(format!("median CPU time (user + system) alone: {}", cpu(&cases, &alone)));
    section.note(format!("median CPU time beside the runner: {}", cpu(&baton_cases, &beside)));
    section.note(
        "“runner connected”: an idle `baton run` on another namespace holds the database open (and is woken by \
         every write), as when a person uses the CLI beside a runner; shown for context, no verdict",
    );
    if sqlite3.is_none() {
        section.note("sqlite3 is not installed: the floor column shows none; /bin/true is the remaining floor");
    }
    Ok(section)
}

fn build_cases(sb: &Sandbox, filled: &fill::Filled, jobs_per: usize, sqlite3: Option<PathBuf>) -> Vec<Case> {
    let baton = |label: String, args: Vec<&str>| {
        let args: Vec<String> = args.into_iter().map(str::to_string).collect();
        Case { label, program: sb.baton.clone(), args: Box::new(move |_| args.clone()), targeted: true }
    };
    let aid = filled.complete_id.as_str();
    let jid = filled.complete_job_id.as_str();
    let mut cases = vec![
        baton("baton queue".into(), vec!["queue"]),
        baton("baton assignments".into(), vec!["assignments"]),
        baton(format!("baton assignment <id> ({jobs_per} jobs)"), vec!["assignment", aid]),
        baton("baton jobs --assignment <id>".into(), vec!["jobs", "--assignment", aid]),
        baton("baton job <id>".into(), vec!["job", jid]),
        baton(
            "baton create \"…\" (outside a git repository)".into(),
            vec!["create", "Benchmark: add a health endpoint reporting queue depth"],
        ),
    ];
    // update-assignment too goes round the active assignments; the job limit it sets is the one
    // they have, so every run writes the same thing.
    let active = filled.active_ids.clone();
    cases.push(Case {
        label: "baton update-assignment <aid> --max-jobs 50".into(),
        program: sb.baton.clone(),
        args: Box::new(move |n| {
            ["update-assignment", &active[n % active.len()], "--max-jobs", "50"].map(str::to_string).to_vec()
        }),
        targeted: true,
    });
    // insert-job goes round the active assignments, so no chain reaches its job limit.
    let active = filled.active_ids.clone();
    cases.push(Case {
        label: "baton insert-job <aid> --type implement".into(),
        program: sb.baton.clone(),
        args: Box::new(move |n| {
            ["insert-job", &active[n % active.len()], "--type", "implement"].map(str::to_string).to_vec()
        }),
        targeted: true,
    });
    let mut version = baton("baton --version (no config, no database)".into(), vec!["--version"]);
    version.targeted = false;
    cases.push(version);
    if let Some(sqlite3) = sqlite3 {
        let db = sb.db.display().to_string();
        cases.push(Case {
            label: "floor: sqlite3 FILE \"select 1\"".into(),
            program: sqlite3,
            args: Box::new(move |_| vec![db.clone(), "select 1".into()]),
            targeted: false,
        });
    }
    cases.push(Case {
        label: "floor: /bin/true".into(),
        program: "/bin/true".into(),
        args: Box::new(|_| Vec::new()),
        targeted: false,
    });
    cases
}

/// Every case of `cases`, run in `sb`.
fn on<'a>(sb: &'a Sandbox, cases: &'a [Case]) -> Vec<(&'a Sandbox, &'a Case)> {
    cases.iter().map(|case| (sb, case)).collect()
}

/// `runs` rounds (plus one warm-up) of every case, round-robin, each in its sandbox.
fn measure(cases: &[(&Sandbox, &Case)], runs: usize) -> Result<Vec<Measured>> {
    let mut wall: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); cases.len()];
    let mut cpu = wall.clone();
    for round in 0..=runs {
        for (i, (sb, case)) in cases.iter().enumerate() {
            let mut command = sb.command(&case.program);
            command.args((case.args)(round)).stdout(Stdio::null()).stderr(Stdio::null());
            let t = timed(&mut command, &case.label)?;
            if round > 0 {
                wall[i].push(t.wall);
                cpu[i].push(t.cpu);
            }
        }
    }
    Ok(wall.into_iter().zip(cpu).map(|(w, c)| Measured { wall: Samples::new(w), cpu: Samples::new(c) }).collect())
}

/// A database of [`SMALL_JOBS`] jobs, shaped like the big one, and `baton queue` on it.
fn small_database(opts: &Options) -> Result<(Sandbox, Case)> {
    let sb = Sandbox::new(opts, "small")?;
    let status = sb.baton(&["init"]).status().ctx("running baton init")?;
    if !status.success() {
        return Err(format!("baton init failed: {status}"));
    }
    fill::fill(&sb.db, &sb.namespace, FillSpec { assignments: SMALL_JOBS / JOBS_PER, jobs_per: JOBS_PER })?;
    let queue = Case {
        label: "baton queue (small)".into(),
        program: sb.baton.clone(),
        args: Box::new(|_| vec!["queue".to_string()]),
        targeted: true,
    };
    Ok((sb, queue))
}

/// `100,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn counts(pairs: &[(&str, u64)]) -> String {
    pairs.iter().map(|(status, n)| format!("{status} {n}")).collect::<Vec<_>>().join(", ")
}

/// Checks the trigger-kept counters against what was inserted, through `baton queue --json`.
fn verify_counts(sb: &Sandbox, filled: &fill::Filled) -> Result<()> {
    let queue = sb.baton_json(&["queue"])?;
    for (status, n) in filled.assignments {
        let got = queue["assignments"][status].as_u64().unwrap_or(0);
        if got != n {
            return Err(format!("baton queue counts {got} {status} assignments; the fill inserted {n}"));
        }
    }
    for (status, n) in filled.jobs {
        let got = queue["jobs"][status].as_u64().unwrap_or(0);
        if got != n {
            return Err(format!("baton queue counts {got} {status} jobs; the fill inserted {n}"));
        }
    }
    let ready = queue["ready_total"].as_u64().unwrap_or(0);
    if ready != filled.assignments[0].1 {
        return Err(format!("baton queue shows {ready} ready jobs; expected one per active assignment"));
    }
    Ok(())
}

/// The first `name` on the usual PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    ["/usr/local/bin", "/usr/bin", "/bin"].iter().map(|d| std::path::Path::new(d).join(name)).find(|p| p.is_file())
}
