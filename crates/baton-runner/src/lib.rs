//! baton-runner: executes queued jobs by running agent CLIs headless.
//!
//! - [`agent_socket`]: the socket through which an agent's `baton` calls reach the queue.
//! - [`runner`]: the claim loop (`baton run`): concurrency, pushed wake-ups, heartbeats, shutdown.
//! - [`supervisor`]: one attempt — spawn, stream, lease, timeout, stop, record.
//! - [`invocation`]: the agent's command line, environment and time limit.
//! - [`process`]: process groups and stopping them.
//! - [`notify`]: the `[notify]` hooks.
//! - [`lifeline`]: the per-attempt supervisor process that stops an agent's whole tree when the
//!   attempt ends or its runner dies.
//! - [`containment`]: how that tree is kept together — a cgroup per attempt, or a subreaper.
//! - [`sandbox`]: the filesystem sandbox (bubblewrap) an agent runs in.
//! - [`transcript`]: batching and capping transcript events.
//! - [`workspace`] and [`git`]: each assignment's branch and worktree, and what a job changed.
//! - [`base`] and [`merge`]: what an assignment is based on, and bringing its work back there.
//! - [`checkpoint`]: the commit after every attempt that lands its work on the branch.
//! - [`sync`]: pushing that branch to the `[sync]` remote, and fetching it on another host.
//! - [`assignment_git`]: what an assignment produced: its base, commits ahead, diff and leftovers.
//! - [`base`] and [`merge`]: the branch an assignment starts from, and a person's merge of it.
//! - [`session`]: a new agent session or an earlier job's carried on.
//! - [`schedule`]: firing the namespace's due schedules, and the assignment each creates.
//! - [`gc`]: one pass of the `[retention]` policy (`baton gc`, `clean --retention`, `/api/gc`).
//! - [`templates`] and [`prompt`]: what the agent is told; [`template_history`]: stale copies.

pub mod agent_sessions;
pub mod agent_socket;
pub mod agent_telemetry;
pub mod assignment_git;
pub mod base;
pub mod checkpoint;
pub mod containment;
pub mod gc;
pub mod git;
pub mod invocation;
pub mod lifeline;
pub mod merge;
pub mod notify;
pub mod process;
pub mod prompt;
pub mod retire;
pub mod runner;
pub mod sandbox;
pub mod schedule;
pub mod session;
pub mod supervisor;
pub mod sync;
pub mod template_history;
pub mod templates;
pub mod transcript;
pub mod upkeep;
pub mod workspace;
pub mod worktree_rules;

pub use runner::{engine_policy, run, run_with_stops, RunSummary, RunnerOptions};
