//! Applies [`baton_core::scope`] inside write transactions: a change made from inside a job is
//! checked against the job's current claim (token, status, unexpired lease) and type in the same
//! transaction that makes it.
//!
//! Callers check after locking the assignment they change. For a job acting on its own
//! assignment, that lock is also the one a cancel or a takeover of the job takes, so the lease
//! cannot move between this check and the commit.

use super::{Context, TxResult};
use baton_core::scope::{self, CallerJob, Mutation};
use baton_core::time::Millis;
use baton_core::{Actor, Error, JobStatus, JobType};
use sqlx::postgres::PgConnection;

/// Refuses `mutation` when `actor` is a job that may not make it; people and the engine pass.
/// Returns the calling job as read, for a job.
pub async fn check(
    conn: &mut PgConnection,
    ns: &str,
    actor: &Actor,
    mutation: Mutation<'_>,
    now: Millis,
) -> TxResult<Option<CallerJob>> {
    let Actor::Job { id, token } = actor else { return Ok(None) };
    let row: Option<(String, String, String, bool, Option<String>)> = sqlx::query_as(
        "SELECT assignment_id, type, status, \
         status = 'running' AND lease_token IS NOT DISTINCT FROM $3 AND COALESCE(lease_expires_at > $4, FALSE), \
         decision FROM jobs WHERE id = $1 AND namespace = $2",
    )
    .bind(id)
    .bind(ns)
    .bind(token)
    .bind(now)
    .fetch_optional(conn)
    .await
    .ctx("reading the calling job")?;
    let Some((assignment_id, job_type, status, holds_lease, decision)) = row else {
        return Err(Error::Scope {
            refusal: format!(
                "BATON_JOB_ID={id} is not a job in namespace {ns}; a person running baton should unset BATON_JOB_ID"
            ),
        }
        .into());
    };
    let caller = CallerJob {
        id: id.clone(),
        assignment_id,
        job_type: job_type.parse::<JobType>().map_err(Error::from)?,
        status: status.parse::<JobStatus>().map_err(Error::from)?,
        holds_lease: holds_lease && token.is_some(),
        has_token: token.is_some(),
        decision,
    };
    scope::check(&caller, mutation)?;
    Ok(Some(caller))
}
