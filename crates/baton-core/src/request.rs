//! The requests every caller hands to the store: a new assignment, a new job, an assignment
//! update. They are built from the config's defaults here and checked by their `validate()`,
//! once, whoever asks: the CLI, the HTTP API and the engine's own jobs alike.
//!
//! A refusal is a [`RequestError`] naming the request's fields as the request spells them
//! (`max_jobs must be at least 1`), which is also how the HTTP API's JSON bodies spell them. A
//! caller with other names (the CLI's `--max-jobs`) renders it with [`RequestError::describe`].
//! The rules that need stored state (final statuses, guards, transitions) live in
//! [`crate::lifecycle`].

use crate::config::Config;
use crate::error::Result;
use crate::model::{AssignmentStatus, JobType, SessionMode};
use std::borrow::Cow;
use std::fmt;

/// What `create` stores.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAssignment {
    pub namespace: String,
    pub north_star: String,
    pub max_jobs: u32,
    pub budget_usd: Option<f64>,
    /// `--budget-tokens`: input + output + cache-write tokens, for any harness.
    pub budget_tokens: Option<i64>,
    /// The checkout it was created from (lets `init` warn about a namespace shared by two paths).
    pub origin_root: Option<String>,
    /// The git ref its branch starts from (`create --base`).
    pub base_ref: Option<String>,
    /// The branch it is based on, where `baton merge` brings its work (the current branch, or
    /// the branch `--base` names; `None` for a commit, a tag or a detached HEAD).
    pub base_branch: Option<String>,
    /// The person's context (`create --context`), shown to every job of the assignment.
    pub context: String,
    /// A job queued in the same transaction (`create --first`).
    pub first_job: Option<NewJob>,
    /// The assignments it waits for (`create --after`): it starts `deferred` and becomes
    /// `active` once every one of them is complete.
    pub after: Vec<String>,
}

/// What `insert-job` (and the engine) stores.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub job_type: JobType,
    pub harness: String,
    pub context: String,
    pub max_attempts: u32,
    /// Place it right after this job of the same assignment; `None` appends to the chain.
    pub after: Option<String>,
    /// On a `pm` job: the job it reviews.
    pub for_job_id: Option<String>,
    /// `--continue`/`--fork`: the earlier job whose agent session this one carries on.
    pub session: Option<SessionSource>,
    /// `--model`: passed to the harness's own model flag.
    pub model: Option<String>,
    /// `--effort`: passed to the harness's own effort setting.
    pub effort: Option<String>,
}

/// Which earlier job's session a new job carries on, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSource {
    /// [`SessionMode::Continued`] or [`SessionMode::Forked`].
    pub mode: SessionMode,
    pub job_id: String,
}

/// A change a person or agent asks for with `update-assignment`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssignmentUpdate {
    pub status: Option<AssignmentStatus>,
    /// Why it is blocked (required with `blocked`).
    pub reason: Option<String>,
    /// A note for the PM when resuming.
    pub note: Option<String>,
    pub max_jobs: Option<u32>,
    pub budget_usd: Option<f64>,
    pub budget_tokens: Option<i64>,
}

/// What the engine needs to queue jobs on its own (a resume's PM job, a retry's copy).
#[derive(Debug, Clone, PartialEq)]
pub struct JobDefaults {
    pub pm_harness: String,
    pub max_attempts: u32,
    /// `host_gone_ms`: a resume is refused when the assignment's host has been gone this long
    /// and nothing it committed is on a remote (the claim would block it again at once).
    pub host_gone_ms: u64,
}

impl NewAssignment {
    /// An assignment with the config's defaults: its namespace, job limit and checkout; no
    /// budget, no base, no first job.
    pub fn with_defaults(config: &Config, north_star: impl Into<String>) -> NewAssignment {
        NewAssignment {
            namespace: config.namespace.clone(),
            north_star: north_star.into(),
            max_jobs: config.max_jobs_per_assignment,
            budget_usd: None,
            budget_tokens: None,
            origin_root: Some(config.repo_root.display().to_string()),
            base_ref: None,
            base_branch: None,
            context: String::new(),
            first_job: None,
            after: Vec::new(),
        }
    }

