//! Agent processes: spawned in their own process group, stopped as a whole group.
//!
//! Agents start tools, shells and servers of their own; signalling only the direct child would
//! leave those running and editing the repository. Every agent therefore leads a new process
//! group, and stopping means SIGTERM to the group, then SIGKILL after a grace period.

use crate::lifeline::client::{Forked, Host, Request, Status};
use crate::lifeline::Options;
use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use tokio::net::unix::pipe;
use tokio::process::{Child, Command};

/// A started agent — or the lifeline supervisor that runs it: the runner's ends of its pipes and
/// a way to wait for its end.
pub struct AgentChild {
    pub stdin: Option<pipe::Sender>,
    pub stdout: Option<pipe::Receiver>,
    pub stderr: Option<pipe::Receiver>,
    pid: u32,
    end: End,
}

enum End {
    /// The runner's own child.
    Child(Child),
    /// Forked by the supervisor host: its end comes through its status pipe.
    Hosted(Status),
}

impl AgentChild {
    /// Its process id, which is also its process group's.
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// Waits for its end (with a lifeline: the end of the agent's whole tree). Cancel-safe.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        match &mut self.end {
            End::Child(child) => child.wait().await,
            End::Hosted(status) => status.wait().await,
        }
    }
}

/// The lifeline supervisor an agent runs under: the runner's supervisor host, the supervisor's
/// options, and the supervisor the host forked already when the caller asked for it early.
pub struct Supervisor<'a> {
    pub host: &'a Host,
    pub options: &'a Options,
    pub forked: Option<Forked>,
}

/// Spawns `argv` with piped stdin/stdout/stderr in a new process group — through the lifeline
/// supervisor when given, see [`crate::lifeline`]: forked by the runner's supervisor host, or,
/// should the host fail, the baton binary exec'd with the supervisor's options. The runner's
/// environment is inherited without `env_remove`, plus `env`.
pub fn spawn(
    argv: &[String],
    cwd: &Path,
    env: &[(String, String)],
    env_remove: &[String],
    supervisor: Option<Supervisor<'_>>,
) -> io::Result<AgentChild> {
    let (program, args) =
        argv.split_first().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    // The host, like `baton __supervise`, takes UTF-8 arguments: a cgroup path that is not goes
    // the exec'd way, whose supervisor refuses it with a message.
    let (supervisor, forked) = match supervisor {
        Some(Supervisor { host, options, forked }) => (Some((host, options)), forked),
        None => (None, None),
    };
    let hosted = supervisor.and_then(|(host, options)| {
        let mut supervise: Vec<String> =
            options.to_args().into_iter().skip(1).map(OsString::into_string).collect::<Result<_, _>>().ok()?;
        supervise.push(program.clone());
        supervise.extend(args.iter().cloned());
        Some((host, supervise))
    });
    if let Some((host, args)) = hosted {
        let request = Request { args, cwd: cwd.to_path_buf(), env: environment(env, env_remove) };
        let started = match forked {
            Some(forked) => forked.start(&request).or_else(|e| {
                tracing::warn!("the supervisor forked for this attempt is gone ({e}); forking another");
                host.spawn(&request)
            }),
            None => host.spawn(&request),
        };
        match started {
            Ok(forked) => {
                return Ok(AgentChild {
                    stdin: Some(forked.stdin),
                    stdout: Some(forked.stdout),
                    stderr: Some(forked.stderr),
                    pid: forked.pid,
                    end: End::Hosted(forked.status),
                })
            }
            Err(e) => tracing::warn!("{e}; starting the attempt's supervisor directly"),
        }
    }
    let mut command = match supervisor {
        Some((host, options)) => {
            let mut command = Command::new(host.baton());
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
    let mut child = command.spawn()?;
    let pid = child.id().ok_or_else(|| io::Error::other("the process was reaped before it was known"))?;
    let stdin = child.stdin.take().map(|p| p.into_owned_fd().and_then(pipe::Sender::from_owned_fd)).transpose()?;
    let stdout = child.stdout.take().map(|p| p.into_owned_fd().and_then(pipe::Receiver::from_owned_fd)).transpose()?;
    let stderr = child.stderr.take().map(|p| p.into_owned_fd().and_then(pipe::Receiver::from_owned_fd)).transpose()?;
    Ok(AgentChild { stdin, stdout, stderr, pid, end: End::Child(child) })
}

/// The runner's environment without `remove`, plus `set` (which wins), as a child would get it.
fn environment(set: &[(String, String)], remove: &[String]) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(name, _)| !remove.iter().any(|r| name == r.as_str()) && !set.iter().any(|(k, _)| name == k.as_str()))
        .collect();
    // Later entries of `set` win over earlier ones of the same name, as with `Command::envs`.
    for (i, (name, value)) in set.iter().enumerate() {
        if !set[i + 1..].iter().any(|(later, _)| later == name) {
            env.push((name.into(), value.into()));
        }
    }
    env
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

    /// A "host" that exits at once fails every request, twice (a fresh one too): the attempt's
    /// supervisor is then exec'd by the runner itself — here `/bin/false` standing for `baton`,
    /// which ignores the supervisor's arguments and exits 1.
    #[tokio::test]
    async fn a_host_that_keeps_failing_falls_back_to_the_execd_supervisor() {
        let host = Host::new("/bin/false".into());
        let options = Options { cgroup: None, grace: Some(std::time::Duration::from_millis(100)) };
        let argv = vec!["agent".to_string()];
        for _ in 0..2 {
            let supervisor = Supervisor { host: &host, options: &options, forked: None };
            let mut child = spawn(&argv, Path::new("/"), &[], &[], Some(supervisor)).expect("spawned");
            assert_eq!(child.wait().await.unwrap().code(), Some(1));
        }
    }

    #[test]
    fn the_environment_drops_what_is_removed_and_the_last_setting_wins() {
        let set = vec![("BATON_TEST_A".to_string(), "1".to_string()), ("BATON_TEST_A".to_string(), "2".to_string())];
        let env = environment(&set, &["PATH".to_string()]);
        assert!(!env.iter().any(|(k, _)| k == "PATH"));
        let a: Vec<_> = env.iter().filter(|(k, _)| k == "BATON_TEST_A").collect();
        assert_eq!(a, [&(OsString::from("BATON_TEST_A"), OsString::from("2"))]);
    }

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
