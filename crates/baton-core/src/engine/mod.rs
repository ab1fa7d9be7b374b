//! The engine's decisions, written once for every backend.
//!
//! Each decision is a pure function: a backend reads the inputs inside its write transaction,
//! asks this module what to do, and applies the returned plan with its own SQL. A rule of the
//! engine ("a PM that decided counts as complete", "a lost lease past `max_lost_leases` fails
//! the job") therefore lives in exactly one function here, and both backends obey it by
//! construction. Every job transition a plan asks for is a [`JobTransition`], which can only be
//! made from the table in [`crate::lifecycle`].
//!
//! - [`attempt_end`]: an attempt ended (or was released by a shutdown): the job's new status,
//!   its back-off, the attempt's outcome and the history line.
//! - [`after_final`]: a job reached `complete` or `failed`: queue its PM job, block, or nothing.
//! - [`lost_lease`]: a running job's lease expired: re-queue, complete, cancel or fail it.
//! - [`claim`]: the guards before a claim (host, dollar and token budgets) and the host-gone block.
//! - [`decision`]: the PM's one decision: its chain line, where its insert goes, its refusals.
//! - [`deferral`]: assignments created `--after` others: deferred, activated, blocked, resumed.
//! - [`spend`]: an attempt's cost — reported, estimated from a configured price, or unpriced.
//! - [`cancel`]: what follows a cancel-job: a PM after a stopped running job, else nothing.
//! - [`stopping`]: a cancelled job keeps its assignment busy until its agent is confirmed gone.
//! - [`retry_copy`]: where a retry-job's copy goes (after the last job no longer pending).
//! - [`idle`]: which active assignments wait on nobody (nothing pending or running).
//! - [`schedule`]: cron slots in a time zone, the slot after a fire, and overlap skips.

pub mod after_final;
pub mod attempt_end;
pub mod cancel;
pub mod claim;
pub mod decision;
pub mod deferral;
pub mod idle;
pub mod lost_lease;
pub mod retry_copy;
pub mod schedule;
pub mod spend;
pub mod stopping;

pub use crate::lifecycle::JobTransition;
pub use after_final::{after_final, AfterFinal, FinalState};
pub use attempt_end::{pm_undecided_reason, release, settle, EndedAttempt, Settlement};
pub use cancel::after_cancel;
pub use claim::{budget_reached, check_claim, check_resume, host_gone, ClaimCheck, HostGone, Stranded};
pub use decision::Decision;
pub use deferral::{Activation, Deferral, Parent};
pub use idle::{is_idle, IDLE_REASON};
pub use lost_lease::{settle_lost, LostLease, LostPlan};