    /// The rules a new assignment (and its first job) must meet before anything is stored.
    pub fn validate(&self) -> Result<(), RequestError> {
        if self.north_star.trim().is_empty() {
            return Err(RequestError::EmptyNorthStar);
        }
        check_text(Field::NorthStar, &self.north_star, CONTEXT_LIMIT_BYTES)?;
        check_text(Field::Context, &self.context, CONTEXT_LIMIT_BYTES)?;
        check_text(Field::Namespace, &self.namespace, NAME_LIMIT_BYTES)?;
        if let Some(base) = &self.base_ref {
            check_text(Field::BaseRef, base, NAME_LIMIT_BYTES)?;
        }
        check_count(Field::MaxJobs, self.max_jobs)?;
        if let Some(budget) = self.budget_usd {
            check_amount(Field::BudgetUsd, budget)?;
        }
        if self.after.len() > crate::engine::deferral::MAX_PARENTS {
            return Err(RequestError::TooLarge {
                field: Field::After,
                max: crate::engine::deferral::MAX_PARENTS as u64,
            });
        }
        for parent in &self.after {
            check_text(Field::After, parent, NAME_LIMIT_BYTES)?;
        }
        if let Some(budget) = self.budget_tokens {
            check_tokens(Field::BudgetTokens, budget)?;
        }
        match &self.first_job {
            Some(job) => job.validate(),
            None => Ok(()),
        }
    }
}

impl NewJob {
    /// A job with the config's defaults: the harness given (which must be configured) or the
    /// job type's default, and the configured attempts; appended to the chain.
    pub fn with_defaults(
        config: &Config,
        job_type: JobType,
        harness: Option<String>,
        context: impl Into<String>,
    ) -> Result<NewJob> {
        let harness = match harness {
            Some(h) => {
                config.check_harness(&h)?;
                h
            }
            None => config.default_harness(job_type).to_string(),
        };
        Ok(NewJob {
            job_type,
            harness,
            context: context.into(),
            max_attempts: config.max_attempts,
            after: None,
            for_job_id: None,
            session: None,
            model: None,
            effort: None,
        })
    }

    /// A fresh copy of `job` for `retry-job`: placed after the last job of its `chain` that is no
    /// longer pending ([`crate::engine::retry_copy`]), or (`by_pm`) after the PM job that asked,
    /// like any PM insert. The copy of a continuation carries on the same source session; one
    /// that fell back to a fresh session is copied as fresh.
    pub fn retry_of(
        job: &crate::model::Job,
        chain: &[crate::model::Job],
        by_pm: bool,
        defaults: &JobDefaults,
    ) -> NewJob {
        NewJob {
            job_type: job.job_type,
            harness: job.harness.clone(),
            context: job.context.clone(),
            max_attempts: defaults.max_attempts,
            after: if by_pm {
                None
            } else {
                crate::engine::retry_copy::place_after(chain).or_else(|| Some(job.id.clone()))
            },
            for_job_id: job.for_job_id.clone(),
            session: job
                .session_source_job_id
                .clone()
                .filter(|_| job.session_mode != crate::model::SessionMode::Fresh)
                .map(|job_id| SessionSource { mode: job.session_mode, job_id }),
            model: job.model.clone(),
            effort: job.effort.clone(),
        }
    }

    /// The rules a new job must meet before it is stored.
    pub fn validate(&self) -> Result<(), RequestError> {
        check_count(Field::MaxAttempts, self.max_attempts)?;
        check_text(Field::Harness, &self.harness, NAME_LIMIT_BYTES)?;
        for (field, id) in [(Field::After, &self.after), (Field::ForJobId, &self.for_job_id)] {
            if let Some(id) = id {
                check_text(field, id, NAME_LIMIT_BYTES)?;
            }
        }
        check_text(Field::Context, &self.context, CONTEXT_LIMIT_BYTES)
    }
}

