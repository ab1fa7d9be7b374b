//! End-to-end tests of `baton run` through the real binary, with stand-in agent CLIs first on
//! PATH that emit the real event formats and act like agents (see tests/agents/standin.py).

#[path = "../cli/common.rs"]
#[allow(dead_code)]
mod common;
mod harness;
#[path = "../cli/mcp_client.rs"]
#[allow(dead_code)]
mod mcp_client;

mod commits;
mod containment;
mod crash;
mod decisions;
mod dependencies;
mod diff;
mod faults;
mod flow;
mod harnesses;
mod keys;
mod mcp;
mod merge;
mod metrics;
mod multihost;
mod netns;
mod postgres;
mod retention;
mod sandbox;
mod schedules;
mod sessions;
mod shutdown;
mod stop_before_pm;
mod stopping;
mod templates;
mod tmux_watch;
mod upkeep;
mod worktrees;
