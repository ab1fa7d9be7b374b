//! Runners on several hosts: the commits pushed to the `[sync]` remote, and what a claim does
//! with assignments stranded on a host whose runners are gone (the rule is
//! [`engine::host_gone`]: moved to the claiming host from the pushed commit, or blocked).

use super::{assignments, pg_text, rows, Context, TxResult};
use baton_core::engine::{self, HostGone, Stranded};
use baton_core::store::BranchSync;
use baton_core::time::Millis;
use baton_core::Actor;
use sqlx::postgres::PgConnection;
use std::collections::BTreeMap;

/// Records the commit an attempt pushed, on its job and its assignment, while `token` holds the
/// job; `false` (writing nothing) otherwise.
pub async fn record_push(
    conn: &mut PgConnection,
    job_id: &str,
    token: i64,
    commit: &str,
    now: Millis,
) -> TxResult<bool> {
    let assignment: Option<String> = sqlx::query_scalar(
        "UPDATE jobs SET pushed_commit = $4 WHERE id = $1 AND lease_token = $2 AND status = 'running' \
         AND lease_expires_at > $3 RETURNING assignment_id",
    )
    .bind(job_id)
    .bind(token)
    .bind(now)
    .bind(pg_text(commit))
    .fetch_optional(&mut *conn)
    .await
    .ctx("recording a pushed commit")?;
    let Some(assignment) = assignment else { return Ok(false) };
    sqlx::query("UPDATE assignments SET pushed_commit = $2 WHERE id = $1")
        .bind(&assignment)
        .bind(pg_text(commit))
        .execute(&mut *conn)
        .await
        .ctx("recording a pushed commit")?;
    Ok(true)
}

/// The latest commit an assignment's jobs recorded on its branch, else its base (`a` is the
/// assignment).
const LAST_HEAD: &str = "COALESCE((SELECT j.git_head_after FROM jobs j WHERE j.assignment_id = a.id \
     AND j.git_head_after IS NOT NULL ORDER BY j.started_at DESC, j.position DESC LIMIT 1), a.base_commit)";

/// The branch sync state of the open assignments of namespace `$1` that have a host, as
/// [`branch_rows`] reads them.
pub fn branches_sql() -> String {
    format!(
        "SELECT a.id, {LAST_HEAD}, a.pushed_commit FROM assignments a \
         WHERE a.namespace = $1 AND a.host IS NOT NULL AND a.status IN ('active', 'blocked')"
    )
}

/// The rows of [`branches_sql`].
pub fn branch_rows(found: &[sqlx::postgres::PgRow]) -> TxResult<BTreeMap<String, BranchSync>> {
    let mut out = BTreeMap::new();
    for row in found {
        let (id, head, pushed): (String, Option<String>, Option<String>) =
            sqlx::FromRow::from_row(row).ctx("reading assignments' branch sync")?;
        out.insert(id, BranchSync::new(head, pushed));
    }
    Ok(out)
}

/// One stranded assignment as read for [`engine::host_gone`]: id, host, when a runner there last
/// heartbeat, base, last recorded head, pushed commit, and its next job if an attempt of it ran.
type Row = (String, String, Option<Millis>, Option<String>, Option<String>, Option<String>, Option<String>);

/// The columns of a [`Row`] of an assignment `a`.
fn stranded_columns() -> String {
    format!(
        "a.id, a.host, (SELECT MAX(r.heartbeat_at) FROM runners r WHERE r.namespace = a.namespace \
           AND r.host = a.host), a.base_commit, {LAST_HEAD}, a.pushed_commit, \
         (SELECT j.id FROM jobs j WHERE j.assignment_id = a.id AND j.status = 'pending' AND j.attempts > 0 \
           ORDER BY j.position LIMIT 1)"
    )
}

fn as_stranded(row: &Row) -> Stranded<'_> {
    let (id, host, last_seen, base, last_head, pushed, interrupted_job) = row;
    Stranded {
        assignment_id: id,
        host,
        last_seen: *last_seen,
        base: base.as_deref(),
        last_head: last_head.as_deref(),
        pushed: pushed.as_deref(),
        interrupted_job: interrupted_job.as_deref(),
    }
}

/// Refuses to resume assignment `id` when that would only block it again at once
/// ([`engine::check_resume`]); an assignment with no host yet always may.
pub async fn check_resume(conn: &mut PgConnection, id: &str, gone_ms: u64, now: Millis) -> TxResult<()> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {} FROM assignments a WHERE a.id = $1 AND a.host IS NOT NULL",
        stranded_columns()
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .ctx("checking the host of an assignment to resume")?;
    match row {
        Some(row) => Ok(engine::check_resume(&as_stranded(&row), now, gone_ms)?),
        None => Ok(()),
    }
}

/// Active assignments with work waiting on another host than `here` whose runners have all been
/// gone longer than `gone_ms`: moved to `here` when `takeover` allows and their last commit was
/// pushed, else blocked for a person. Assignments another transaction holds are looked at next
/// time.
pub async fn settle_stranded(
    conn: &mut PgConnection,
    ns: &str,
    here: &str,
    takeover: bool,
    gone_ms: u64,
    now: Millis,
) -> TxResult<()> {
    let stranded: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {} FROM assignments a WHERE a.namespace = $1 AND a.status = 'active' \
         AND a.host IS NOT NULL AND (a.host < $2 OR a.host > $2) \
         AND EXISTS (SELECT 1 FROM jobs j WHERE j.assignment_id = a.id AND j.status = 'pending') \
         FOR UPDATE OF a SKIP LOCKED",
        stranded_columns()
    ))
    .bind(ns)
    .bind(here)
    .fetch_all(&mut *conn)
    .await
    .ctx("finding assignments waiting for another host")?;
    for row in stranded {
        let id = &row.0;
        match engine::host_gone(&as_stranded(&row), here, takeover, now, gone_ms) {
            HostGone::Wait => {}
            HostGone::Block(reason) => assignments::block(conn, id, &reason, now).await?,
            HostGone::Move { action, reason, .. } => {
                // The new host creates its own worktree from the pushed commit on its first job.
                sqlx::query("UPDATE assignments SET host = $2, worktree = NULL, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(pg_text(here))
                    .bind(now)
                    .execute(&mut *conn)
                    .await
                    .ctx("moving an assignment to another host")?;
                rows::record(conn, id, None, now, &Actor::Engine, &action, reason.as_deref()).await?;
            }
        }
    }
    Ok(())
}
