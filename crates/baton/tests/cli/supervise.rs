//! `baton __supervise`, the lifeline supervisor exec'd as its own process: what a runner starts
//! when its supervisor host cannot fork one. The runner's tests go through the host; these keep
//! the exec'd path honest: the prompt reaches the agent, and the supervisor ends as the agent
//! did — its exit code, or its signal re-raised. And the host's own two-step start, a fork
//! ahead of the command line, driven here through the runner's client.

use baton_runner::lifeline::client::{Host, Request};
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

/// Runs the supervisor on `script`, writes the framed `prompt` and the go, and holds the lifeline
/// open until the supervisor ends; its status and stdout.
fn supervise(script: &str, prompt: &str) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["__supervise", "--grace-ms", "2000", "--", "sh", "-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lifeline = child.stdin.take().unwrap();
    lifeline.write_all(format!("{}\n{prompt}g", prompt.len()).as_bytes()).unwrap();
    lifeline.flush().unwrap();
    // The lifeline stays open until the supervisor ended: closing it would stop the agent.
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    let status = child.wait().unwrap();
    drop(lifeline);
    (status, out)
}

#[test]
fn the_agent_reads_its_prompt_and_the_supervisor_exits_with_its_code() {
    let (status, out) = supervise("read line; echo \"got $line\"; exit 3", "hello agent\n");
    assert_eq!(out, "got hello agent\n");
    assert_eq!(status.code(), Some(3));
}

#[test]
fn an_agent_killed_by_a_signal_is_reported_by_that_signal() {
    let (status, _) = supervise("kill -USR1 $$", "");
    assert_eq!(status.signal(), Some(libc::SIGUSR1), "{status:?}");
}

/// Runs `baton __supervise ARGS…`, writes `lifeline` to its stdin and closes it; its output.
fn supervise_with(args: &[&str], lifeline: &[u8]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .arg("__supervise")
        .args(args)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(lifeline)?;
            child.wait_with_output()
        })
        .unwrap()
}

#[test]
fn a_missing_agent_program_exits_127() {
    let out = supervise_with(&["--", "baton-no-such-agent-program"], b"0\ng");
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found: baton-no-such-agent-program"));
}

#[test]
fn without_the_go_the_agent_never_starts() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    // The prompt, then the runner gone (or its start not recorded): no go.
    let out = supervise_with(&["--", "sh", "-c", &format!("touch {}", marker.display())], b"5\nhello");
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the runner called the start off"));
    assert!(!marker.exists(), "the agent never ran");
}

/// A supervisor the host forks before the runner knows the agent's command line (it asks for
/// the fork as it claims a job, and prepares the attempt meanwhile) waits for that command line
/// on its lifeline, then runs it as any other: the prompt reaches the agent after the go, and
/// the agent's exit code is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_supervisor_forked_ahead_runs_the_agent_it_is_told_about_later() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = Host::new(env!("CARGO_BIN_EXE_baton").into());
    let forked = host.fork().unwrap();
    let pid = forked.pid() as i32;
    assert!(running(pid), "the forked supervisor waits for its request");
    let script = "read line; echo \"got $line\"; exit 3";
    let request = Request {
        args: ["--grace-ms", "2000", "--", "sh", "-c", script].map(String::from).to_vec(),
        cwd: "/".into(),
        env: vec![("PATH".into(), std::env::var_os("PATH").unwrap_or_default())],
    };
    let mut supervised = forked.start(&request).unwrap();
    supervised.stdin.write_all(b"12\nhello agent\ng").await.unwrap();
    let mut out = String::new();
    supervised.stdout.read_to_string(&mut out).await.unwrap();
    let status = supervised.status.wait().await.unwrap();
    assert_eq!((out.as_str(), status.code()), ("got hello agent\n", Some(3)));
}

/// An attempt called off before its agent had a command line (its preparation failed) drops
/// the supervisor forked for it: that supervisor ends at once, having started nothing.
#[test]
fn a_supervisor_forked_ahead_and_dropped_ends_having_started_nothing() {
    let host = Host::new(env!("CARGO_BIN_EXE_baton").into());
    let forked = host.fork().unwrap();
    let pid = forked.pid() as i32;
    // SAFETY: pidfd_open on a child of the host we started; the descriptor is owned below.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
    assert!(pidfd >= 0, "pidfd_open: {}", std::io::Error::last_os_error());
    // SAFETY: the descriptor was just opened and is owned by nobody else.
    let pidfd = unsafe { std::os::fd::OwnedFd::from_raw_fd(pidfd) };
    drop(forked);
    // A pidfd turns readable when its process ends (before it is reaped).
    let mut poll = libc::pollfd { fd: pidfd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: polling one descriptor we own.
    let ready = unsafe { libc::poll(&mut poll, 1, 10_000) };
    assert_eq!(ready, 1, "the dropped supervisor {pid} is still running");
    assert!(!running(pid));
    // The host reaps its children before each fork: the next one leaves no zombie behind.
    let next = host.fork().unwrap();
    assert_ne!(next.pid() as i32, pid);
    assert!(std::fs::metadata(format!("/proc/{pid}")).is_err(), "the dropped supervisor was reaped");
}

/// Whether `pid` runs (a zombie has ended).
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
}
