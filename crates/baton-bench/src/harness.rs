//! The stand-in agents the runner benches configure as text harnesses. They are this same binary
//! started with a hidden first argument, so they start in about a millisecond and measure nothing
//! of their own:
//!
//! - `__stamp LOG`: appends `JOB_ID NANOSECONDS` (CLOCK_REALTIME, read first thing) to `LOG`,
//!   prints one line and exits 0 — the moment the harness process started.
//! - `__flood BYTES`: prints `BYTES` bytes of 200-byte lines as fast as the pipe takes them.
//! - `__measure LOG PROGRAM ARGS…`: runs the agent `PROGRAM`, then appends to `LOG` the CPU time
//!   (µs, user + system) of the agent with everything it waited for, and of this wrapper itself,
//!   and exits as the agent did — so the throughput section can subtract what agents really cost
//!   inside their jobs from the engine's share.

use std::io::Write;

/// The hidden first arguments.
pub const STAMP: &str = "__stamp";
pub const FLOOD: &str = "__flood";
pub const MEASURE: &str = "__measure";
/// Bytes per line of `__flood`, newline included.
pub const FLOOD_LINE: usize = 200;

/// CLOCK_REALTIME in nanoseconds.
pub fn realtime_ns() -> i128 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into the valid pointer.
    unsafe {
        libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts);
    }
    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
}

/// Runs a hidden mode if `args` names one; returns the exit code.
pub fn dispatch(args: &[String]) -> Option<i32> {
    match args.get(1).map(String::as_str) {
        Some(STAMP) => Some(stamp(args.get(2).map(String::as_str))),
        Some(FLOOD) => Some(flood(args.get(2).and_then(|n| n.parse().ok()).unwrap_or(0))),
        Some(MEASURE) => Some(measure(args.get(2).map(String::as_str), args.get(3..).unwrap_or_default())),
        _ => None,
    }
}

fn stamp(log: Option<&str>) -> i32 {
    let now = realtime_ns();
    let Some(log) = log else { return 2 };
    let job = std::env::var("BATON_JOB_ID").unwrap_or_else(|_| "direct".to_string());
    let line = format!("{job} {now}\n");
    let written =
        std::fs::OpenOptions::new().create(true).append(true).open(log).and_then(|mut f| f.write_all(line.as_bytes()));
    if written.is_err() {
        return 1;
    }
    println!("started {job}");
    0
}

fn measure(log: Option<&str>, argv: &[String]) -> i32 {
    let (Some(log), Some((program, args))) = (log, argv.split_first()) else { return 2 };
    let Ok(child) = std::process::Command::new(program).args(args).spawn() else { return 127 };
    let mut status = 0;
    // SAFETY: wait4 on our own child, writing its status and resource use into owned memory.
    let (waited, agent) = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let waited = libc::wait4(child.id() as i32, &mut status, 0, &mut usage);
        (waited, cpu_us(&usage))
    };
    if waited < 0 {
        return 1;
    }
    // SAFETY: getrusage fills the struct we own.
    let own = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        cpu_us(&usage)
    };
    let line = format!("{agent} {own}\n");
    let _ =
        std::fs::OpenOptions::new().create(true).append(true).open(log).and_then(|mut f| f.write_all(line.as_bytes()));
    if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        libc::WEXITSTATUS(status)
    }
}

fn cpu_us(usage: &libc::rusage) -> i64 {
    let us = |t: libc::timeval| t.tv_sec * 1_000_000 + t.tv_usec;
    us(usage.ru_utime) + us(usage.ru_stime)
}

/// The CPU the agents of a run recorded through `__measure` (each line: agent, wrapper), summed.
pub fn measured_cpu(log: &std::path::Path) -> std::time::Duration {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let us: i64 = text.lines().flat_map(|l| l.split_whitespace()).filter_map(|n| n.parse::<i64>().ok()).sum();
    std::time::Duration::from_micros(us.max(0) as u64)
}

fn flood(bytes: u64) -> i32 {
    let mut line = [b'x'; FLOOD_LINE];
    line[FLOOD_LINE - 1] = b'\n';
    let chunk: Vec<u8> = line.repeat(64 * 1024 / FLOOD_LINE);
    let mut out = std::io::stdout().lock();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        if out.write_all(&chunk[..n]).is_err() {
            return 1;
        }
        left -= n as u64;
    }
    let _ = out.flush();
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measure_exits_as_its_agent_did_and_records_two_figures() {
        let dir = std::env::temp_dir().join(format!("baton-bench-measure-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("cpu.log");
        let argv: Vec<String> = ["sh", "-c", "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; exit 3"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(measure(log.to_str(), &argv), 3);
        let line = std::fs::read_to_string(&log).unwrap();
        let figures: Vec<i64> = line.split_whitespace().map(|n| n.parse().unwrap()).collect();
        assert_eq!(figures.len(), 2, "{line}");
        assert!(figures[0] > 0, "the agent's loop took some CPU: {line}");
        assert_eq!(measured_cpu(&log).as_micros() as i64, figures[0] + figures[1]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
