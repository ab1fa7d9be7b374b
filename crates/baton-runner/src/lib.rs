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
//! - [`base`] and [`merge`]: what an assignment is based on, and bringing its work back there.
//! - [`checkpoint`]: the commit after every attempt that lands its work on the branch.
//! - [`templates`] and [`prompt`]: what the agent is told; [`template_history`]: stale copies.

pub mod base;
pub mod checkpoint;
pub mod git;
pub mod invocation;
pub mod lifeline;
pub mod merge;
pub mod notify;
pub mod process;
pub mod prompt;
pub mod runner;
pub mod supervisor;
pub mod template_history;
pub mod templates;
pub mod transcript;
pub mod workspace;
pub mod worktree_rules;

pub use runner::{engine_policy, run, RunSummary, RunnerOptions};
