//! The stand-in agents the runner benches configure as text harnesses. They are this same binary
//! started with a hidden first argument, so they start in about a millisecond and measure nothing
//! of their own:
//!
//! - `__stamp LOG`: appends `JOB_ID NANOSECONDS` (CLOCK_REALTIME, read first thing) to `LOG`,
//!   prints one line and exits 0 — the moment the harness process started.
//! - `__flood BYTES`: prints `BYTES` bytes of 200-byte lines as fast as the pipe takes them.

use std::io::Write;

/// The hidden first arguments.
pub const STAMP: &str = "__stamp";
pub const FLOOD: &str = "__flood";
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
