//! Section 4, idle runner CPU: `baton run` on an empty namespace, once it registered; user plus
//! system time from `/proc/PID/stat` before and after a window, as a share of one core. The
//! context switches of its threads over the window tell how often it woke.

use crate::agents;
use crate::error::{Ctx, Result};
use crate::procfs;
use crate::report::{Row, Section, Verdict};
use crate::sandbox::Sandbox;
use crate::stats::mib;
use crate::Options;
use std::time::{Duration, Instant};

/// Time after registration before the window opens (start-up work is not idling).
const SETTLE: Duration = Duration::from_millis(500);

pub fn run(opts: &Options) -> Result<Section> {
    let window = if opts.quick { Duration::from_secs(2) } else { Duration::from_secs(10) };
    let sb = Sandbox::new(opts, "idle")?;
    let noop = agents::write_noop(&sb)?;
    agents::configure(&sb, &[agents::path_str(&noop)])?;
    sb.baton_json(&["queue"])?;
    let conn = sb.connect()?;
    let mut runner = sb.start_runner(&[])?;
    runner.wait_registered(&conn)?;
    std::thread::sleep(SETTLE);
    eprintln!("  watching an idle runner for {} s…", window.as_secs());

    let pid = runner.pid;
    // The floor: a process that only sleeps, watched over the same window.
    let mut sleeper =
        sb.command("sleep").arg(format!("{}", window.as_secs() + 5)).spawn().ctx("starting sleep (the floor)")?;
    std::thread::sleep(Duration::from_millis(100));
    let floor_pid = sleeper.id();
    let (ticks_before, switches_before) = (procfs::cpu_ticks(pid), procfs::context_switches(pid));
    let floor_before = procfs::cpu_ticks(floor_pid).unwrap_or(0);
    let opened = Instant::now();
    std::thread::sleep(window);
    let (ticks_after, switches_after) = (procfs::cpu_ticks(pid), procfs::context_switches(pid));
    let floor_after = procfs::cpu_ticks(floor_pid).unwrap_or(0);
    let elapsed = opened.elapsed();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    runner.check_alive()?;
    let (threads, rss) = (procfs::threads(pid), procfs::status_bytes(pid, "VmRSS").unwrap_or(0));
    runner.stop()?;

    let (Some(before), Some(after)) = (ticks_before, ticks_after) else {
        return Err("could not read /proc/PID/stat of the runner".into());
    };
    let hz = procfs::ticks_per_second();
    let cpu = (after - before) as f64 / hz as f64;
    let share = cpu / elapsed.as_secs_f64() * 100.0;
    let mut section = Section::new("4. Idle runner CPU", "CPU", "wake-ups");
    section.row(
        Row::new(
            format!("baton run, empty namespace, {} s", window.as_secs()),
            format!("{share:.2} % of a core"),
            format!("{}", switches_after.saturating_sub(switches_before)),
        )
        .floor(format!(
            "{:.2} % (sleep)",
            (floor_after - floor_before) as f64 / hz as f64 / elapsed.as_secs_f64() * 100.0
        ))
        .target("< 1 % of a core", Verdict::of(share < 1.0)),
    );
    section.note(format!(
        "{} clock ticks ({} per second) of CPU over {:.1} s; wake-ups = context switches of its threads over the \
         window; {} threads, RSS {} while idle",
        after - before,
        hz,
        elapsed.as_secs_f64(),
        threads,
        mib(rss)
    ));
    Ok(section)
}
