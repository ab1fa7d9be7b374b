//! `baton-bench`: measures the release `baton` binary as people and runners use it — real
//! processes, real SQLite files in temp folders — and prints each figure beside a floor measured
//! in the same run and the target it must meet.
//!
//! Sections, one module each:
//! 1. [`cli_latency`]: spawn → exit of everyday commands on 10,000 assignments / 100,000 jobs.
//! 2. [`pickup`]: `insert-job` exit → harness process start, with an idle runner.
//! 3. [`throughput`]: jobs ended per second by `baton run --until-idle`, concurrency 1 and 8.
//! 4. [`idle`]: CPU of an idle runner.
//! 5. [`memory`]: runner peak memory while one job streams 1 GiB.
//! 6. [`backends`]: the CLI, pickup, throughput and in-process claim figures on SQLite and on
//!    PostgreSQL (`BATON_TEST_POSTGRES_URL`) side by side.
//!
//! ```text
//! cargo build --release -p baton -p baton-bench
//! target/release/baton-bench [--quick] [--jobs N] [--only cli,pickup,throughput,idle,memory,backends] [--baton PATH] [--strict] [--keep]
//! ```
//!
//! The same binary doubles as the stand-in agents the runner sections configure (see [`harness`]).

mod agents;
mod backends;
mod cli_latency;
mod error;
mod fill;
mod harness;
mod idle;
mod memory;
mod pickup;
mod procfs;
mod report;
mod sandbox;
mod spawn;
mod stats;
mod throughput;

use error::Result;
use report::Section;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Jobs in the CLI section's database unless `--jobs` says otherwise.
const DEFAULT_JOBS: usize = 100_000;

const SECTIONS: [&str; 6] = ["cli", "pickup", "throughput", "idle", "memory", "backends"];

const USAGE: &str = "\
baton-bench: CLI latency, pickup latency, throughput, idle CPU and runner memory of the release baton,
and the main figures on SQLite and PostgreSQL side by side

usage: baton-bench [--quick] [--jobs N] [--only SECTION,…] [--baton PATH] [--strict] [--keep]

  --quick         a small version (well under a minute): fewer runs, 100 MiB instead of 1 GiB
  --jobs N        jobs in the CLI section's database (default 100000; 1000000 for the 1M row)
  --only LIST     run only these sections: cli, pickup, throughput, idle, memory, backends
                  (backends measures PostgreSQL too when BATON_TEST_POSTGRES_URL is set)
  --baton PATH    the baton binary to measure (default: `baton` next to this binary)
  --strict        exit 1 when a figure misses its target (default: report it, exit 0)
  --keep          keep the temp folders (databases, configs, runner logs) and print where they are

Build first: cargo build --release -p baton -p baton-bench";

/// What the sections need to know.
#[derive(Debug, Clone)]
pub struct Options {
    pub quick: bool,
    /// Jobs in the CLI section's database (`--jobs`).
    pub jobs: usize,
    /// Leave the temp folders (databases, configs, runner logs) behind and print where.
    pub keep: bool,
    /// The `baton` binary under test.
    pub baton: PathBuf,
    /// This binary, which the runner sections configure as their stand-in agents.
    pub bench: PathBuf,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(code) = harness::dispatch(&args) {
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    match run(&args[1..]) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("baton-bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode> {
    let mut quick = false;
    let mut strict = false;
    let mut keep = false;
    let mut jobs = DEFAULT_JOBS;
    let mut baton: Option<PathBuf> = None;
    let mut only: Vec<String> = SECTIONS.iter().map(|s| s.to_string()).collect();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--strict" => strict = true,
            "--keep" => keep = true,
            "--jobs" => {
                let n = it.next().ok_or("--jobs needs a number, e.g. --jobs 1000000")?;
                jobs = n
                    .replace('_', "")
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1000)
                    .ok_or_else(|| format!("--jobs takes a number of jobs of at least 1000, not `{n}`"))?;
            }
            "--baton" => baton = Some(it.next().ok_or("--baton needs a path")?.into()),
            "--only" => {
                only =
                    it.next().ok_or("--only needs a list, e.g. cli,pickup")?.split(',').map(str::to_string).collect();
                if let Some(bad) = only.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
                    return Err(format!("--only: unknown section `{bad}`; valid: {}", SECTIONS.join(", ")));
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    let bench = std::env::current_exe().map_err(|e| format!("locating this binary: {e}"))?;
    let baton = match baton {
        Some(path) => path,
        None => bench.parent().map(|d| d.join("baton")).ok_or("this binary has no folder")?,
    };
    if !baton.is_file() {
        return Err(format!(
            "no baton binary at {}: build it with `cargo build --release -p baton -p baton-bench` or pass --baton PATH",
            baton.display()
        ));
    }
    let baton = baton.canonicalize().map_err(|e| format!("resolving {}: {e}", baton.display()))?;
    let opts = Options { quick, jobs, keep, baton, bench };

    let started = Instant::now();
    println!("# baton-bench{}\n", if quick { " --quick" } else { "" });
    println!("- date: {}", baton_core::time::rfc3339(baton_core::time::now_ms()));
    println!("- machine: {}", machine());
    println!("- baton: {}\n", opts.baton.display());
    let mut missed = 0;
    for name in SECTIONS.iter().filter(|s| only.iter().any(|o| o == *s)) {
        eprintln!("baton-bench: {name}…");
        let section_started = Instant::now();
        let load_before = load_average();
        let mut section: Section = match *name {
            "cli" => cli_latency::run(&opts)?,
            "pickup" => pickup::run(&opts)?,
            "throughput" => throughput::run(&opts)?,
            "idle" => idle::run(&opts)?,
            "backends" => backends::run(&opts)?,
            _ => memory::run(&opts)?,
        };
        section.note(format!("load average (1 min) {load_before} before, {} after", load_average()));
        missed += section.missed();
        println!("{}", section.render());
        println!("_section took {:.1} s_\n", section_started.elapsed().as_secs_f64());
    }
    println!("{} figure(s) missed their target; the run took {:.1} s.", missed, started.elapsed().as_secs_f64());
    Ok(if strict && missed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The 1-minute load average: other work on the machine skews wall times (not CPU times).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Cores, kernel and CPU model, for the header.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find(|l| l.starts_with("model name"))?.split_once(':').map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores, {cpu}, Linux {}", kernel.trim())
}
