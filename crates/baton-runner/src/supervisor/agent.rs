//! Starting an attempt's agent: its own process group (through the lifeline when there is one,
//! in a cgroup of its own when the runner contains attempts in cgroups), its start recorded
//! under the claim's token before it may run, the prompt fed to stdin and stderr drained into a
//! bounded tail — each pipe on its own task, so a slow agent never stalls the supervisor.

use super::{SetupError, Shared};
use crate::containment::{cgroup, Containment};
use crate::invocation::Invocation;
use crate::lifeline;
use crate::lifeline::client::Forked;
use crate::process::{self, AgentChild, Supervisor, Tail};
use baton_core::store::{AgentProcess, AttemptStart, Claim};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Bytes of stderr kept for the error message.
const STDERR_TAIL: usize = 64 * 1024;

/// A running agent.
pub(super) struct Agent {
    pub child: AgentChild,
    /// Its process group (the agent, or its lifeline supervisor, leads it).
    pub pgid: u32,
    /// The attempt's cgroup, ended once the attempt is over.
    pub cgroup: Option<PathBuf>,
    pub stdout: pipe::Receiver,
    stderr: Option<JoinHandle<String>>,
    /// Through the lifeline, stdin stays open while this is held: the lifeline reads a closed
    /// stdin as its runner's death.
    lifeline_hold: Option<oneshot::Sender<()>>,
}

/// The agent's lifeline supervisor, forked by the host while the attempt is being prepared:
/// asking for the fork as the job is claimed takes the fork, and the two wake-ups around it,
/// off the pickup's critical path. Dropped unused (the attempt ended before its agent), the
/// supervisor's lifeline closes and it ends without starting anything.
pub(super) struct EarlyFork(JoinHandle<std::io::Result<Option<Forked>>>);

impl EarlyFork {
    /// Asks the runner's host for a fork, on a blocking thread (the host's answer is waited
    /// for); `None` when agents run without a lifeline.
    pub(super) fn ask(shared: &Arc<Shared>) -> Option<EarlyFork> {
        shared.lifeline.as_ref()?;
        let shared = Arc::clone(shared);
        Some(EarlyFork(tokio::task::spawn_blocking(move || {
            shared.lifeline.as_ref().map(|host| host.fork()).transpose()
        })))
    }

    /// The forked supervisor; `None` when the fork failed (the agent's start forks again, or
    /// execs its supervisor, and says why if that fails too).
    async fn forked(self) -> Option<Forked> {
        match self.0.await {
            Ok(Ok(forked)) => forked,
            Ok(Err(e)) => {
                tracing::debug!("the supervisor forked ahead of the agent's start failed: {e}");
                None
            }
            Err(e) => {
                tracing::debug!("asking for the supervisor ahead of the agent's start failed: {e}");
                None
            }
        }
    }
}

/// How starting the agent went.
pub(super) enum Started {
    Running(Box<Agent>),
    /// It could not be started: a permanent failure of the job.
    Refused(SetupError),
    /// The store refused the start: the lease is gone, nothing more may be written.
    LeaseGone,
}

/// Starts `invocation` in `cwd` with `prompt` on stdin and records the start; under the
/// supervisor forked `early` when there is one.
pub(super) async fn start(
    shared: &Shared,
    claim: &Claim,
    invocation: &Invocation,
    cwd: &Path,
    prompt: &str,
    head_before: Option<String>,
    early: Option<EarlyFork>,
) -> baton_core::Result<Started> {
    let job = &claim.job;
    // A runner that died on this host may have left this job's previous agent running (if its
    // lifeline could not stop it): it must not keep editing while a new agent starts.
    if let Some(previous) = claim.previous_agent.as_ref().filter(|p| p.host == shared.host) {
        // A third of the lease: the new claim is not renewed before its agent starts.
        let patience = Duration::from_millis(shared.lease_ms / 3).min(Duration::from_secs(3));
        if process::stop_orphan(previous.pgid, previous.start_time, patience).await {
            tracing::warn!(job = %job.id, pgid = previous.pgid, "stopped the agent a lost runner left behind");
        }
        if let Some(group) = previous.cgroup.clone().map(PathBuf::from) {
            end_cgroup(group).await;
        }
    }
    let program = || invocation.argv[0].clone();
    let group = match &shared.containment {
        Some(Containment::Cgroup { parent }) if shared.lifeline.is_some() => {
            let name = format!("baton-{}-{}", job.id, claim.attempt);
            match cgroup::create(parent, &name) {
                Ok(group) => Some(group),
                Err(source) => {
                    return Ok(Started::Refused(SetupError::Cgroup { path: parent.join(name), source }));
                }
            }
        }
        _ => None,
    };
    let options = lifeline::Options { cgroup: group.clone(), grace: Some(shared.kill_grace) };
    let forked = match early {
        Some(early) => early.forked().await,
        None => None,
    };
    let supervisor = shared.lifeline.as_ref().map(|host| Supervisor { host, options: &options, forked });
    let mut child = match process::spawn(&invocation.argv, cwd, &invocation.env, &invocation.env_remove, supervisor) {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Started::Refused(SetupError::NotFound { harness: job.harness.clone(), program: program() }));
        }
        Err(source) => {
            return Ok(Started::Refused(SetupError::Spawn {
                harness: job.harness.clone(),
                program: program(),
                source,
            }));
        }
    };
    let pgid = child.id();
    let agent = process::start_time(pgid).map(|start_time| AgentProcess {
        host: shared.host.clone(),
        pgid,
        start_time,
        cgroup: group.as_ref().map(|g| g.display().to_string()),
    });
    let start = AttemptStart {
        agent,
        git_head_before: head_before,
        prompt: Some(prompt.to_string()),
        prompt_dictionary: Some(crate::templates::prompt_dictionary()),
    };
    // Through the lifeline the prompt goes at once, so the supervisor can clone the agent while
    // the start is recorded; the agent execs only after the go that follows the record.
    let framed = shared.lifeline.is_some();
    let feed = framed.then(|| feed_framed(&mut child, prompt)).flatten();
    if !shared.store.record_start(&job.id, claim.token, &start).await? {
        // No go: the supervisor calls the start off. The group is killed all the same.
        drop(feed);
        process::signal_group(pgid, libc::SIGKILL);
        // Gone before the job's assignment may go on (a cancel waits for this stop).
        let _ = child.wait().await;
        if let Some(group) = group {
            end_cgroup(group).await;
        }
        return Ok(Started::LeaseGone);
    }
    let lifeline_hold = match feed {
        Some(feed) => feed.go(),
        None if framed => None,
        None => feed_plain(&mut child, prompt),
    };
    let stderr = drain_stderr(&mut child);
    let Some(stdout) = child.stdout.take() else { return Ok(Started::Refused(SetupError::NoStdout)) };
    Ok(Started::Running(Box::new(Agent { child, pgid, cgroup: group, stdout, stderr, lifeline_hold })))
}

