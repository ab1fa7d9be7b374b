//! Applies [`baton_core::scope`] inside write transactions: a change made from inside a job is
//! checked against the job's current claim and type in the same transaction that makes it.

use super::Context;
use baton_core::scope::{self, CallerJob, Mutation};
use baton_core::time::Millis;
use baton_core::{Actor, Error, JobStatus, JobType, Result};
use rusqlite::{params, Connection, OptionalExtension};

/// Refuses `mutation` when `actor` is a job that may not make it; people and the engine pass.
/// Returns the calling job as read, for a job.
pub fn check(
    conn: &Connection,
    ns: &str,
    actor: &Actor,
    mutation: Mutation<'_>,
    now: Millis,
) -> Result<Option<CallerJob>> {
    let Actor::Job { id, token } = actor else { return Ok(None) };
    let row: Option<(String, String, String, bool, Option<String>)> = conn
        .prepare_cached(
            "SELECT assignment_id, type, status, \
             status = 'running' AND lease_token IS ?3 AND COALESCE(lease_expires_at > ?4, 0), decision \
             FROM jobs WHERE id = ?1 AND namespace = ?2",
        )
        .and_then(|mut s| {
            s.query_row(params![id, ns, token, now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .optional()
        })
        .ctx("reading the calling job")?;
    let Some((assignment_id, job_type, status, holds_lease, decision)) = row else {
        return Err(Error::Scope {
            refusal: format!(
                "BATON_JOB_ID={id} is not a job in namespace {ns}; a person running baton should unset BATON_JOB_ID"
            ),
        });
    };
    let caller = CallerJob {
        id: id.clone(),
        assignment_id,
        job_type: job_type.parse::<JobType>()?,
        status: status.parse::<JobStatus>()?,
        holds_lease: holds_lease && token.is_some(),
        has_token: token.is_some(),
        decision,
    };
    scope::check(&caller, mutation)?;
    Ok(Some(caller))
}
