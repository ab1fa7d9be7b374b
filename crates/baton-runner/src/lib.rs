//! baton-runner: executes queued jobs by running agent CLIs headless.
//!
//! - [`runner`]: the claim loop (`baton run`): concurrency, pushed wake-ups, heartbeats, shutdown.
//! - [`supervisor`]: one attempt — spawn, stream, lease, timeout, stop, record.
//! - [`invocation`]: the agent's command line, environment and time limit.
//! - [`process`]: process groups and stopping them.
//! - [`lifeline`]: the per-job supervisor process that stops an agent when its runner dies.
//! - [`transcript`]: batching and capping transcript events.
//! - [`templates`] and [`prompt`]: what the agent is told.

pub mod invocation;
pub mod lifeline;
pub mod process;
pub mod prompt;
pub mod runner;
pub mod supervisor;
pub mod templates;
pub mod transcript;

pub use runner::{engine_policy, run, RunSummary, RunnerOptions};
