//! The per-attempt supervisor process that ties an agent's life — and the life of everything
//! the agent starts — to its attempt and its runner.
//!
//! A runner killed with SIGKILL cannot stop anything, and a parent-death signal reaches only the
//! direct child. So the runner does not spawn the agent itself: a supervisor, the leader of a
//! new process group, spawns it. The supervisor is forked by the runner's supervisor
//! [`host`] (cheap), or — should the host fail — exec'd by the runner as
//! `baton __supervise [--cgroup DIR] --grace-ms N -- AGENT ARGS…`; either way it runs
//! [`supervise`] (a forked one first reads its arguments and environment from its stdin, see
//! `wire.rs`). The runner writes the prompt to the supervisor's stdin as `<length>\n<bytes>`,
//! then one [`GO`] byte once the attempt's start is recorded, and then keeps the pipe open —
//! the lifeline. No agent starts before its go: the supervisor may clone it into its cgroup
//! meanwhile (the fork overlaps the runner's write), but holds it before its `execve`, and an
//! end of file instead of the go calls the start off.
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
//! The supervisor ends only once the tree is gone, as the agent did (exec'd: its code, or its
//! signal re-raised; forked: that status written to the runner), so the runner's wait ends when
//! the whole attempt has. It is one thread waiting in `poll` ([`supervision`]).
//!
//! Across hosts nothing is shared but the database: a runner on another machine never sees this
//! process. The lease records host, process group, start time and cgroup, so a runner taking a
//! job over on the *same* host also kills what survives; on another host the old tree is
//! stopped by this lifeline when its runner died, and fencing refuses any write it still makes.

pub mod client;
pub mod host;
mod supervision;
mod wire;

use crate::containment::{cgroup, clone_into, sweep};
use std::ffi::OsString;
use std::io::{self, BufRead};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use supervision::Supervision;

/// The hidden subcommand the runner invokes.
pub const SUBCOMMAND: &str = "__supervise";
/// Exit code and stderr marker when the agent program does not exist.
pub const NOT_FOUND_EXIT: i32 = 127;
pub const NOT_FOUND_MARKER: &str = "baton-supervise: not found: ";
/// What the runner writes after the prompt once the attempt's start is recorded: the agent may
/// start.
pub const GO: u8 = b'g';
/// Exit code when the runner called the start off (or went away) before its go.
const NOT_STARTED_EXIT: i32 = 125;
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

/// Frames the prompt for the supervisor's stdin (the [`GO`] follows once the start is recorded).
pub fn frame_prompt(prompt: &[u8]) -> Vec<u8> {
    let mut framed = format!("{}\n", prompt.len()).into_bytes();
    framed.extend_from_slice(prompt);
    framed
}

/// How a supervisor ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ended {
    /// The agent ran and its whole tree is gone: the agent's raw wait status.
    Agent(i32),
    /// The supervisor gave up before or while running the agent: its own exit code.
    Code(i32),
}

impl Ended {
    /// The raw wait status a parent would see: the agent's, or an exit with the code.
    pub fn wait_status(self) -> i32 {
        match self {
            Ended::Agent(status) => status,
            Ended::Code(code) => (code & 0xff) << 8,
        }
    }
}

/// Runs the supervisor on its arguments (options, `--`, the agent's command line) as its own
/// process, `baton __supervise`. Returns the exit code to use when the agent was not killed by
/// a signal (a signal is re-raised instead).
pub fn main(args: &[String]) -> i32 {
    match supervise(args, None) {
        Ended::Agent(status) => exit_like(status),
        Ended::Code(code) => code,
    }
}

/// Supervises one agent to the end of its tree: what [`main`] runs (the agent inherits this
/// process's environment), and what a supervisor forked by the [`host`] runs (`env`: the
/// agent's whole environment, as the runner computed it).
pub fn supervise(args: &[String], env: Option<&[(OsString, OsString)]>) -> Ended {
    let (options, argv) = match Options::parse(args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("baton-supervise: {e}");
            return Ended::Code(2);
        }
    };
    let Some((program, agent_args)) = argv.split_first() else {
        eprintln!("baton-supervise: no command given");
        return Ended::Code(2);
    };
    // Before the agent exists: none of its SIGCHLDs may be missed.
    let signals = match supervision::block_signals() {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("baton-supervise: cannot receive signals: {e}");
            return Ended::Code(126);
        }
    };
    if let Err(e) = sweep::become_subreaper() {
        eprintln!("baton-supervise: cannot become a subreaper ({e}); processes that detach may survive");
    }
    // After the go the lifeline carries nothing but its end of file, which the loop polls the
    // same fd for: nothing it needs can be left behind in this reader's buffer.
    let mut lifeline = io::stdin().lock();
    let prompt = match read_prompt(&mut lifeline) {
        Ok(prompt) => prompt,
        Err(e) => {
            eprintln!("baton-supervise: cannot read the prompt from the runner: {e}");
            return Ended::Code(2);
        }
    };
    let group = options.cgroup.as_deref();
    // Cloned now, while the runner records the start; exec'd only after the go.
    let held = hold_agent(program, agent_args, group, env);
    if !read_go(&mut lifeline) {
        if let Ok(Some(held)) = held {
            held.abandon();
        }
        if let Some(group) = group {
            let _ = cgroup::end(group);
        }
        eprintln!("baton-supervise: the runner called the start off; {program} was not started");
        return Ended::Code(NOT_STARTED_EXIT);
    }
    let started = match held {
        Ok(Some(held)) => held.release().map(|started| (started.pid, Some(started.stdin))),
        Ok(None) => spawn_forked(program, agent_args, group, env),
        Err(e) => Err(e),
    };
    let (agent, stdin) = match started {
        Ok(started) => started,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            eprintln!("{NOT_FOUND_MARKER}{program}");
            return Ended::Code(NOT_FOUND_EXIT);
        }
        Err(e) => {
            eprintln!("baton-supervise: cannot start {program}: {e}");
            if let Some(group) = &options.cgroup {
                let _ = cgroup::end(group);
            }
            return Ended::Code(126);
        }
    };
    let tree = Tree { root: std::process::id() as i32, cgroup: options.cgroup.clone() };
    let grace = options.grace.unwrap_or(DEFAULT_GRACE);
    Ended::Agent(Supervision::new(tree, grace, agent, signals, prompt, stdin).run())
}

