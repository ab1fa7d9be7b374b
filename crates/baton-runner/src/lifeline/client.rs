//! The runner's end of its supervisor [`host`](super::host): the host started with the runner
//! (or by the first attempt that finds none), one fork per attempt, and the handle of a
//! supervisor the runner did not fork itself.
//!
//! A fork ([`Host::fork`]) and its start ([`Forked::start`], which tells the supervisor what to
//! run) are two steps, so the runner can ask for the fork when it claims a job and prepare the
//! attempt meanwhile; [`Host::spawn`] does both at once.
//!
//! A host that died or stopped answering is replaced once per request; when even a fresh one
//! fails, the request fails and the caller starts `baton __supervise` itself (the same
//! supervisor, exec'd), so an attempt never depends on the host being healthy.

use super::host::SUBCOMMAND;
pub use super::wire::Request;
use super::wire::{self, Pipes};
use crate::containment::clone_into::pipe;
use std::io;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;

/// How long a fork may take before the host counts as hung.
const ANSWER_PATIENCE: Duration = Duration::from_secs(10);
/// How long a runner that ends waits for its host to end (its supervisors first).
const ENDING_PATIENCE: Duration = Duration::from_secs(10);

/// A runner's supervisor host: started by [`Host::warm`], or by the first attempt that needs it.
pub struct Host {
    baton: PathBuf,
    connection: Mutex<Option<Connection>>,
}

struct Connection {
    socket: UnixStream,
    process: Child,
}

