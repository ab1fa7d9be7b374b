//! End-to-end tests of `baton run` through the real binary, with stand-in agent CLIs first on
//! PATH that emit the real event formats and act like agents (see tests/agents/standin.py).

#[path = "../cli/common.rs"]
#[allow(dead_code)]
mod common;
mod harness;

mod commits;
mod containment;
mod crash;
mod decisions;
mod diff;
mod faults;
mod flow;
mod harnesses;
mod merge;
mod metrics;
mod postgres;
mod sessions;
mod shutdown;
mod stopping;
mod templates;
mod worktrees;