/// [`hold_agent`] and its release at once, or [`spawn_forked`]: what [`supervise`] does around
/// the go, for the tests.
#[cfg(test)]
fn spawn_agent(
    program: &str,
    args: &[String],
    group: Option<&Path>,
    env: Option<&[(OsString, OsString)]>,
) -> io::Result<(i32, Option<std::fs::File>)> {
    match hold_agent(program, args, group, env)? {
        Some(held) => held.release().map(|started| (started.pid, Some(started.stdin))),
        None => spawn_forked(program, args, group, env),
    }
}

/// The agent starts with stop signals unblocked again and, with a cgroup, inside it before its
/// own code runs: born there through `clone3` (see [`clone_into`]), or — where the kernel or a
/// seccomp filter refuses that — joining it between fork and exec ([`spawn_forked`]). `env`,
/// when given, is the agent's whole environment (else it inherits this process's).
///
/// This is the first way: the agent cloned into its cgroup and held before its exec, when it
/// has a cgroup and the kernel offers `clone3` into it; `None` when it is to be forked at its
/// start instead.
fn hold_agent(
    program: &str,
    args: &[String],
    group: Option<&Path>,
    env: Option<&[(OsString, OsString)]>,
) -> io::Result<Option<clone_into::Held>> {
    let Some(group) = group else { return Ok(None) };
    match clone_into::hold(&clone_into::open_group(group)?, program, args, env) {
        Ok(held) => Ok(Some(held)),
        Err(e) if clone_into::unsupported(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads the runner's go; `false` at end of file (the runner is gone, or called the start
/// off) or on anything else.
fn read_go(input: &mut impl BufRead) -> bool {
    let mut byte = [0u8; 1];
    matches!(input.read_exact(&mut byte), Ok(())) && byte[0] == GO
}

/// The agent started without `clone3` (see [`hold_agent`]): a fork, joining the cgroup (if any)
/// before the exec. Its process id and the write end of its stdin.
fn spawn_forked(
    program: &str,
    args: &[String],
    group: Option<&Path>,
    env: Option<&[(OsString, OsString)]>,
) -> io::Result<(i32, Option<std::fs::File>)> {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::piped());
    if let Some(env) = env {
        command.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    }
    // The standard library empties the signal mask and restores SIGPIPE in the child itself;
    // without a closure it can spawn with `posix_spawn` (no copy of this process's page
    // tables), so there is one only when the agent must join its cgroup.
    if let Some(procs) = group.map(cgroup::procs_file).transpose()? {
        // SAFETY: the closure makes only async-signal-safe calls (open, write, close).
        unsafe {
            command.pre_exec(move || cgroup::join_from_child(&procs));
        }
    }
    // The child is waited for by pid (this process reaps every child it adopts); dropping the
    // handle neither kills nor reaps it.
    let mut child = command.spawn()?;
    let stdin = child.stdin.take().map(|pipe| std::fs::File::from(std::os::fd::OwnedFd::from(pipe)));
    Ok((child.id() as i32, stdin))
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
    use std::io::BufReader;

    #[test]
    fn the_agent_starts_with_no_signal_blocked_and_the_environment_given() {
        let dir = std::env::temp_dir().join(format!("baton-lifeline-mask-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("status");
        // SAFETY: blocking two signals on this test's thread, as the supervisor blocks its own.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigaddset(&mut set, libc::SIGCHLD);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
        let script =
            format!("grep SigBlk /proc/self/status > {0}; echo \"$ONLY\" \"${{HOME:-none}}\" >> {0}", out.display());
        let env = [
            (OsString::from("ONLY"), OsString::from("given")),
            (OsString::from("PATH"), OsString::from("/usr/bin:/bin")),
        ];
        let (pid, stdin) = spawn_agent("sh", &["-c".to_string(), script], None, Some(&env)).unwrap();
        drop(stdin);
        let mut status = 0;
        // SAFETY: waiting for the child just spawned.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        let seen = std::fs::read_to_string(&out).unwrap();
        assert!(seen.contains("SigBlk:\t0000000000000000"), "{seen}");
        assert!(seen.contains("given none"), "only the given environment: {seen}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
