//! The per-attempt supervisor process that ties an agent's life — and the life of everything
//! the agent starts — to its attempt and its runner.
//!
//! A runner killed with SIGKILL cannot stop anything, and a parent-death signal reaches only the
//! direct child. So the runner does not spawn the agent itself: it spawns
//! `baton __supervise [--cgroup DIR] --grace-ms N -- AGENT ARGS…` as the leader of a new
//! process group, and this supervisor spawns the agent. The runner writes the prompt to the
//! supervisor's stdin as `<length>\n<bytes>` and then keeps the pipe open — the lifeline.
//!
//! The supervisor is a child subreaper (see [`crate::containment`]): whatever the agent starts,
//! even a daemon that left its session, stays its descendant. With `--cgroup`, the agent also
//! joins that cgroup before its first instruction. The tree is stopped — SIGTERM to every
//! process, SIGKILL to whatever is left after the grace — when:
//! - the lifeline reaches end-of-file: the runner is gone, however it died;
//! - the supervisor receives SIGTERM or SIGHUP: the runner stops the attempt (SIGINT: the
//!   runner stops it *now*, without the grace — a second Ctrl-C);
//! - the agent exits: what it left behind is killed at once (no grace: the agent is done).
//!
//! The supervisor exits only once the tree is gone, as the agent did (its code, or its signal
//! re-raised), so the runner's wait ends when the whole attempt has.
//!
//! Across hosts nothing is shared but the database: a runner on another machine never sees this
//! process. The lease records host, process group, start time and cgroup, so a runner taking a
//! job over on the *same* host also kills what survives; on another host the old tree is
//! stopped by this lifeline when its runner died, and fencing refuses any write it still makes.

use crate::containment::{cgroup, clone_into, sweep};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// The hidden subcommand the runner invokes.
pub const SUBCOMMAND: &str = "__supervise";
/// Exit code and stderr marker when the agent program does not exist.
pub const NOT_FOUND_EXIT: i32 = 127;
pub const NOT_FOUND_MARKER: &str = "baton-supervise: not found: ";
/// Between SIGTERM and SIGKILL unless the runner says otherwise.
const DEFAULT_GRACE: Duration = Duration::from_secs(3);
/// How long the final SIGKILL sweep keeps looking for processes forked meanwhile.
const KILL_PATIENCE: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(10);

/// What the runner tells its supervisor, before `--`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Options {
    /// The attempt's cgroup, created by the runner; the agent joins it.
    pub cgroup: Option<PathBuf>,
    /// Between SIGTERM and SIGKILL when the attempt is stopped.
    pub grace: Option<Duration>,
}

impl Options {
    /// The supervisor's arguments for these options, ending with `--`.
    pub fn to_args(&self) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = vec![SUBCOMMAND.into()];
        if let Some(cgroup) = &self.cgroup {
            args.push("--cgroup".into());
            args.push(cgroup.into());
        }
        if let Some(grace) = self.grace {
            args.push("--grace-ms".into());
            args.push(grace.as_millis().to_string().into());
        }
        args.push("--".into());
        args
    }

    /// Splits the supervisor's arguments into options and the agent's command line.
    pub fn parse(args: &[String]) -> Result<(Options, &[String]), String> {
        let mut options = Options::default();
        let mut rest = args;
        loop {
            match rest {
                [flag, dir, tail @ ..] if flag == "--cgroup" => {
                    options.cgroup = Some(PathBuf::from(dir));
                    rest = tail;
                }
                [flag, ms, tail @ ..] if flag == "--grace-ms" => {
                    let ms: u64 = ms.parse().map_err(|_| format!("--grace-ms takes milliseconds, not {ms:?}"))?;
                    options.grace = Some(Duration::from_millis(ms));
                    rest = tail;
                }
                [dashes, tail @ ..] if dashes == "--" => return Ok((options, tail)),
                _ => return Ok((options, rest)),
            }
        }
    }
}

/// Frames the prompt for the supervisor's stdin.
pub fn frame_prompt(prompt: &[u8]) -> Vec<u8> {
    let mut framed = format!("{}\n", prompt.len()).into_bytes();
    framed.extend_from_slice(prompt);
    framed
}

