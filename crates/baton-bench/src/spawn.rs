//! Timing one child process: wall time from spawn to exit, and the CPU time (user + system) the
//! kernel charged it, read with `wait4`. CPU time barely moves when other work shares the machine,
//! so it tells a slow command from a busy machine.

use crate::error::{Ctx, Result};
use std::process::Command;
use std::time::{Duration, Instant};

/// One finished run.
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    pub wall: Duration,
    pub cpu: Duration,
}

/// Spawns `command`, waits for it with `wait4`, and fails unless it exited 0.
pub fn timed(command: &mut Command, what: &str) -> Result<Timed> {
    let started = Instant::now();
    let child = command.spawn().ctx(format!("starting {what}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it and `status` for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waiting for our own child by pid, with valid out-pointers.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("waiting for {what}: {err}"));
        }
    }
    let wall = started.elapsed();
    // The child is reaped; `Child` itself neither waits nor kills on drop.
    drop(child);
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(format!("{what} failed (wait status {status:#x})"));
    }
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    Ok(Timed { wall, cpu: tv(usage.ru_utime) + tv(usage.ru_stime) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_a_child_and_reports_failure() {
        let t = timed(&mut Command::new("/bin/true"), "true").unwrap();
        assert!(t.wall > Duration::ZERO && t.cpu <= t.wall + Duration::from_millis(50));
        assert!(timed(&mut Command::new("/bin/false"), "false").is_err());
    }
}
