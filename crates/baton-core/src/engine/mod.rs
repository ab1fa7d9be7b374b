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
//! - [`spend`]: an attempt's cost — reported, estimated from a configured price, or unpriced.

pub mod after_final;
pub mod attempt_end;
pub mod claim;
pub mod decision;
pub mod lost_lease;
pub mod spend;

pub use crate::lifecycle::JobTransition;
pub use after_final::{after_final, AfterFinal, FinalState};
pub use attempt_end::{pm_undecided_reason, release, settle, EndedAttempt, Settlement};
pub use claim::{budget_reached, check_claim, host_gone, ClaimCheck};
pub use decision::Decision;
pub use lost_lease::{settle_lost, LostLease, LostPlan};