/// Runs the supervisor on its arguments (options, `--`, the agent's command line). Returns the
/// exit code to use when the agent was not killed by a signal (a signal is re-raised instead).
pub fn main(args: &[String]) -> i32 {
    let (options, argv) = match Options::parse(args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("baton-supervise: {e}");
            return 2;
        }
    };
    let Some((program, agent_args)) = argv.split_first() else {
        eprintln!("baton-supervise: no command given");
        return 2;
    };
    // Before any thread exists, so that every thread inherits the mask and only the signal
    // thread receives these.
    let stop_signals = block_stop_signals();
    if let Err(e) = sweep::become_subreaper() {
        eprintln!("baton-supervise: cannot become a subreaper ({e}); processes that detach may survive");
    }
    let mut lifeline = BufReader::new(io::stdin());
    let prompt = match read_prompt(&mut lifeline) {
        Ok(prompt) => prompt,
        Err(e) => {
            eprintln!("baton-supervise: cannot read the prompt from the runner: {e}");
            return 2;
        }
    };
    let (agent, stdin) = match spawn_agent(program, agent_args, options.cgroup.as_deref()) {
        Ok(started) => started,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            eprintln!("{NOT_FOUND_MARKER}{program}");
            return NOT_FOUND_EXIT;
        }
        Err(e) => {
            eprintln!("baton-supervise: cannot start {program}: {e}");
            if let Some(group) = &options.cgroup {
                let _ = cgroup::end(group);
            }
            return 126;
        }
    };
    if let Some(mut stdin) = stdin {
        // A thread: an agent that never reads its stdin must not block the lifeline.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&prompt);
        });
    }
    let tree = Arc::new(Tree { root: std::process::id() as i32, cgroup: options.cgroup.clone() });
    let grace = options.grace.unwrap_or(DEFAULT_GRACE);
    let (stop_tx, stop_rx) = mpsc::channel::<Request>();
    let (stopped_tx, stopped) = mpsc::channel::<()>();
    spawn_stopper(tree, stop_rx, stopped_tx);
    let on_eof = stop_tx.clone();
    std::thread::spawn(move || {
        let mut sink = [0u8; 64];
        // Blocks until the runner closes the pipe — by exiting, however it exits.
        while matches!(lifeline.read(&mut sink), Ok(n) if n > 0) {}
        let _ = on_eof.send(Request::Stop(grace));
    });
    if let Some(set) = stop_signals {
        let on_signal = stop_tx.clone();
        std::thread::spawn(move || loop {
            let mut signal = 0;
            // SAFETY: waiting for one of the signals blocked in `set`.
            if unsafe { libc::sigwait(&set, &mut signal) } == 0 {
                let _ = on_signal.send(if signal == libc::SIGINT { Request::Now } else { Request::Stop(grace) });
            }
        });
    }
    let status = wait_for(agent);
    // The agent is done: what it left behind goes now, and this process waits until it has.
    let _ = stop_tx.send(Request::AgentExited);
    // Orphans are reaped while the stop runs; the stop's end is waited for, not polled, so an
    // attempt whose agent left nothing behind ends at once.
    loop {
        reap_exited();
        match stopped.recv_timeout(POLL) {
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    reap_exited();
    match status {
        Ok(status) => exit_like(status),
        Err(e) => {
            eprintln!("baton-supervise: waiting for {program} failed: {e}");
            1
        }
    }
}

/// Starts the agent with stop signals unblocked again and, with a cgroup, inside it before the
/// agent's own code runs: born there through `clone3` (see [`clone_into`]), or — where the
/// kernel or a seccomp filter refuses that — joining it between fork and exec. Its process id
/// and the write end of its stdin.
fn spawn_agent(program: &str, args: &[String], group: Option<&Path>) -> io::Result<(i32, Option<std::fs::File>)> {
    if let Some(group) = group {
        match clone_into::spawn(&clone_into::open_group(group)?, program, args) {
            Ok(started) => return Ok((started.pid, Some(started.stdin))),
            Err(e) if clone_into::unsupported(&e) => {}
            Err(e) => return Err(e),
        }
    }
    let procs = group.map(cgroup::procs_file).transpose()?;
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::piped());
    // SAFETY: the closure makes only async-signal-safe calls (sigprocmask, open, write, close).
    unsafe {
        command.pre_exec(move || {
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            match &procs {
                Some(procs) => cgroup::join_from_child(procs),
                None => Ok(()),
            }
        });
    }
    // The child is waited for by pid (this process reaps every child it adopts); dropping the
    // handle neither kills nor reaps it.
    let mut child = command.spawn()?;
    let stdin = child.stdin.take().map(|pipe| std::fs::File::from(std::os::fd::OwnedFd::from(pipe)));
    Ok((child.id() as i32, stdin))
}

/// Blocks SIGTERM, SIGINT and SIGHUP for this thread (and the threads it starts); the set, for
/// `sigwait`.
fn block_stop_signals() -> Option<libc::sigset_t> {
    // SAFETY: building a signal set and blocking it on the calling thread.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            libc::sigaddset(&mut set, signal);
        }
        (libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) == 0).then_some(set)
    }
}

