//! A job's command run inside the runner's own process, on the store the runner already holds.
//!
//! Starting `baton` for each command an agent types — a PM's decision above all — cost a
//! process start and a database connection every time, more than the decision itself (on
//! PostgreSQL a new connection is most of it). The commands live in the `baton` binary, not in
//! this library, so the binary hands the runner an [`Executor`] that runs them in process; each
//! call gets the environment, folder and standard input the spawned command would have had, and
//! answers with what it would have printed and its exit code. What the executor does not
//! handle (a command that streams, such as `logs --follow`) is still spawned.

use baton_core::Store;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Runs `baton` commands in process.
pub trait Executor: Send + Sync + fmt::Debug {
    /// Whether it runs `argv` (the arguments after `baton`); the rest is spawned.
    fn handles(&self, argv: &[String]) -> bool;
    /// Runs one command to its end. Blocking: it is called on a blocking thread of the runner's
    /// runtime, and may enter that runtime to wait.
    fn run(&self, call: Call) -> Reply;
}

/// One command, with everything a spawned `baton` would have been given.
pub struct Call {
    /// The arguments after `baton`.
    pub argv: Vec<String>,
    /// Where it runs (config discovery starts here).
    pub cwd: PathBuf,
    /// Its environment over the runner's: the job's identity and the passed-on presentation
    /// variables. A name not here is looked up in the runner's environment, as a child inherits it.
    pub env: Vec<(String, String)>,
    /// Its standard input (what `--context-file -` reads).
    pub stdin: Vec<u8>,
    /// The runner's store: the database the command acts on.
    pub store: Arc<dyn Store>,
}

/// What the command printed, and how it ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reply {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: i32,
}

/// What a scope needs to run commands in process.
#[derive(Clone)]
pub struct InProcess {
    pub executor: Arc<dyn Executor>,
    pub store: Arc<dyn Store>,
}

impl fmt::Debug for InProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcess").field("executor", &self.executor).finish_non_exhaustive()
    }
}