/// Kills whatever is left in an attempt's cgroup and removes it. The lifeline normally did
/// that already; this covers a lifeline that was itself killed.
pub(super) async fn end_cgroup(group: PathBuf) {
    let shown = group.display().to_string();
    match tokio::task::spawn_blocking(move || cgroup::end(&group)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(cgroup = %shown, "cannot end an attempt's cgroup: {e}"),
        Err(e) => tracing::warn!(cgroup = %shown, "ending an attempt's cgroup failed: {e}"),
    }
}

/// The lifeline being written on a task of its own (a supervisor that reads slowly must not
/// stall the attempt): the prompt at once, the go once [`Feed::go`] is called. Dropped without
/// the go, the lifeline closes and the supervisor calls the start off.
struct Feed {
    go: oneshot::Sender<()>,
    hold: oneshot::Sender<()>,
}

impl Feed {
    /// Sends the go. The lifeline then stays open until the returned sender is dropped.
    fn go(self) -> Option<oneshot::Sender<()>> {
        self.go.send(()).ok().map(|()| self.hold)
    }
}

fn feed_framed(child: &mut AgentChild, prompt: &str) -> Option<Feed> {
    let mut stdin = child.stdin.take()?;
    let ((go, gone), (hold, release)) = (oneshot::channel::<()>(), oneshot::channel::<()>());
    let framed = crate::lifeline::frame_prompt(prompt.as_bytes());
    tokio::spawn(async move {
        let _ = stdin.write_all(&framed).await;
        let _ = stdin.flush().await;
        if gone.await.is_ok() {
            let _ = stdin.write_all(&[crate::lifeline::GO]).await;
            let _ = stdin.flush().await;
            let _ = release.await;
        }
        let _ = stdin.shutdown().await;
    });
    Some(Feed { go, hold })
}

/// Without a lifeline the agent itself reads stdin: the prompt, then end of file, written only
/// once the start is recorded.
fn feed_plain(child: &mut AgentChild, prompt: &str) -> Option<oneshot::Sender<()>> {
    let mut stdin = child.stdin.take()?;
    let prompt = prompt.to_string();
    tokio::spawn(async move {
        let _ = stdin.write_all(prompt.as_bytes()).await;
        let _ = stdin.shutdown().await;
    });
    None
}

/// Keeps the last [`STDERR_TAIL`] bytes of the agent's stderr, for its error message.
fn drain_stderr(child: &mut AgentChild) -> Option<JoinHandle<String>> {
    let mut stderr = child.stderr.take()?;
    Some(tokio::spawn(async move {
        let mut tail = Tail::new(STDERR_TAIL);
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            tail.push(&buf[..n]);
        }
        tail.text()
    }))
}

impl Agent {
    /// Lets the lifeline's stdin close: the attempt is over.
    pub fn release_stdin(&mut self) {
        self.lifeline_hold = None;
    }

    /// The attempt is over: nothing it started may go on running.
    pub async fn end_tree(&mut self) {
        process::signal_group(self.pgid, libc::SIGKILL);
        if let Some(group) = self.cgroup.take() {
            end_cgroup(group).await;
        }
    }

    /// The tail of stderr, waiting at most `patience` for the pipe to close (a process that
    /// escaped the group may hold it open).
    pub async fn stderr_tail(&mut self, patience: Duration) -> String {
        match self.stderr.take() {
            Some(task) => tokio::time::timeout(patience, task).await.ok().and_then(Result::ok).unwrap_or_default(),
            None => String::new(),
        }
    }
}