/// Why the tree is to be stopped.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Request {
    /// The runner stops the attempt, or is gone: SIGTERM, then SIGKILL after the grace.
    Stop(Duration),
    /// At once (SIGINT: a second Ctrl-C, or a runner taking the job over).
    Now,
    /// The agent exited: what it left behind goes at once, unless a stop is under way.
    AgentExited,
}

/// Everything the agent started: the supervisor's descendants, and its cgroup if it has one.
struct Tree {
    root: i32,
    cgroup: Option<PathBuf>,
}

impl Tree {
    fn signal(&self, signal: i32) -> usize {
        if let Some(group) = &self.cgroup {
            if signal == libc::SIGTERM {
                cgroup::terminate(group);
            }
        }
        sweep::signal_all(self.root, signal)
    }

    fn is_empty(&self) -> bool {
        sweep::descendants(self.root).is_empty() && self.cgroup.as_deref().is_none_or(cgroup::is_empty)
    }

    /// SIGTERM to all, then SIGKILL to whatever is left after `grace` (at once when zero); the
    /// cgroup, if any, is ended with `cgroup.kill` and removed. [`Request::Now`] arriving
    /// meanwhile (a second Ctrl-C, a runner taking the job over) cuts the grace short; the agent
    /// exiting does not: its children still get their grace.
    fn stop(&self, grace: Duration, requests: &mpsc::Receiver<Request>) {
        if !grace.is_zero() {
            self.signal(libc::SIGTERM);
            let mut deadline = Instant::now() + grace;
            while !self.is_empty() && Instant::now() < deadline {
                if requests.try_recv().is_ok_and(|later| later == Request::Now) {
                    deadline = Instant::now();
                }
                std::thread::sleep(POLL);
            }
        }
        if let Some(group) = &self.cgroup {
            if let Err(e) = cgroup::end(group) {
                eprintln!("baton-supervise: cannot end the cgroup {}: {e}", group.display());
            }
        }
        // A process may fork while it is being killed: sweep until nothing is left.
        let deadline = Instant::now() + KILL_PATIENCE;
        while self.signal(libc::SIGKILL) > 0 && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
    }
}

/// One thread performs the stop, on the first request (later ones find it done or under way).
fn spawn_stopper(tree: Arc<Tree>, requests: mpsc::Receiver<Request>, stopped: mpsc::Sender<()>) {
    std::thread::spawn(move || {
        let grace = match requests.recv() {
            Ok(Request::Stop(grace)) => grace,
            Ok(Request::Now | Request::AgentExited) | Err(_) => Duration::ZERO,
        };
        tree.stop(grace, &requests);
        let _ = stopped.send(());
    });
}

/// Reaps children until the agent (`agent`) exited; its raw wait status. Orphans re-parented
/// to this subreaper are reaped on the way.
fn wait_for(agent: i32) -> io::Result<i32> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes the status of one of our children.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid == agent {
            return Ok(status);
        }
        if pid < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

/// Reaps every child that has exited, without waiting.
fn reap_exited() {
    let mut status = 0;
    // SAFETY: non-blocking waitpid on our own children.
    while unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) } > 0 {}
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

/// Exits as the agent did: its code, or its signal re-raised.
fn exit_like(status: i32) -> i32 {
    if libc::WIFSIGNALED(status) {
        let signal = libc::WTERMSIG(status);
        // SAFETY: restoring the default action, unblocking and raising the agent's signal.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, signal);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(signal);
        }
        return 128 + signal;
    }
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        1
    }
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

    #[test]
    fn options_round_trip_and_the_agent_keeps_its_dashes() {
        let options = Options {
            cgroup: Some(PathBuf::from("/sys/fs/cgroup/baton-j-1")),
            grace: Some(Duration::from_millis(1500)),
        };
        let mut args: Vec<String> = options.to_args().into_iter().skip(1).map(|a| a.into_string().unwrap()).collect();
        args.extend(["agent".to_string(), "--".to_string(), "-x".to_string()]);
        let (parsed, argv) = Options::parse(&args).unwrap();
        assert_eq!(parsed, options);
        assert_eq!(argv, ["agent", "--", "-x"]);
        let bare = vec!["agent".to_string()];
        assert_eq!(Options::parse(&bare).unwrap(), (Options::default(), &bare[..]));
        assert!(Options::parse(&["--grace-ms".into(), "soon".into()]).is_err());
    }
}
