//! The storage interface. Every backend (SQLite now, PostgreSQL next) implements [`Store`]; all
//! operations are scoped to one namespace, and an id from another namespace is "not found".
//!
//! Operations that change state apply the rules of [`crate::lifecycle`] inside one write
//! transaction, record history, and wake every process watching the database.

use crate::error::Result;
use crate::lifecycle::AssignmentUpdate;
use crate::model::{
    Actor, Assignment, AssignmentDetail, AssignmentStatus, Job, JobStatus, JobType,
};
use crate::time::Millis;
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;

/// What `create` stores.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAssignment {
    pub namespace: String,
    pub north_star: String,
    pub max_jobs: u32,
    pub budget_usd: Option<f64>,
    /// The checkout it was created from (lets `init` warn about a namespace shared by two paths).
    pub origin_root: Option<String>,
    /// A job queued in the same transaction (`create --first`).
    pub first_job: Option<NewJob>,
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
}

/// What the engine needs to queue jobs on its own (a resume's PM job, a retry's copy).
#[derive(Debug, Clone, PartialEq)]
pub struct JobDefaults {
    pub pm_harness: String,
    pub max_attempts: u32,
}

/// `baton assignments` filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssignmentFilter {
    pub status: Option<AssignmentStatus>,
    /// At most this many, newest first; `None` for all.
    pub limit: Option<u32>,
}

/// `baton jobs` filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    /// One assignment's jobs, in chain order; otherwise newest first.
    pub assignment_id: Option<String>,
    pub limit: Option<u32>,
}

/// `baton queue`: what is waiting, running and stuck in one namespace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueSummary {
    pub namespace: String,
    /// Assignment counts by status (every status present, zeros included).
    pub assignments: BTreeMap<String, u64>,
    /// Job counts by status (every status present, zeros included).
    pub jobs: BTreeMap<String, u64>,
    /// Next jobs that a runner would claim now, oldest assignment first.
    pub ready: Vec<Job>,
    /// Next jobs waiting out a retry back-off.
    pub waiting: Vec<Job>,
    pub running: Vec<Job>,
    /// Assignments waiting for a human, with their reasons.
    pub blocked: Vec<Assignment>,
}

/// The storage backend: one per database, shared by every namespace in it.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates an assignment (and its first job, if given).
    async fn create_assignment(
        &self,
        new: NewAssignment,
        actor: &Actor,
    ) -> Result<AssignmentDetail>;

    /// Adds a job to an assignment's chain, after `new.after` or at the end.
    ///
    /// Refused for final assignments; past the job limit it is refused and the assignment blocked.
    async fn insert_job(
        &self,
        ns: &str,
        assignment_id: &str,
        new: NewJob,
        actor: &Actor,
    ) -> Result<Job>;

    /// One assignment with its chain and history.
    async fn assignment(&self, ns: &str, id: &str) -> Result<AssignmentDetail>;

    /// Assignments, newest first.
    async fn assignments(&self, ns: &str, filter: &AssignmentFilter) -> Result<Vec<Assignment>>;

    /// One job.
    async fn job(&self, ns: &str, id: &str) -> Result<Job>;

    /// Jobs: one assignment's in chain order, or the namespace's newest first.
    async fn jobs(&self, ns: &str, filter: &JobFilter) -> Result<Vec<Job>>;

    /// Counts and the jobs that matter now.
    async fn queue(&self, ns: &str, now: Millis) -> Result<QueueSummary>;

    /// Applies `update-assignment`: status changes, guards, a resume's PM job.
    async fn update_assignment(
        &self,
        ns: &str,
        id: &str,
        update: &AssignmentUpdate,
        defaults: &JobDefaults,
        actor: &Actor,
    ) -> Result<AssignmentDetail>;

    /// Cancels a pending or running job (the runner holding a running one stops its agent).
    async fn cancel_job(&self, ns: &str, id: &str, actor: &Actor) -> Result<Job>;

    /// Queues a fresh copy of a failed or cancelled job right after it.
    async fn retry_job(
        &self,
        ns: &str,
        id: &str,
        defaults: &JobDefaults,
        actor: &Actor,
    ) -> Result<Job>;

    /// The checkouts (other than `except`) that created assignments in this namespace.
    async fn other_origins(&self, ns: &str, except: &str) -> Result<Vec<String>>;
}
