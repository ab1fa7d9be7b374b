//! Agent processes: spawned in their own process group, stopped as a whole group.
//!
//! Agents start tools, shells and servers of their own; signalling only the direct child would
//! leave those running and editing the repository. Every agent therefore leads a new process
//! group, and stopping means SIGTERM to the group, then SIGKILL after a grace period.

use std::io;
use std::process::Stdio;
use tokio::process::{Child, Command};

/// Spawns `argv` with piped stdin/stdout/stderr in a new process group — through the lifeline
/// supervisor (`supervisor` = the baton binary) when given, see [`crate::lifeline`].
pub fn spawn(
    argv: &[String],
    cwd: &std::path::Path,
    env: &[(String, String)],
    supervisor: Option<&std::path::Path>,
) -> io::Result<Child> {
    let (program, args) =
        argv.split_first().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let mut command = match supervisor {
        Some(baton) => {
            let mut command = Command::new(baton);
            command.arg(crate::lifeline::SUBCOMMAND).arg("--").arg(program);
            command
        }
        None => Command::new(program),
    };
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
    fn tail_keeps_the_last_bytes() {
        let mut t = Tail::new(4);
        for chunk in [b"abc".as_slice(), b"defgh", b"ij"] {
            t.push(chunk);
        }
        assert_eq!(t.text(), "ghij");
    }
}
