//! Section 5, runner peak memory: one job whose text harness (the `__flood` stand-in) prints
//! 1 GiB (quick: 100 MiB) of 200-byte lines. The runner (`baton run`) is measured by its VmHWM
//! after the job and its PM ended; the per-job supervisor (`baton __supervise`, a child of the
//! runner) by sampling its VmHWM while it lives. Also reported: how long the stream took against
//! the bench reading the same stand-in's output itself (the floor), and what the transcript stored
//! against its 16 MiB per-job cap.

use crate::agents;
use crate::error::{Ctx, Result};
use crate::harness::FLOOD;
use crate::procfs;
use crate::report::{Row, Section, Verdict};
use crate::sandbox::{open_jobs, Sandbox, POLL};
use crate::stats::mib;
use crate::Options;
use std::collections::HashMap;
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

const TARGET: u64 = 64 * 1024 * 1024;
/// The runner's per-job transcript cap (baton_runner::transcript::DEFAULT_CAP).
const TRANSCRIPT_CAP: u64 = 16 * 1024 * 1024;
/// Slack above the cap: the truncation marker and the final result are stored past it.
const CAP_SLACK: u64 = 64 * 1024;

pub fn run(opts: &Options) -> Result<Section> {
    let bytes: u64 = if opts.quick { 100 << 20 } else { 1 << 30 };
    let label = if opts.quick { "100 MiB" } else { "1 GiB" };
    let sb = Sandbox::new(opts, "memory")?;
    let flood = vec![agents::path_str(&opts.bench), FLOOD.to_string(), bytes.to_string()];
    agents::configure(&sb, &flood)?;
    sb.baton_json(&["queue"])?;
    let conn = sb.connect()?;
    let mut runner = sb.start_runner(&[])?;
    runner.wait_registered(&conn)?;
    let pid = runner.pid;
    let baseline = procfs::status_bytes(pid, "VmHWM").unwrap_or(0);

    eprintln!("  one job streaming {label}…");
    let started = Instant::now();
    let created = sb.baton_json(&["create", "stream a lot of output", "--first", "implement"])?;
    let job_id = created["jobs"][0]["id"].as_str().unwrap_or_default().to_string();
    let mut supervisors: HashMap<u32, u64> = HashMap::new();
    let deadline = started + Duration::from_secs(900);
    loop {
        runner.check_alive()?;
        for (child, comm) in procfs::children(pid) {
            if comm == "baton" {
                if let Some(hwm) = procfs::status_bytes(child, "VmHWM") {
                    supervisors.insert(child, hwm);
                }
            }
        }
        if open_jobs(&conn, &sb.namespace)? == (0, 0) {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("the {label} job did not finish in 15 minutes: {}", runner.log_tail()));
        }
        std::thread::sleep(POLL.max(Duration::from_millis(20)));
    }
    let peak = procfs::status_bytes(pid, "VmHWM").ok_or("could not read the runner's VmHWM")?;
    runner.stop()?;

    let (status, duration_ms, stored, events, truncated): (String, i64, i64, i64, bool) = conn
        .query_row(
            "SELECT status, COALESCE(duration_ms, 0), transcript_bytes, transcript_events, transcript_truncated \
             FROM jobs WHERE id = ?1",
            [&job_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .ctx("reading the flood job")?;
    let event_bytes: i64 = conn
        .query_row("SELECT COALESCE(SUM(length(event)), 0) FROM job_events WHERE job_id = ?1", [&job_id], |r| r.get(0))
        .ctx("measuring the transcript")?;
    if status != "complete" {
        return Err(format!("the {label} job ended {status}"));
    }
    let floor = read_flood(&sb, &opts.bench, bytes)?;
    let took = Duration::from_millis(duration_ms as u64);
    let supervisor = supervisors.values().copied().max();

    let mut section = Section::new(format!("5. Runner memory while one job streams {label}"), "value", "");
    section.row(
        Row::new("runner (baton run) peak RSS, VmHWM", mib(peak), "")
            .floor(format!("{} idle", mib(baseline)))
            .target("≤ 64 MiB", Verdict::of(peak <= TARGET)),
    );
    section.row(Row::new(
        "supervisor (baton __supervise) peak RSS, VmHWM",
        supervisor.map_or("not seen".to_string(), mib),
        "",
    ));
    let rate = |d: Duration| bytes as f64 / (1 << 20) as f64 / d.as_secs_f64().max(1e-9);
    section.row(
        Row::new(format!("time to stream {label} (job duration)"), format!("{:.2} s", took.as_secs_f64()), "")
            .floor(format!("{:.2} s", floor.as_secs_f64())),
    );
    section.row(
        Row::new("transcript stored (job_events)", mib(event_bytes as u64), format!("{events} events"))
            .target("≤ 16 MiB cap", Verdict::of((event_bytes as u64) <= TRANSCRIPT_CAP + CAP_SLACK)),
    );
    section.note(format!(
        "stream rate {:.0} MiB/s through the runner vs {:.0} MiB/s read by the bench itself (floor); \
         transcript_bytes column {}, truncated = {truncated}; {} supervisor process(es) sampled every 20 ms",
        rate(took),
        rate(floor),
        stored,
        supervisors.len()
    ));
    Ok(section)
}

/// How long the bench takes to read the stand-in's whole output through a pipe.
fn read_flood(sb: &Sandbox, bench: &std::path::Path, bytes: u64) -> Result<Duration> {
    let started = Instant::now();
    let mut child =
        sb.command(bench).arg(FLOOD).arg(bytes.to_string()).stdout(Stdio::piped()).spawn().ctx("spawning")?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = stdout.read(&mut buf).ctx("reading the stand-in")?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    child.wait().ctx("waiting for the stand-in")?;
    if total != bytes {
        return Err(format!("the stand-in printed {total} bytes, not {bytes}"));
    }
    Ok(started.elapsed())
}
