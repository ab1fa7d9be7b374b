//! The domain model: assignments own an ordered chain of jobs; both carry an audit history.
//! Schedules create assignments at the times of a cron pattern.
//!
//! Every enum here has one canonical lowercase spelling used in the CLI, in JSON and in every
//! backend's columns; `FromStr` errors list the valid values so the CLI can say what to type.

mod assignment;
mod enums;
mod job;
mod schedule;

pub use assignment::{Assignment, AssignmentDetail, AssignmentLink, HistoryEntry};
pub use enums::{
    Actor, AssignmentStatus, CostSource, ErrorKind, JobStatus, JobType, Overlap, SessionMode, UnknownValue,
};
pub use job::{report_summary, Attempt, AttemptOutcome, Job, JobEvent};
pub use schedule::{Schedule, ScheduleRun, ScheduleTemplate, RUNS_SHOWN};

#[cfg(test)]
pub(crate) mod test_support;
