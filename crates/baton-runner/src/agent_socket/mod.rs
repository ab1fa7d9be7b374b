//! Job-scoped calls through the runner: the only way an agent reaches the queue.
//!
//! An agent gets no database URL. While its attempt runs, the runner listens on a Unix socket
//! of that attempt alone — in a folder only the runner's user may enter (0700), the socket
//! itself 0600, both removed when the attempt ends — and hands the agent its path
//! (`BATON_AGENT_SOCKET`) and a secret drawn for this attempt (`BATON_JOB_TOKEN`). A `baton`
//! command typed inside the job sends its arguments over the socket; the runner checks the
//! secret, refuses what no job may do ([`policy`]), and runs its own `baton` binary with the
//! database URL, the job's id and the claim's fencing token — so the same core rules, error
//! texts and exit codes apply as ever, and the store checks the claim in the transaction of
//! every change. Output and the exit code stream back ([`protocol`]).
//!
//! The secret is random, not the fencing token (a counter another agent could guess): a
//! process that finds another attempt's socket still cannot act as that job.

pub mod in_process;
pub mod policy;
pub mod protocol;
mod serve;

use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// What the runner runs an agent's commands as.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The `baton` binary that runs each command.
    pub baton: PathBuf,
    /// The database the commands act on (never shown to the agent).
    pub database_url: String,
    pub namespace: String,
    pub job_id: String,
    pub assignment_id: String,
    pub job_type: String,
    /// The claim's fencing token, checked by the store on every change.
    pub fencing_token: i64,
    /// The attempt's folder: commands run there, or below it where the agent typed them.
    pub cwd: PathBuf,
    /// Runs the commands it handles in the runner's process instead of spawning `baton`.
    pub in_process: Option<in_process::InProcess>,
}

/// An attempt's socket, served until [`AgentSocket::close`] or drop.
pub struct AgentSocket {
    dir: PathBuf,
    path: PathBuf,
    secret: String,
    open: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl AgentSocket {
    /// Creates the attempt's private folder and socket and starts serving it (on the current
    /// tokio runtime).
    pub fn open(scope: Scope) -> io::Result<AgentSocket> {
        let secret = new_secret();
        let dir = std::env::temp_dir().join(format!("{FOLDER_PREFIX}{}", &secret[..16]));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let path = dir.join("sock");
        let listener = match tokio::net::UnixListener::bind(&path) {
            Ok(listener) => listener,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let open = Arc::new(AtomicBool::new(true));
        let task = tokio::spawn(serve::accept(listener, Arc::new(scope), Arc::new(secret.clone()), open.clone()));
        Ok(AgentSocket { dir, path, secret, open, task })
    }

    /// What the agent's environment carries to reach this socket.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (protocol::SOCKET_VAR.to_string(), self.path.display().to_string()),
            (protocol::TOKEN_VAR.to_string(), self.secret.clone()),
        ]
    }

    /// The socket's private folder (what a sandbox binds in).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The attempt is over: nothing more is accepted, and the socket is gone.
    pub fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.task.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for AgentSocket {
    fn drop(&mut self) {
        self.close();
    }
}

/// The prefix of every attempt's socket folder in the temp folder.
const FOLDER_PREFIX: &str = "baton-agent-";

/// A socket folder this old whose socket refuses connections is a dead runner's.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes the socket folders of attempts whose runner died without removing them (a SIGKILL):
/// a folder whose socket no longer accepts connections belongs to no live runner. Called when a
/// runner starts; returns how many went.
pub fn sweep_stale() -> usize {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let is_ours = entry.file_name().to_str().is_some_and(|n| n.starts_with(FOLDER_PREFIX));
        if !is_ours || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        // A folder made a moment ago may not have its socket yet.
        let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        if age.is_none_or(|age| age < STALE_AFTER) {
            continue;
        }
        let dead = match std::os::unix::net::UnixStream::connect(entry.path().join("sock")) {
            Ok(_) => false,
            Err(e) => matches!(e.kind(), io::ErrorKind::ConnectionRefused | io::ErrorKind::NotFound),
        };
        if dead && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// 128 random bits, in hex.
fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_live_socket_is_kept_and_a_dead_one_swept() {
        let scope = Scope {
            baton: "/bin/false".into(),
            database_url: "sqlite:///nowhere".into(),
            namespace: "ns".into(),
            job_id: "j1".into(),
            assignment_id: "a1".into(),
            job_type: "implement".into(),
            fencing_token: 1,
            cwd: "/".into(),
            in_process: None,
        };
        let live = AgentSocket::open(scope).unwrap();
        let dead = std::env::temp_dir().join(format!("{FOLDER_PREFIX}test-{}", std::process::id()));
        std::fs::create_dir_all(&dead).unwrap();
        drop(std::os::unix::net::UnixListener::bind(dead.join("sock")).unwrap());
        let old = std::time::SystemTime::now() - 2 * STALE_AFTER;
        std::fs::File::open(&dead).unwrap().set_modified(old).unwrap();
        sweep_stale();
        assert!(!dead.exists(), "a socket nobody listens on is swept");
        assert!(live.dir().join("sock").exists(), "a live attempt's socket stays");
    }

    #[test]
    fn secrets_are_fresh_and_compared_whole() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret(&a, &a[..31]));
    }
}
