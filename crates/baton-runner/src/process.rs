//! Agent processes: spawned in their own process group, stopped as a whole group.
//!
//! Agents start tools, shells and servers of their own; signalling only the direct child would
//! leave those running and editing the repository. Every agent therefore leads a new process
//! group, and stopping means SIGTERM to the group, then SIGKILL after a grace period.

use std::io;
use std::process::Stdio;
use tokio::process::{Child, Command};

/// Spawns `argv` with piped stdin/stdout/stderr in a new process group — through the lifeline
/// supervisor (the baton binary, with its options) when given, see [`crate::lifeline`]. The
/// runner's environment is inherited without `env_remove`, plus `env`.
pub fn spawn(
    argv: &[String],
    cwd: &std::path::Path,
    env: &[(String, String)],
    env_remove: &[String],
    supervisor: Option<(&std::path::Path, &crate::lifeline::Options)>,
) -> io::Result<Child> {
    let (program, args) =
        argv.split_first().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let mut command = match supervisor {
        Some((baton, options)) => {
            let mut command = Command::new(baton);
            command.args(options.to_args()).arg(program);
            command
        }
        None => Command::new(program),
    };
    for name in env_remove {
        command.env_remove(name);
    }
    command
        .args(args)
        .current_dir(cwd)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    command.spawn()
}

/// Sends `signal` to every process of the group `pgid`; a group already gone is fine.
pub fn signal_group(pgid: u32, signal: i32) {
    // SAFETY: killpg only sends a signal; a negative or stale pgid yields an error we ignore.
    unsafe {
        libc::killpg(pgid as libc::pid_t, signal);
    }
}

/// Kills a process group when dropped: an agent never outlives the attempt that started it.
pub struct GroupGuard(pub u32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        signal_group(self.0, libc::SIGKILL);
    }
}

/// A live process's start time in clock ticks since boot (`/proc/PID/stat`, field 22), which
/// tells a live process from a recycled process id; `None` once it exited (a zombie included).
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    let after_name = stat.rsplit_once(')')?.1;
    let mut fields = after_name.split_whitespace();
    if matches!(fields.next(), Some("Z" | "X")) {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// Stops an agent's process group left behind by a runner that died on this host, if that group
/// still lives (same leader start time: not a recycled id). The leader — a lifeline supervisor —
/// is first asked to sweep its whole tree at once (SIGINT: no grace), because a subreaper
/// killed outright would let the processes that left the group escape; then the group is
/// killed whatever remains. `patience` bounds the wait (the new claim's lease is running).
pub async fn stop_orphan(pgid: u32, recorded_start: u64, patience: std::time::Duration) -> bool {
    if start_time(pgid) != Some(recorded_start) {
        return false;
    }
    // SAFETY: signalling the recorded leader, checked above to be the same process.
    unsafe {
        libc::kill(pgid as libc::pid_t, libc::SIGINT);
    }
    let deadline = tokio::time::Instant::now() + patience;
    while start_time(pgid) == Some(recorded_start) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    signal_group(pgid, libc::SIGKILL);
    true
}

/// The tail of a stream, bounded: keeps the last `cap` bytes.
#[derive(Debug)]
pub struct Tail {
    cap: usize,
    bytes: Vec<u8>,
}

impl Tail {
    pub fn new(cap: usize) -> Tail {
        Tail { cap, bytes: Vec::new() }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
        if self.bytes.len() > self.cap * 2 {
            let cut = self.bytes.len() - self.cap;
            self.bytes.drain(..cut);
        }
    }

    /// The last `cap` bytes, decoded lossily and starting on a line if possible.
    pub fn text(&self) -> String {
        let start = self.bytes.len().saturating_sub(self.cap);
        String::from_utf8_lossy(&self.bytes[start..]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_reads_our_own_process() {
        let ours = start_time(std::process::id()).unwrap();
        assert!(ours > 0);
        assert_eq!(start_time(std::process::id()), Some(ours));
        assert_eq!(start_time(u32::MAX), None);
    }

    #[test]
    fn tail_keeps_the_last_bytes() {
        let mut t = Tail::new(4);
        for chunk in [b"abc".as_slice(), b"defgh", b"ij"] {
            t.push(chunk);
        }
        assert_eq!(t.text(), "ghij");
    }
}
