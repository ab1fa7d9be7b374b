//! The per-job supervisor process that ties an agent's life to its runner's.
//!
//! A runner killed with SIGKILL cannot stop anything, and a parent-death signal reaches only the
//! direct child (and fires when the spawning *thread* exits). So the runner does not spawn the
//! agent itself: it spawns `baton __supervise -- AGENT ARGS…` as the leader of a new process
//! group, and this supervisor spawns the agent inside that group. The runner writes the prompt
//! to the supervisor's stdin as `<length>\n<bytes>` and then keeps the pipe open — the lifeline.
//! The supervisor hands the prompt to the agent's stdin (then closes it) and watches the
//! lifeline: end-of-file means the runner is gone, and the supervisor takes the whole group
//! down (SIGTERM, then SIGKILL). Otherwise it waits for the agent and exits as the agent did, so
//! the runner sees the agent's exit code or signal.
//!
//! Across hosts nothing is shared but the database: a runner on another machine never sees this
//! process. The lease records host, process group and start time, so a runner taking a job over
//! on the *same* host also kills a surviving group first; on another host the old group is
//! stopped by this lifeline when its runner died, and fencing refuses any write it still makes.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The hidden subcommand the runner invokes.
pub const SUBCOMMAND: &str = "__supervise";
/// Exit code and stderr marker when the agent program does not exist.
pub const NOT_FOUND_EXIT: i32 = 127;
pub const NOT_FOUND_MARKER: &str = "baton-supervise: not found: ";
/// Between SIGTERM and SIGKILL when the runner is gone.
const ORPHAN_GRACE: Duration = Duration::from_secs(3);

/// Frames the prompt for the supervisor's stdin.
pub fn frame_prompt(prompt: &[u8]) -> Vec<u8> {
    let mut framed = format!("{}\n", prompt.len()).into_bytes();
    framed.extend_from_slice(prompt);
    framed
}

/// Runs the supervisor; `argv` is the agent's command line. Returns the exit code to use when
/// the agent was not killed by a signal (a signal is re-raised instead).
pub fn main(argv: &[String]) -> i32 {
    let Some((program, args)) = argv.split_first() else {
        eprintln!("baton-supervise: no command given");
        return 2;
    };
    let mut lifeline = BufReader::new(io::stdin());
    let prompt = match read_prompt(&mut lifeline) {
        Ok(prompt) => prompt,
        Err(e) => {
            eprintln!("baton-supervise: cannot read the prompt from the runner: {e}");
            return 2;
        }
    };
    let mut child = match Command::new(program).args(args).stdin(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            eprintln!("{NOT_FOUND_MARKER}{program}");
            return NOT_FOUND_EXIT;
        }
        Err(e) => {
            eprintln!("baton-supervise: cannot start {program}: {e}");
            return 126;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A thread: an agent that never reads its stdin must not block the lifeline.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&prompt);
        });
    }
    let finished = Arc::new(AtomicBool::new(false));
    let watcher_finished = finished.clone();
    std::thread::spawn(move || {
        let mut sink = [0u8; 64];
        // Blocks until the runner closes the pipe — by exiting, however it exits.
        while matches!(lifeline.read(&mut sink), Ok(n) if n > 0) {}
        if !watcher_finished.load(Ordering::SeqCst) {
            stop_own_group();
        }
    });
    let status = child.wait();
    finished.store(true, Ordering::SeqCst);
    match status {
        Ok(status) => exit_like(status),
        Err(e) => {
            eprintln!("baton-supervise: waiting for {program} failed: {e}");
            1
        }
    }
}

fn read_prompt(input: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut header = String::new();
    input.read_line(&mut header)?;
    let len: usize = header
        .trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("bad prompt header {header:?}")))?;
    let mut prompt = vec![0u8; len];
    input.read_exact(&mut prompt)?;
    Ok(prompt)
}

/// The runner is gone: stop every process of this group, this supervisor last.
fn stop_own_group() {
    // SAFETY: signalling our own process group; errors (already gone) are irrelevant.
    unsafe {
        let group = libc::getpgrp();
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
        libc::killpg(group, libc::SIGTERM);
        std::thread::sleep(ORPHAN_GRACE);
        libc::killpg(group, libc::SIGKILL);
    }
}

/// Exits as the agent did: its code, or its signal re-raised.
fn exit_like(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    if let Some(signal) = status.signal() {
        // SAFETY: restoring the default action and raising the agent's signal on ourselves.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
        return 128 + signal;
    }
    status.code().unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let framed = frame_prompt("héllo\nworld".as_bytes());
        let mut reader = BufReader::new(&framed[..]);
        assert_eq!(read_prompt(&mut reader).unwrap(), "héllo\nworld".as_bytes());
        assert!(read_prompt(&mut BufReader::new(&b"x\n"[..])).is_err());
    }
}
