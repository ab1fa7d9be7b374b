//! baton-runner: executes queued jobs by running agent CLIs headless.
//!
//! - [`runner`]: the claim loop (`baton run`): concurrency, pushed wake-ups, heartbeats, shutdown.
//! - [`supervisor`]: one attempt — spawn, stream, lease, timeout, stop, record.
//! - [`invocation`]: the agent's command line, environment and time limit.
//! - [`process`]: process groups and stopping them.
//! - [`notify`]: the `[notify]` hooks.
//! - [`lifeline`]: the per-job supervisor process that stops an agent when its runner dies.
//! - [`transcript`]: batching and capping transcript events.
//! - [`workspace`] and [`git`]: each assignment's branch and worktree, and what a job changed.
//! - [`checkpoint`]: the commit after every attempt that lands its work on the branch.
//! - [`assignment_git`]: what an assignment produced: its base, commits ahead, diff and leftovers.
//! - [`templates`] and [`prompt`]: what the agent is told.

pub mod assignment_git;
pub mod checkpoint;
pub mod git;
pub mod invocation;
pub mod lifeline;
pub mod notify;
pub mod process;
pub mod prompt;
pub mod runner;
pub mod supervisor;
pub mod templates;
pub mod transcript;
pub mod workspace;
pub mod worktree_rules;

pub use runner::{engine_policy, run, RunSummary, RunnerOptions};
