//! The closed vocabularies of the model: statuses, job types, error kinds and actors.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A value that is not one of an enum's spellings; the message lists the valid ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`; valid values: {valid}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub valid: String,
}

/// Declares a string-backed enum with `as_str`, `ALL`, `Display`, `FromStr` and serde in one place,
/// so the spelling of each value exists exactly once.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The valid spellings joined for error messages and help.
            pub fn valid_values() -> String {
                [$($text),+].join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { what: $what, value: s.to_string(), valid: Self::valid_values() }),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_enum!(
    /// Where an assignment stands. `complete` and `cancelled` are final.
    AssignmentStatus, "assignment status" {
        /// Its jobs run.
        Active => "active",
        /// Waiting for the assignments it was created `--after`; its jobs do not run yet. The
        /// engine activates it when every parent is complete.
        Deferred => "deferred",
        /// Done: the PM (or a person) judged the north star reached.
        Complete => "complete",
        /// Waiting for a human; carries a reason.
        Blocked => "blocked",
        /// Abandoned by a person.
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// Where a job stands. `complete`, `failed` and `cancelled` are final.
    JobStatus, "job status" {
        /// Queued; runs when it is its assignment's next job and the assignment is active.
        Pending => "pending",
        /// Held by a runner under a lease.
        Running => "running",
        /// The agent finished and reported success.
        Complete => "complete",
        /// The agent failed and no retry is left (or the failure was permanent).
        Failed => "failed",
        /// Stopped by a person, or by its assignment ending.
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// What a job asks of its agent; each type has its own prompt template.
    JobType, "job type" {
        Plan => "plan",
        Implement => "implement",
        Review => "review",
        Uat => "uat",
        Document => "document",
        /// The project manager: reads the last result and decides what happens next.
        Pm => "pm",
        /// A free-form run.
        Chat => "chat",
    }
);

string_enum!(
    /// Why a job attempt did not succeed.
    ErrorKind, "error kind" {
        /// Rate limits, overloaded or failing servers, dropped connections: worth retrying.
        Transient => "transient",
        /// Auth, billing, invalid requests, bad flags, missing binaries, turn or budget limits.
        Permanent => "permanent",
        /// The job ran past its `timeout_ms` and was stopped.
        Timeout => "timeout",
        /// A person (or the assignment ending) stopped it.
        Cancelled => "cancelled",
        /// Its runner disappeared and the lease expired.
        Lost => "lost",
    }
);

string_enum!(
    /// How a job's agent session begins: a new conversation, the next turn of an earlier job's
    /// conversation, or a copy of it that leaves the original untouched.
    SessionMode, "session mode" {
        Fresh => "fresh",
        /// `insert-job --continue JOB`: the new prompt is the next turn of JOB's session.
        Continued => "continued",
        /// `insert-job --fork JOB`: a new session starting from JOB's conversation.
        Forked => "forked",
    }
);

string_enum!(
    /// Where a cost figure comes from: it is never a made-up zero.
    CostSource, "cost source" {
        /// The agent CLI reported the cost of every attempt with usage.
        Reported => "reported",
        /// Some or all of it is the reported tokens × a configured price (`[prices]`).
        Estimated => "estimated",
        /// Tokens are known but no price is configured for the model: the cost is unknown.
        Unpriced => "unpriced",
    }
);

impl JobStatus {
    /// Final statuses never change again.
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Complete | JobStatus::Failed | JobStatus::Cancelled)
    }
}

impl AssignmentStatus {
    /// `complete` and `cancelled` are final; `blocked` is not (a person can resume it).
    pub fn is_final(self) -> bool {
        matches!(self, AssignmentStatus::Complete | AssignmentStatus::Cancelled)
    }
}

/// Who made a change, as recorded in history.
///
/// Spelled `person:NAME`, `job:JOB_ID` or `engine` in JSON and in every backend.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A person at the CLI or dashboard (their login name).
    Person(String),
    /// An agent acting from inside a job (the CLI saw `BATON_JOB_ID`), under the fencing token
    /// of the claim it runs in (`BATON_JOB_TOKEN`). The token is checked, never recorded.
    Job { id: String, token: Option<i64> },
    /// baton itself: the runner, a guard, the PM flow.
    Engine,
}

impl Actor {
    /// A job actor without a token (as read back from history).
    pub fn job(id: impl Into<String>) -> Actor {
        Actor::Job { id: id.into(), token: None }
    }

    /// The job acting, if a job is.
    pub fn job_id(&self) -> Option<&str> {
        match self {
            Actor::Job { id, .. } => Some(id),
            _ => None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Person(name) => write!(f, "person:{name}"),
            Actor::Job { id, .. } => write!(f, "job:{id}"),
            Actor::Engine => f.write_str("engine"),
        }
    }
}

impl FromStr for Actor {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        if s == "engine" {
            Ok(Actor::Engine)
        } else if let Some(name) = s.strip_prefix("person:") {
            Ok(Actor::Person(name.to_string()))
        } else if let Some(id) = s.strip_prefix("job:") {
            Ok(Actor::job(id))
        } else {
            Err(UnknownValue { what: "actor", value: s.to_string(), valid: "person:NAME, job:ID, engine".to_string() })
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

string_enum!(
    /// What a schedule does at a slot while the assignment it created last is still open.
    Overlap, "overlap" {
        /// No new assignment while the previous one is active, blocked or deferred: the slot is
        /// recorded as skipped, so a run that waits for a person does not pile up copies.
        Skip => "skip",
        /// A new assignment at every slot, whatever became of the previous one.
        Queue => "queue",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_spelling() {
        for t in JobType::ALL {
            assert_eq!(t.as_str().parse::<JobType>(), Ok(*t));
        }
        for s in JobStatus::ALL {
            assert_eq!(s.as_str().parse::<JobStatus>(), Ok(*s));
        }
        for s in AssignmentStatus::ALL {
            assert_eq!(s.as_str().parse::<AssignmentStatus>(), Ok(*s));
        }
        for k in ErrorKind::ALL {
            assert_eq!(k.as_str().parse::<ErrorKind>(), Ok(*k));
        }
    }

    #[test]
    fn unknown_value_lists_valid_ones() {
        let err = "deploy".parse::<JobType>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown job type `deploy`; valid values: plan, implement, review, uat, document, pm, chat"
        );
    }

    #[test]
    fn actors_round_trip() {
        for a in [Actor::Person("ada".into()), Actor::job("j123"), Actor::Engine] {
            assert_eq!(a.to_string().parse::<Actor>(), Ok(a.clone()));
        }
        assert!("nobody".parse::<Actor>().is_err());
    }
}
