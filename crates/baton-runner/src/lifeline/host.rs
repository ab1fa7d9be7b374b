//! The supervisor host: one small process per runner that forks each attempt's supervisor.
//!
//! Exec'ing the `baton` binary for every attempt costs about 2 ms of CPU — loading and
//! relocating a large binary, hundreds of page faults — more than a no-op agent itself. A fork
//! of a process that paid that once costs a fraction. So the runner starts
//! `baton __supervise-host` once, with a Unix socket as its stdin; for each attempt it sends four
//! pipe ends, and the host forks. The child becomes the attempt's supervisor exactly as
//! `baton __supervise` would be: leader of a new process group, a child subreaper, the lifeline
//! on its stdin, the agent's stdout and stderr as its own. It reads what to run, a
//! [`wire::Request`], from the lifeline before the prompt, so the runner asks for the fork as
//! soon as it claims a job and sends the command line once it has prepared one: the fork is off
//! the pickup's critical path. A lifeline that ends before its request is an attempt called off
//! (its preparation failed): the child ends without a word. Since the runner is not its parent,
//! it reports its end through the status pipe instead of an exit status: the raw wait status,
//! four bytes, written once the whole tree is gone.
//!
//! The host never starts a thread, so a forked child may run ordinary Rust code: no other
//! thread can have held a lock at the fork. It reaps its children itself, before each request
//! and when it ends, rather than letting the kernel do it: only a reaped child's CPU time is
//! added to its parent's, and the runner's own accounting (and `wait4` on the runner) must see
//! what its supervisors cost. It ends when the runner's end of the socket closes, however the
//! runner died, once the supervisors it forked have ended (each on its own lifeline). A host
//! that dies takes nothing with it: every supervisor it forked is tied to the runner by its own
//! lifeline, as before.

use super::wire::{self, Pipes};
use super::Ended;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};

/// The hidden subcommand the runner starts the host with.
pub const SUBCOMMAND: &str = "__supervise-host";

/// Serves requests on stdin until the runner closes it; the exit code.
pub fn main() -> i32 {
    let stdin = io::stdin();
    let socket = stdin.as_fd();
    loop {
        reap(libc::WNOHANG);
        let pipes = match wire::receive(socket) {
            Ok(Some(pipes)) => pipes,
            Ok(None) => {
                reap(0);
                return 0;
            }
            Err(e) => {
                let _ = writeln!(io::stderr(), "baton-supervise-host: a bad request from the runner: {e}");
                return 1;
            }
        };
        let pid = fork_supervisor(pipes);
        if let Err(e) = wire::answer(socket, pid) {
            let _ = writeln!(io::stderr(), "baton-supervise-host: cannot answer the runner: {e}");
            return 1;
        }
    }
}

/// Forks the attempt's supervisor; its process id, or the negated errno of the fork. The
/// parent's copies of the pipes close when `pipes` drops here.
fn fork_supervisor(pipes: Pipes) -> i32 {
    // SAFETY: this process has one thread, so the child may go on running Rust code.
    match unsafe { libc::fork() } {
        0 => {
            run_child(pipes);
            // SAFETY: ending the forked child without the host's exit handlers: there is nothing
            // buffered to flush (the supervisor writes to stderr only), and the status is sent.
            unsafe { libc::_exit(0) }
        }
        -1 => -io::Error::last_os_error().raw_os_error().unwrap_or(libc::EAGAIN),
        pid => pid,
    }
}

/// The forked child: reads its request from the lifeline, becomes its supervisor and reports
/// its end through the status pipe (the runner reads that, not the child's exit code).
fn run_child(pipes: Pipes) {
    // SAFETY: in the single-threaded child: leading a new process group, and moving the pipes onto stdin (replacing the
    // host's socket), stdout and stderr (dup2 clears close-on-exec on the copies; the originals
    // close when they drop).
    let moved = unsafe {
        libc::setpgid(0, 0);
        libc::dup2(pipes.lifeline.as_raw_fd(), 0) >= 0
            && libc::dup2(pipes.stdout.as_raw_fd(), 1) >= 0
            && libc::dup2(pipes.stderr.as_raw_fd(), 2) >= 0
    };
    let Pipes { lifeline, stdout, stderr, status } = pipes;
    drop((lifeline, stdout, stderr));
    let ended = if moved { read_and_supervise() } else { Ended::Code(126) };
    let raw = ended.wait_status().to_le_bytes();
    // SAFETY: writing our own buffer to the status pipe we own; the runner reads four bytes.
    unsafe {
        libc::write(status.as_raw_fd(), raw.as_ptr().cast(), raw.len());
    }
}

/// Reads the request at the start of the lifeline (stdin now) and supervises it. The request is
/// read through the process's buffered stdin, which the supervisor goes on reading the prompt
/// from: nothing read ahead is lost.
fn read_and_supervise() -> Ended {
    let request = match wire::read_request(&mut io::stdin().lock()) {
        Ok(Some(request)) => request,
        // Called off before it had a command line: nothing ran, and nobody is listening.
        Ok(None) => return Ended::Code(super::NOT_STARTED_EXIT),
        Err(e) => {
            let _ = writeln!(io::stderr(), "baton-supervise: cannot read the request from the runner: {e}");
            return Ended::Code(2);
        }
    };
    if let Err(e) = std::env::set_current_dir(&request.cwd) {
        let _ = writeln!(io::stderr(), "baton-supervise: cannot enter {}: {e}", request.cwd.display());
        return Ended::Code(126);
    }
    super::supervise(&request.args, Some(&request.env))
}

/// Reaps the supervisors that ended (`WNOHANG`), or all of them, waiting (`0`).
fn reap(flags: i32) {
    let mut status = 0;
    // SAFETY: waitpid on this process's own children.
    while unsafe { libc::waitpid(-1, &mut status, flags) } > 0 {}
}
