//! Assignments: a person's intent (the north star) and the record of what happened to it.

use super::{Actor, AssignmentStatus, Job};
use crate::time::{serde_ms, Millis};
use serde::{Deserialize, Serialize};

/// An assignment as stored, without its jobs and history (list views use this shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Unique id, e.g. `a7k2m9qxp`.
    pub id: String,
    /// The namespace (repository) it belongs to.
    pub namespace: String,
    /// What the person wants; every prompt carries it.
    pub north_star: String,
    pub status: AssignmentStatus,
    /// Why it is blocked; `None` unless blocked.
    pub reason: Option<String>,
    #[serde(with = "serde_ms")]
    pub created_at: Millis,
    #[serde(with = "serde_ms")]
    pub updated_at: Millis,
    /// Job limit guard: inserting past it is refused and blocks the assignment.
    pub max_jobs: u32,
    /// Cost guard: the runner blocks the assignment instead of starting a job once reached.
    pub budget_usd: Option<f64>,
    /// Sum of its jobs' reported cost; `None` while no job reported one.
    pub cost_usd: Option<f64>,
    /// Token guard (`--budget-tokens`): like `budget_usd`, counted in [`Assignment::tokens_spent`].
    #[serde(default)]
    pub budget_tokens: Option<i64>,
    /// What the token guard counts: input + output + cache-write tokens of its jobs, over every
    /// harness (cache reads are left out, being cheap and repeated on every turn); `None` while
    /// no job reported tokens.
    #[serde(default)]
    pub tokens_spent: Option<i64>,
    /// How many jobs it has, in any status (what the job limit counts).
    pub job_count: u32,
    /// The git ref its branch starts from (`create --base`); `None` means the current HEAD.
    pub base_ref: Option<String>,
    /// Its git branch (`baton/<id>`), once its first job ran with worktree isolation.
    pub branch: Option<String>,
    /// Its working tree, once created.
    pub worktree: Option<String>,
    /// The host its working tree lives on; its jobs run only there.
    pub host: Option<String>,
    /// The branch it was based on (the current branch at create, or the branch `--base` names;
    /// `None` for a commit, a tag or a detached HEAD): where `baton merge` brings its work.
    pub base_branch: Option<String>,
    /// The commit its branch started at, once its worktree exists.
    pub base_commit: Option<String>,
    /// The context the person gave at create; every job's prompt shows it.
    pub context: String,
    /// The commit `baton merge` made (or fast-forwarded to), once merged.
    pub merged_commit: Option<String>,
    /// With `[sync]`: the commit of its branch last pushed to the remote (what another host
    /// continues from when this one is gone).
    #[serde(default)]
    pub pushed_commit: Option<String>,
    /// Its branch's head when it completed (its last job's `git_head_after`): where the branch
    /// of an assignment created `--after` it alone starts.
    #[serde(default)]
    pub final_head: Option<String>,
    /// When an assignment created `--after` others left `deferred` for `active`; `None` for one
    /// that never waited, or waits still.
    #[serde(with = "crate::time::serde_ms::option", default)]
    pub activated_at: Option<Millis>,
}

/// Another assignment named by a dependency: a parent (`create --after`) or a child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentLink {
    pub id: String,
    pub status: AssignmentStatus,
    pub north_star: String,
}

/// An assignment with its job chain (in chain order) and its history: `baton assignment <id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentDetail {
    #[serde(flatten)]
    pub assignment: Assignment,
    /// The assignments it waits for (`create --after`), in the order given.
    #[serde(default)]
    pub parents: Vec<AssignmentLink>,
    /// The assignments created `--after` it, oldest first.
    #[serde(default)]
    pub children: Vec<AssignmentLink>,
    pub jobs: Vec<Job>,
    pub history: Vec<HistoryEntry>,
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(with = "serde_ms")]
    pub at: Millis,
    pub actor: Actor,
    /// What happened, e.g. `created`, `job inserted`, `status active → blocked`.
    pub action: String,
    pub reason: Option<String>,
    /// The job the change concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub job_id: Option<String>,
}
