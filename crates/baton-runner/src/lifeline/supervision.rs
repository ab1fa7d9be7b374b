//! The supervisor's one loop: a single thread that waits in `poll` for whatever can happen to
//! an attempt — the lifeline closing, a stop signal, a child ending, the agent ready for more
//! of its prompt, a grace period running out — and stops the agent's tree when it must.
//!
//! One thread, not one per source: each thread a supervisor starts costs a stack mapping and
//! contends for the address space's lock with the others, which measured as a large part of
//! what a supervisor cost per attempt. Signals arrive through a `signalfd` (they are blocked
//! for the process), so there is no handler and nothing async-signal-unsafe to avoid.
//!
//! The rules are those of the [module](super): the lifeline's end of file and SIGTERM/SIGHUP
//! stop the tree with the grace (SIGTERM to all, SIGKILL to what is left after it); SIGINT
//! stops it at once, and cuts a grace under way short; the agent exiting makes what it left
//! behind go at once, unless a stop is under way (its children keep their grace). The loop
//! ends once the agent has been reaped and the stop is done.

use super::{Tree, KILL_PATIENCE, POLL};
use crate::containment::cgroup;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// The signals the loop handles, blocked for the process and read from the signalfd.
const HANDLED: [i32; 4] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGCHLD];

/// Blocks [`HANDLED`] and opens the signalfd that delivers them. Before the agent is spawned:
/// a SIGCHLD may not be lost, and the agent's spawn unblocks them for itself.
pub(super) fn block_signals() -> io::Result<OwnedFd> {
    // SAFETY: building a signal set, blocking it on this (the only) thread, and opening a
    // close-on-exec signalfd for it, owned below.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in HANDLED {
            libc::sigaddset(&mut set, signal);
        }
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// Why the tree is to be stopped.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Request {
    /// The runner stops the attempt, or is gone: SIGTERM, then SIGKILL after the grace.
    Stop,
    /// At once (SIGINT: a second Ctrl-C, or a runner taking the job over).
    Now,
    /// The agent exited: what it left behind goes at once, unless a stop is under way.
    AgentExited,
}

/// Where the stop is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Running,
    /// SIGTERM sent; SIGKILL for what is left at the deadline, or as soon as nothing is.
    Terminating {
        deadline: Instant,
    },
    /// Everything was killed (or had ended).
    Done,
}

/// One agent under supervision.
pub(super) struct Supervision {
    tree: Tree,
    grace: Duration,
    agent: i32,
    signals: OwnedFd,
    /// The agent's stdin while some of the prompt is left to write.
    prompt_pipe: Option<File>,
    prompt: Vec<u8>,
    written: usize,
    lifeline_open: bool,
    /// The agent's raw wait status, once it was reaped.
    agent_status: Option<i32>,
    phase: Phase,
}

impl Supervision {
    pub(super) fn new(
        tree: Tree,
        grace: Duration,
        agent: i32,
        signals: OwnedFd,
        prompt: Vec<u8>,
        pipe: Option<File>,
    ) -> Self {
        if let Some(pipe) = &pipe {
            set_nonblocking(pipe);
        }
        Supervision {
            tree,
            grace,
            agent,
            signals,
            prompt_pipe: pipe.filter(|_| !prompt.is_empty()),
            prompt,
            written: 0,
            lifeline_open: true,
            agent_status: None,
            phase: Phase::Running,
        }
    }

    /// Runs until the agent is reaped and its tree is gone; the agent's raw wait status.
    pub(super) fn run(mut self) -> i32 {
        loop {
            if let (Some(status), Phase::Done) = (self.agent_status, self.phase) {
                return status;
            }
            self.wait_and_handle();
            if self.agent_status.is_some() && self.phase == Phase::Running {
                self.request(Request::AgentExited);
            }
            if let Phase::Terminating { deadline } = self.phase {
                if Instant::now() >= deadline || self.tree.is_empty() {
                    self.kill_all();
                }
            }
        }
    }