impl Connection {
    /// A host that failed: killed and reaped, so it leaves no zombie.
    fn discard(mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for Host {
    /// The runner is done: closing the socket ends the host once its supervisors have ended
    /// (they end on their lifelines), and reaping it adds their CPU time to the runner's. A
    /// host that does not end in time is killed.
    fn drop(&mut self) {
        let connection = self.connection.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        let Some(mut connection) = connection else { return };
        let _ = connection.socket.shutdown(std::net::Shutdown::Both);
        let deadline = std::time::Instant::now() + ENDING_PATIENCE;
        while matches!(connection.process.try_wait(), Ok(None)) {
            if std::time::Instant::now() >= deadline {
                return connection.discard();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A supervisor forked by the host: its process id, the runner's ends of its pipes, and its
/// status pipe.
pub struct Supervised {
    pub pid: u32,
    /// The lifeline: the framed prompt, then held open for as long as the attempt runs.
    pub stdin: pipe::Sender,
    pub stdout: pipe::Receiver,
    pub stderr: pipe::Receiver,
    pub status: Status,
}

impl Host {
    pub fn new(baton: PathBuf) -> Host {
        Host { baton, connection: Mutex::new(None) }
    }

    /// Starts the host now rather than for the first attempt, whose pickup would wait for it.
    /// A host that cannot start is only logged: the first attempt tries again, then falls back.
    pub fn warm(&self) {
        let mut connection = self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if connection.is_none() {
            match self.start() {
                Ok(started) => *connection = Some(started),
                Err(e) => tracing::warn!(
                    "cannot start the supervisor host ({e}); attempts will start it or exec their supervisor"
                ),
            }
        }
    }

    /// The `baton` binary the host runs, and the supervisor when started without the host.
    pub fn baton(&self) -> &std::path::Path {
        &self.baton
    }

    /// Has the host fork the supervisor for one attempt and starts it on `request`. Must run
    /// inside the runtime: the pipes are registered with it.
    pub fn spawn(&self, request: &Request) -> io::Result<Supervised> {
        self.fork()?.start(request)
    }

    /// Has the host fork a supervisor that waits for its [`Forked::start`]. Blocks until the
    /// host answers (a fraction of a millisecond): run it off the runtime's threads when that
    /// matters. A host that is gone or silent is replaced and asked once more, with new pipes:
    /// should the old one have forked after all, that supervisor finds its lifeline closed and
    /// ends at once.
    pub fn fork(&self) -> io::Result<Forked> {
        let mut connection = self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut fresh = false;
        loop {
            let live = match connection.as_mut() {
                Some(live) => live,
                None => {
                    fresh = true;
                    connection.insert(self.start()?)
                }
            };
            match ask(live) {
                Ok(forked) => return Ok(forked),
                Err(Failure::Refused(e)) => return Err(e),
                Err(Failure::HostGone(e)) => {
                    if let Some(failed) = connection.take() {
                        failed.discard();
                    }
                    if fresh {
                        return Err(io::Error::new(e.kind(), format!("the supervisor host failed: {e}")));
                    }
                    tracing::warn!("the supervisor host stopped answering ({e}); starting a new one");
                }
            }
        }
    }

    fn start(&self) -> io::Result<Connection> {
        let (socket, theirs) = UnixStream::pair()?;
        socket.set_read_timeout(Some(ANSWER_PATIENCE))?;
        let mut command = Command::new(&self.baton);
        command.arg(SUBCOMMAND).stdin(Stdio::from(OwnedFd::from(theirs))).stdout(Stdio::null());
        // Its own process group: a Ctrl-C at the runner's terminal is the runner's to handle,
        // and the host must not die of it while attempts are starting.
        command.process_group(0);
        let process = command.spawn()?;
        Ok(Connection { socket, process })
    }
}

/// Why a request failed.
enum Failure {
    /// The host answered: it could not fork (no memory, too many processes), or the pipes
    /// could not be made.
    Refused(io::Error),
    /// The connection broke or the host did not answer in time.
    HostGone(io::Error),
}

/// One fork on `live` with pipes of its own.
fn ask(live: &Connection) -> Result<Forked, Failure> {
    let (lifeline_read, lifeline_write) = pipe().map_err(Failure::Refused)?;
    let (stdout_read, stdout_write) = pipe().map_err(Failure::Refused)?;
    let (stderr_read, stderr_write) = pipe().map_err(Failure::Refused)?;
    let (status_read, status_write) = pipe().map_err(Failure::Refused)?;
    let pipes = Pipes { lifeline: lifeline_read, stdout: stdout_write, stderr: stderr_write, status: status_write };
    wire::send(live.socket.as_fd(), &pipes).map_err(Failure::HostGone)?;
    let pid = wire::read_answer(live.socket.as_fd()).map_err(Failure::HostGone)?.map_err(Failure::Refused)?;
    // The supervisor holds the other ends now: ours close, so end of file means its end.
    drop(pipes);
    Ok(Forked {
        pid: pid as u32,
        lifeline: lifeline_write,
        stdout: stdout_read,
        stderr: stderr_read,
        status: status_read,
    })
}

/// A supervisor forked by the host that waits, reading its lifeline, for what to run. Dropped
/// unstarted, its lifeline closes and it ends without starting anything.
pub struct Forked {
    pid: u32,
    lifeline: OwnedFd,
    stdout: OwnedFd,
    stderr: OwnedFd,
    status: OwnedFd,
}

impl Forked {
    /// The supervisor's process id, which leads the attempt's process group.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Tells the supervisor what to run and hands over its pipes, registered with the
    /// runtime (so this must run inside it). The request is the lifeline's first bytes, written
    /// before the pipe goes non-blocking: it fits the pipe's buffer unless the environment is
    /// huge, and the supervisor is reading it already. A supervisor that is gone (the write
    /// fails) is an error: the caller starts another.
    pub fn start(self, request: &Request) -> io::Result<Supervised> {
        let Forked { pid, lifeline, stdout, stderr, status } = self;
        let mut lifeline = std::fs::File::from(lifeline);
        lifeline.write_all(&request.frame())?;
        Ok(Supervised {
            pid,
            stdin: pipe::Sender::from_owned_fd(OwnedFd::from(lifeline))?,
            stdout: pipe::Receiver::from_owned_fd(stdout)?,
            stderr: pipe::Receiver::from_owned_fd(stderr)?,
            status: Status { pipe: pipe::Receiver::from_owned_fd(status)?, read: [0; 4], len: 0, ended: None },
        })
    }
}

/// The supervisor's exit status, from its status pipe.
pub struct Status {
    pipe: pipe::Receiver,
    read: [u8; 4],
    len: usize,
    ended: Option<ExitStatus>,
}

impl Status {
    /// Waits for the supervisor's end: the status it wrote once its tree was gone. A pipe that
    /// closes without one means the supervisor itself was killed: reported as SIGKILL, which is
    /// what a parent would have seen. Cancel-safe: bytes read stay in `self`.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        if let Some(ended) = self.ended {
            return Ok(ended);
        }
        while self.len < self.read.len() {
            let n = self.pipe.read(&mut self.read[self.len..]).await?;
            if n == 0 {
                break;
            }
            self.len += n;
        }
        let raw = if self.len == self.read.len() { i32::from_le_bytes(self.read) } else { libc::SIGKILL };
        let ended = ExitStatus::from_raw(raw);
        self.ended = Some(ended);
        Ok(ended)
    }
}
