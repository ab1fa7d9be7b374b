//! Applies [`baton_core::scope`] inside write transactions: a change made from inside a job is
//! checked against the job's current claim and type in the same transaction that makes it.

use super::Context;
use baton_core::scope::{self, CallerJob, Mutation};
use baton_core::time::Millis;
use baton_core::{Actor, Error, JobStatus, JobType, Result};
use rusqlite::{params, Connection, OptionalExtension};

/// Refuses `mutation` when `actor` is a job that may not make it; people and the engine pass.
pub fn check(conn: &Connection, ns: &str, actor: &Actor, mutation: Mutation<'_>, now: Millis) -> Result<()> {
    let Actor::Job { id, token } = actor else { return Ok(()) };
    let row: Option<(String, String, String, Option<i64>, Option<Millis>)> = conn
        .prepare_cached(
            "SELECT assignment_id, type, status, lease_token, lease_expires_at FROM jobs WHERE id = ?1 AND namespace = ?2",
        )
        .and_then(|mut s| {
            s.query_row(params![id, ns], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))).optional()
        })
        .ctx("reading the calling job")?;
    let Some((assignment_id, job_type, status, lease_token, lease_expires_at)) = row else {
        return Err(Error::Scope {
            refusal: format!(
                "BATON_JOB_ID={id} is not a job in namespace {ns}; a person running baton should unset BATON_JOB_ID"
            ),
        });
    };
    let status: JobStatus = status.parse()?;
    let caller = CallerJob {
        id: id.clone(),
        assignment_id,
        job_type: job_type.parse::<JobType>()?,
        status,
        holds_lease: status == JobStatus::Running
            && token.is_some()
            && lease_token == *token
            && lease_expires_at.is_some_and(|t| t > now),
        has_token: token.is_some(),
    };
    scope::check(&caller, mutation)
}