    /// One `poll` and what it reported.
    fn wait_and_handle(&mut self) {
        let mut fds = vec![libc::pollfd { fd: self.signals.as_raw_fd(), events: libc::POLLIN, revents: 0 }];
        if self.lifeline_open {
            fds.push(libc::pollfd { fd: 0, events: libc::POLLIN, revents: 0 });
        }
        if let Some(pipe) = &self.prompt_pipe {
            fds.push(libc::pollfd { fd: pipe.as_raw_fd(), events: libc::POLLOUT, revents: 0 });
        }
        let timeout = match self.phase {
            Phase::Terminating { deadline } => {
                POLL.min(deadline.saturating_duration_since(Instant::now())).as_millis() as i32
            }
            // Done with the agent not yet reaped: its SIGCHLD ends the wait.
            Phase::Running | Phase::Done => -1,
        };
        // SAFETY: poll on descriptors we own, for the length of the vector.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if ready <= 0 {
            return;
        }
        for fd in fds.iter().filter(|fd| fd.revents != 0) {
            match fd.fd {
                0 => self.on_lifeline(),
                fd if fd == self.signals.as_raw_fd() => self.on_signals(),
                _ => self.on_prompt_writable(),
            }
        }
    }

    /// The runner wrote nothing more after the prompt; end of file is its going away.
    fn on_lifeline(&mut self) {
        let mut sink = [0u8; 64];
        // SAFETY: reading into our own buffer from stdin.
        let n = unsafe { libc::read(0, sink.as_mut_ptr().cast(), sink.len()) };
        if n == 0 || (n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted) {
            self.lifeline_open = false;
            self.request(Request::Stop);
        }
    }

    fn on_signals(&mut self) {
        loop {
            // SAFETY: a zeroed siginfo buffer of the size the signalfd writes.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: reading one record into `info`, which is `size` bytes.
            let n = unsafe {
                libc::read(self.signals.as_raw_fd(), (&mut info as *mut libc::signalfd_siginfo).cast(), size)
            };
            if n != size as isize {
                return;
            }
            match info.ssi_signo as i32 {
                libc::SIGCHLD => self.reap(),
                libc::SIGINT => self.request(Request::Now),
                _ => self.request(Request::Stop),
            }
        }
    }

    /// More of the prompt; an agent that closed its stdin gets no more.
    fn on_prompt_writable(&mut self) {
        let Some(pipe) = self.prompt_pipe.as_mut() else { return };
        match pipe.write(&self.prompt[self.written..]) {
            Ok(n) => self.written += n,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
            Err(_) => self.written = self.prompt.len(),
        }
        if self.written >= self.prompt.len() {
            // Closing it is the agent's end of file.
            self.prompt_pipe = None;
        }
    }

    /// Reaps every child that ended: the agent (its status kept) and orphans it left.
    fn reap(&mut self) {
        loop {
            let mut status = 0;
            // SAFETY: non-blocking waitpid on our own children.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                return;
            }
            if pid == self.agent {
                self.agent_status = Some(status);
                // An agent gone with part of its prompt unread: nobody will read it.
                self.prompt_pipe = None;
            }
        }
    }

    fn request(&mut self, request: Request) {
        match (self.phase, request) {
            (Phase::Running, Request::Stop) if !self.grace.is_zero() => {
                self.tree.signal(libc::SIGTERM);
                self.phase = Phase::Terminating { deadline: Instant::now() + self.grace };
            }
            (Phase::Running, _) => self.kill_all(),
            (Phase::Terminating { .. }, Request::Now) => self.phase = Phase::Terminating { deadline: Instant::now() },
            (Phase::Terminating { .. } | Phase::Done, _) => {}
        }
    }

    /// The cgroup, if any, ended with `cgroup.kill` and removed; SIGKILL to every descendant
    /// until none is left (a process may fork while it is being killed).
    fn kill_all(&mut self) {
        if let Some(group) = &self.tree.cgroup {
            if let Err(e) = cgroup::end(group) {
                eprintln!("baton-supervise: cannot end the cgroup {}: {e}", group.display());
            }
        }
        let deadline = Instant::now() + KILL_PATIENCE;
        loop {
            self.reap();
            if self.tree.signal(libc::SIGKILL) == 0 || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(POLL);
        }
        self.reap();
        self.phase = Phase::Done;
    }
}

fn set_nonblocking(file: &File) {
    // SAFETY: reading and setting the status flags of a descriptor we own.
    unsafe {
        let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
    }
}
