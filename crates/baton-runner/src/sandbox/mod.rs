//! The filesystem sandbox: what an agent can touch on the machine.
//!
//! With `sandbox = "bwrap"` every attempt's command line is wrapped in bubblewrap ([`bwrap`]):
//! the root filesystem read-only, the attempt's folder and its agent CLI's state folders
//! writable, a private `/tmp`, the other worktrees and the database's folder hidden, a PID
//! namespace of its own, and the attempt's socket bound in. The wrapper runs inside the
//! attempt's lifeline (and cgroup), so containment is unchanged: the sandbox is one more
//! process of the attempt's tree, and when its PID namespace's first process dies the kernel
//! kills everything inside.
//!
//! [`select`] decides the mode once per runner: `auto` takes `bwrap` when it runs here, else
//! none (said once in the log); `bwrap` that cannot run is remembered with its reason, and
//! every job then fails with it before any agent starts.

mod attempt;
pub mod bwrap;

pub use attempt::{confine, Paths};

use baton_core::config::Sandbox as Choice;
use std::path::PathBuf;

/// The sandbox a runner wraps its agents in, decided when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sandbox {
    /// Agents see the machine as the runner's user does.
    None,
    /// bubblewrap at `program`.
    Bwrap { program: PathBuf },
    /// `sandbox = "bwrap"` was asked for and cannot run here: every job fails with this.
    Unusable { reason: String },
}

/// The mode and why, as the runner's log and `baton doctor` say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// `none` or `bwrap` (what agents actually run in), or `unusable`.
    pub mode: &'static str,
    /// Why this mode: what was asked for, and what was found.
    pub why: String,
}

/// The sandbox for `choice` on this host.
pub fn select(choice: Choice) -> Sandbox {
    if choice == Choice::None {
        return Sandbox::None;
    }
    match (choice, bwrap::probe()) {
        (Choice::None, _) => Sandbox::None,
        (Choice::Bwrap | Choice::Auto, Ok(program)) => Sandbox::Bwrap { program },
        (Choice::Bwrap, Err(cause)) => Sandbox::Unusable { reason: unusable(&cause) },
        (Choice::Auto, Err(cause)) => {
            tracing::info!("sandbox: bubblewrap cannot run here ({cause}); agents run without a filesystem sandbox");
            Sandbox::None
        }
    }
}

/// What `sandbox = "bwrap"` that cannot run tells the job, naming the cause and the fix.
fn unusable(cause: &str) -> String {
    format!(
        "sandbox = \"bwrap\" cannot run here: {cause}; install bubblewrap (apt-get install bubblewrap) and allow \
         user namespaces (sysctl kernel.unprivileged_userns_clone=1, or run the runner as root), or set sandbox = \
         \"none\" or \"auto\" in .baton/config.toml"
    )
}

/// The sandbox mode `choice` gives on this host, and why: for `baton doctor`.
pub fn status(choice: Choice) -> Status {
    let asked = choice.as_str();
    if choice == Choice::None {
        return Status { mode: "none", why: "sandbox = \"none\" is configured".to_string() };
    }
    match (choice, bwrap::probe()) {
        (Choice::None, _) => Status { mode: "none", why: "sandbox = \"none\" is configured".to_string() },
        (_, Ok(program)) => Status {
            mode: "bwrap",
            why: format!("sandbox = \"{asked}\" and bubblewrap runs here: {}", program.display()),
        },
        (Choice::Bwrap, Err(cause)) => Status { mode: "unusable", why: unusable(&cause) },
        (Choice::Auto, Err(cause)) => Status {
            mode: "none",
            why: format!("sandbox = \"auto\" and bubblewrap cannot run here ({cause}): agents run unsandboxed"),
        },
    }
}

impl Sandbox {
    /// The name shown in the runner's log.
    pub fn name(&self) -> &'static str {
        match self {
            Sandbox::None => "none",
            Sandbox::Bwrap { .. } => "bwrap",
            Sandbox::Unusable { .. } => "unusable",
        }
    }
}
