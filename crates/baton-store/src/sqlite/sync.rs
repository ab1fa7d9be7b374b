//! Runners on several hosts: the commits pushed to the `[sync]` remote, and what a claim does
//! with assignments stranded on a host whose runners are gone (the rule is
//! [`engine::host_gone`]: moved to the claiming host from the pushed commit, or blocked).

use super::{assignments, rows, runners, Context};
use baton_core::engine::{self, HostGone, Stranded};
use baton_core::store::BranchSync;
use baton_core::time::Millis;
use baton_core::{Actor, Result};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;

/// Records the commit an attempt pushed, on its job and its assignment, while `token` holds the
/// job; `false` (writing nothing) otherwise.
pub fn record_push(conn: &Connection, job_id: &str, token: i64, commit: &str, now: Millis) -> Result<bool> {
    if !runners::holds_lease(conn, job_id, token, now)? {
        return Ok(false);
    }
    conn.prepare_cached("UPDATE jobs SET pushed_commit = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![job_id, commit]))
        .ctx("recording a pushed commit")?;
    conn.prepare_cached(
        "UPDATE assignments SET pushed_commit = ?2 WHERE id = (SELECT assignment_id FROM jobs WHERE id = ?1)",
    )
    .and_then(|mut s| s.execute(params![job_id, commit]))
    .ctx("recording a pushed commit")?;
    Ok(true)
}

/// The latest commit an assignment's jobs recorded on its branch, else its base (`a` is the
/// assignment).
const LAST_HEAD: &str = "COALESCE((SELECT j.git_head_after FROM jobs j WHERE j.assignment_id = a.id \
     AND j.git_head_after IS NOT NULL ORDER BY j.started_at DESC, j.position DESC LIMIT 1), a.base_commit)";

/// `baton queue`'s branch sync state of the assignments `ids` (a JSON array) that have a host.
pub fn branches(conn: &Connection, ids: &str) -> Result<BTreeMap<String, BranchSync>> {
    conn.prepare_cached(&format!(
        "SELECT a.id, {LAST_HEAD}, a.pushed_commit FROM assignments a \
         WHERE a.id IN (SELECT value FROM json_each(?1)) AND a.host IS NOT NULL"
    ))
    .and_then(|mut s| s.query_map(params![ids], |r| Ok((r.get(0)?, BranchSync::new(r.get(1)?, r.get(2)?))))?.collect())
    .ctx("reading assignments' branch sync")
}

/// What [`Row::read`] reads of an assignment `a`: its host, when a runner there last heartbeat,
/// its base, last recorded head and pushed commit, and its next job if an attempt of it ran.
fn stranded_columns() -> String {
    format!(
        "a.id, a.host, (SELECT MAX(r.heartbeat_at) FROM runners r WHERE r.namespace = a.namespace \
           AND r.host = a.host), a.base_commit, {LAST_HEAD}, a.pushed_commit, \
         (SELECT j.id FROM jobs j WHERE j.assignment_id = a.id AND j.status = 'pending' AND j.attempts > 0 \
           ORDER BY j.position LIMIT 1)"
    )
}

/// One stranded assignment as read for [`engine::host_gone`].
struct Row {
    id: String,
    host: String,
    last_seen: Option<Millis>,
    base: Option<String>,
    last_head: Option<String>,
    pushed: Option<String>,
    interrupted_job: Option<String>,
}

impl Row {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
        Ok(Row {
            id: r.get(0)?,
            host: r.get(1)?,
            last_seen: r.get(2)?,
            base: r.get(3)?,
            last_head: r.get(4)?,
            pushed: r.get(5)?,
            interrupted_job: r.get(6)?,
        })
    }

    fn stranded(&self) -> Stranded<'_> {
        Stranded {
            assignment_id: &self.id,
            host: &self.host,
            last_seen: self.last_seen,
            base: self.base.as_deref(),
            last_head: self.last_head.as_deref(),
            pushed: self.pushed.as_deref(),
            interrupted_job: self.interrupted_job.as_deref(),
        }
    }
}

/// Refuses to resume assignment `id` when that would only block it again at once
/// ([`engine::check_resume`]); an assignment with no host yet always may.
pub fn check_resume(conn: &Connection, id: &str, gone_ms: u64, now: Millis) -> Result<()> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {} FROM assignments a WHERE a.id = ?1 AND a.host IS NOT NULL",
            stranded_columns()
        ))
        .and_then(|mut s| s.query_row(params![id], Row::read).optional())
        .ctx("checking the host of an assignment to resume")?;
    row.map_or(Ok(()), |row| engine::check_resume(&row.stranded(), now, gone_ms))
}

/// Active assignments with work waiting on another host than `here` whose runners have all been
/// gone longer than `gone_ms`: moved to `here` when `takeover` allows and their last commit was
/// pushed, else blocked for a person.
pub fn settle_stranded(
    conn: &Connection,
    ns: &str,
    here: &str,
    takeover: bool,
    gone_ms: u64,
    now: Millis,
) -> Result<()> {
    // Two ranges of `assignments_hosted_active` around `here`: with `<>`, every assignment this
    // host holds (in one-host setups, all active ones) would be read to find none.
    let side = |range: &str| {
        format!(
            "SELECT {} FROM assignments a INDEXED BY assignments_hosted_active \
             WHERE a.namespace = ?1 AND a.status = 'active' AND a.host IS NOT NULL AND a.host {range} ?2 \
             AND EXISTS (SELECT 1 FROM jobs j WHERE j.assignment_id = a.id AND j.status = 'pending')",
            stranded_columns()
        )
    };
    let stranded: Vec<Row> = conn
        .prepare_cached(&format!("{} UNION ALL {}", side("<"), side(">")))
        .and_then(|mut s| s.query_map(params![ns, here], Row::read)?.collect())
        .ctx("finding assignments waiting for another host")?;
    for row in stranded {
        match engine::host_gone(&row.stranded(), here, takeover, now, gone_ms) {
            HostGone::Wait => {}
            HostGone::Block(reason) => assignments::block(conn, &row.id, &reason, now)?,
            HostGone::Move { action, reason, .. } => {
                // The new host creates its own worktree from the pushed commit on its first job.
                conn.prepare_cached("UPDATE assignments SET host = ?2, worktree = NULL, updated_at = ?3 WHERE id = ?1")
                    .and_then(|mut s| s.execute(params![row.id, here, now]))
                    .ctx("moving an assignment to another host")?;
                rows::record(conn, &row.id, None, now, &Actor::Engine, &action, reason.as_deref())?;
            }
        }
    }
    Ok(())
}