impl AssignmentUpdate {
    /// The rules an update must meet whatever the assignment's state; the rest (transitions,
    /// guards) is [`crate::lifecycle::plan_assignment_update`]'s.
    pub fn validate(&self) -> Result<(), RequestError> {
        for (field, text) in [(Field::Reason, &self.reason), (Field::Note, &self.note)] {
            if let Some(text) = text {
                check_text(field, text, CONTEXT_LIMIT_BYTES)?;
            }
        }
        if self.status.is_none() && !self.changes_guards() {
            return Err(RequestError::NothingToUpdate);
        }
        if let Some(max) = self.max_jobs {
            check_count(Field::MaxJobs, max)?;
        }
        if let Some(budget) = self.budget_usd {
            check_amount(Field::BudgetUsd, budget)?;
        }
        if let Some(budget) = self.budget_tokens {
            check_tokens(Field::BudgetTokens, budget)?;
        }
        if self.reason.is_some() && self.status != Some(AssignmentStatus::Blocked) {
            return Err(RequestError::ReasonWithoutBlocked);
        }
        if self.note.is_some() && self.status != Some(AssignmentStatus::Active) {
            return Err(RequestError::NoteWithoutResume);
        }
        if self.status == Some(AssignmentStatus::Blocked) && self.reason.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(RequestError::ReasonRequired);
        }
        Ok(())
    }
}

impl AssignmentUpdate {
    /// Does it change a guard (the job limit or a budget)? Only a person may.
    pub fn changes_guards(&self) -> bool {
        self.max_jobs.is_some() || self.budget_usd.is_some() || self.budget_tokens.is_some()
    }
}

impl JobDefaults {
    /// The config's PM harness and attempts.
    pub fn from_config(config: &Config) -> JobDefaults {
        JobDefaults {
            pm_harness: config.default_harness(JobType::Pm).to_string(),
            max_attempts: config.max_attempts,
            host_gone_ms: config.host_gone_ms,
        }
    }
}

/// What a dollar amount must be, for callers that check one as it is typed (`--budget-usd`).
pub const AMOUNT_RULE: &str = "must be a positive amount in dollars, e.g. 5 or 12.50";

/// Is `v` an amount of dollars a guard can hold?
pub fn is_amount(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

fn check_amount(field: Field, v: f64) -> Result<(), RequestError> {
    if is_amount(v) {
        Ok(())
    } else {
        Err(RequestError::NotAnAmount(field))
    }
}

/// What a token budget must be, for callers that check one as it is typed (`--budget-tokens`).
pub const TOKENS_RULE: &str = "must be a whole number of tokens above 0, e.g. 2000000";

fn check_tokens(field: Field, n: i64) -> Result<(), RequestError> {
    if n > 0 {
        Ok(())
    } else {
        Err(RequestError::NotTokens(field))
    }
}

fn check_count(field: Field, n: u32) -> Result<(), RequestError> {
    let max = match field {
        Field::MaxAttempts => crate::config::ranges::MAX_ATTEMPTS.max,
        _ => crate::config::ranges::MAX_JOBS.max,
    };
    if n == 0 {
        Err(RequestError::BelowOne(field))
    } else if u64::from(n) > max {
        Err(RequestError::TooLarge { field, max })
    } else {
        Ok(())
    }
}

/// The most a job's context (or a north star) may hold: 1 MiB, more than any argument list can
/// carry (hence `--context-file`), and small enough that a JSON body of it stays under the HTTP
/// API's 8 MiB limit however it is escaped.
pub const CONTEXT_LIMIT_BYTES: usize = 1 << 20;

/// The most a name or id (a harness, a job id, a git ref) may hold.
pub const NAME_LIMIT_BYTES: usize = 4096;

/// Text that is stored and handed to agents: no NUL bytes (no C string, shell or prompt carries
/// them intact), at most `limit` bytes.
fn check_text(field: Field, text: &str, limit: usize) -> Result<(), RequestError> {
    if text.contains('\0') {
        return Err(RequestError::NulByte(field));
    }
    if text.len() > limit {
        return Err(RequestError::TooLong { field, limit, len: text.len() });
    }
    Ok(())
}

/// A field of a request, named by [`Field::as_str`] as the request (and the HTTP API) spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    NorthStar,
    MaxJobs,
    BudgetUsd,
    BudgetTokens,
    MaxAttempts,
    Status,
    Reason,
    Note,
    Context,
    Harness,
    After,
    ForJobId,
    Namespace,
    BaseRef,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::NorthStar => "north_star",
            Field::MaxJobs => "max_jobs",
            Field::BudgetUsd => "budget_usd",
            Field::BudgetTokens => "budget_tokens",
            Field::MaxAttempts => "max_attempts",
            Field::Status => "status",
            Field::Reason => "reason",
            Field::Note => "note",
            Field::Context => "context",
            Field::Harness => "harness",
            Field::After => "after",
            Field::ForJobId => "for_job_id",
            Field::Namespace => "namespace",
            Field::BaseRef => "base",
        }
    }
}

