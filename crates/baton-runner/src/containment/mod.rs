//! Containment: nothing an attempt starts outlives it.
//!
//! Agents start shells, dev servers, watchers and test daemons, and some of those detach with
//! `setsid` or a double fork, leaving the agent's process group. Two mechanisms keep them
//! inside the attempt anyway:
//!
//! - [`cgroup`]: each attempt gets a cgroup v2 of its own, created by the runner under its own
//!   cgroup; the agent is born in it ([`clone_into`]) or joins it before any of its code runs,
//!   so everything it starts is inside, whatever it does with sessions and groups. The attempt ends with `cgroup.kill`, which the
//!   kernel applies to every member at once, even to a process that escaped while the
//!   supervisor itself was SIGKILLed. The group's path is recorded on the attempt, so a runner
//!   taking the job over on the same host kills what is left.
//! - [`sweep`] (subreaper): the attempt's lifeline supervisor is a child subreaper, so every
//!   orphaned descendant is re-parented to it rather than to init, and it stops all of its
//!   descendants (SIGTERM, then SIGKILL after the grace) before it exits. It cannot catch a
//!   process that was orphaned while the supervisor itself was SIGKILLed.
//!
//! [`select`] picks the mechanism a runner uses from the `containment` setting; [`leftovers`]
//! ends, when a runner starts, the attempt groups that runners killed outright left behind.

pub mod cgroup;
pub mod clone_into;
pub mod leftovers;
pub mod sweep;

use baton_core::config::Containment as Choice;
use std::fmt;
use std::path::PathBuf;

/// The mechanism a runner uses, decided once when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Containment {
    /// One cgroup per attempt, created under `parent` (the runner's own cgroup).
    Cgroup { parent: PathBuf },
    /// The lifeline supervisor is a child subreaper and kills every descendant.
    Subreaper,
}

impl Containment {
    /// The name shown by `baton queue` and in the runner's log.
    pub fn name(&self) -> &'static str {
        match self {
            Containment::Cgroup { .. } => "cgroup",
            Containment::Subreaper => "subreaper",
        }
    }
}

impl fmt::Display for Containment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Containment::Cgroup { parent } => write!(f, "cgroup (under {})", parent.display()),
            Containment::Subreaper => f.write_str("subreaper"),
        }
    }
}

/// Why the mechanism asked for cannot be used here; the message says what to do.
#[derive(Debug, thiserror::Error)]
#[error(
    "containment = \"cgroup\" needs a writable cgroup v2 hierarchy, and this host has none usable: {reason}; \
     set containment = \"subreaper\" (or \"auto\") in .baton/config.toml or BATON_CONTAINMENT"
)]
pub struct Unavailable {
    pub reason: String,
}

/// The mechanism for `choice` on this host: `auto` takes a cgroup when one can be made, else a
/// subreaper (and says why in the log).
pub fn select(choice: Choice) -> Result<Containment, Unavailable> {
    match choice {
        Choice::Subreaper => Ok(Containment::Subreaper),
        Choice::Cgroup => cgroup::prepare_parent().map(|parent| Containment::Cgroup { parent }),
        Choice::Auto => match cgroup::prepare_parent() {
            Ok(parent) => Ok(Containment::Cgroup { parent }),
            Err(e) => {
                tracing::info!("cgroup containment unavailable ({}); using a subreaper", e.reason);
                Ok(Containment::Subreaper)
            }
        },
    }
}