/// Why a request is refused before anything is read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestError {
    EmptyNorthStar,
    /// A count (a limit, attempts) of zero.
    BelowOne(Field),
    /// A count over its most.
    TooLarge {
        field: Field,
        max: u64,
    },
    /// A dollar amount that is not positive.
    NotAnAmount(Field),
    /// A token count that is not positive.
    NotTokens(Field),
    NothingToUpdate,
    ReasonRequired,
    ReasonWithoutBlocked,
    NoteWithoutResume,
    /// Text holding a NUL byte.
    NulByte(Field),
    /// Text over its limit.
    TooLong {
        field: Field,
        limit: usize,
        len: usize,
    },
}

impl RequestError {
    /// The message, with each field called by `name` (the CLI passes its flags).
    pub fn describe(&self, name: impl Fn(Field) -> Cow<'static, str>) -> String {
        use Field::*;
        let n = |f: Field| name(f);
        match *self {
            RequestError::EmptyNorthStar => {
                format!("{} is empty; say what the assignment should achieve, e.g. \"Add OAuth login\"", n(NorthStar))
            }
            RequestError::BelowOne(f) => format!("{} must be at least 1", n(f)),
            RequestError::TooLarge { field, max } => format!("{} must be 1 to {max}", n(field)),
            RequestError::NotAnAmount(f) => format!("{} {AMOUNT_RULE}", n(f)),
            RequestError::NotTokens(f) => format!("{} {TOKENS_RULE}", n(f)),
            RequestError::NothingToUpdate => {
                format!(
                    "nothing to update; pass {}, {}, {} or {}",
                    n(Status),
                    n(MaxJobs),
                    n(BudgetUsd),
                    n(BudgetTokens)
                )
            }
            RequestError::ReasonRequired => format!(
                "{} blocked needs {} (why it is blocked), so the person who resumes it knows what is needed",
                n(Status),
                n(Reason)
            ),
            RequestError::ReasonWithoutBlocked => format!(
                "{} goes with {} blocked; to leave a note for the PM when resuming use {}",
                n(Reason),
                n(Status),
                n(Note)
            ),
            RequestError::NoteWithoutResume => {
                format!("{} goes with {} active (a resume); it is handed to the PM", n(Note), n(Status))
            }
            RequestError::NulByte(f) => format!("{} contains a NUL byte; remove it (text only)", n(f)),
            RequestError::TooLong { field, limit, len } => format!(
                "{} is {len} bytes, over the limit of {limit} bytes{}; put the detail in a file in the \
                 repository and refer to it",
                n(field),
                if limit >= 1 << 20 { format!(" ({} MiB)", limit >> 20) } else { String::new() }
            ),
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(|field| field.as_str().into()))
    }
}

impl std::error::Error for RequestError {}

pub mod schedule;
pub mod session;

#[cfg(test)]
mod tests;
