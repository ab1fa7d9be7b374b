//! The figures `/metrics` reports, read from the rows (see [`baton_core::metrics`]).

use super::Context;
use baton_core::metrics::{AttemptCount, JobCount, MetricsSnapshot, SpendRow};
use baton_core::time::Millis;
use baton_core::Result;
use rusqlite::{params, Connection, Row};

fn all<T>(conn: &Connection, sql: &str, ns: &str, f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>) -> Result<Vec<T>> {
    conn.prepare_cached(sql).and_then(|mut s| s.query_map(params![ns], f)?.collect()).ctx("reading metrics")
}

pub fn snapshot(conn: &Connection, ns: &str, now: Millis) -> Result<MetricsSnapshot> {
    let jobs =
        all(conn, "SELECT status, type, COUNT(*) FROM jobs WHERE namespace = ?1 GROUP BY status, type", ns, |r| {
            Ok(JobCount { status: r.get(0)?, job_type: r.get(1)?, count: r.get(2)? })
        })?;
    let assignments =
        all(conn, "SELECT status, COUNT(*) FROM assignments WHERE namespace = ?1 GROUP BY status", ns, |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let attempts = all(
        conn,
        "SELECT a.outcome, a.error_kind, COUNT(*) FROM attempts a JOIN jobs j ON j.id = a.job_id \
         WHERE j.namespace = ?1 AND a.outcome <> 'running' GROUP BY a.outcome, a.error_kind",
        ns,
        |r| Ok(AttemptCount { outcome: r.get(0)?, error_kind: r.get(1)?, count: r.get(2)? }),
    )?;
    let lost_leases =
        all(conn, "SELECT COALESCE(SUM(lost_attempts), 0) FROM jobs WHERE namespace = ?1", ns, |r| r.get::<_, i64>(0))?
            .into_iter()
            .next()
            .unwrap_or(0);
    let pickup_ms = all(
        conn,
        "SELECT a.started_at - j.created_at FROM attempts a JOIN jobs j ON j.id = a.job_id \
         WHERE j.namespace = ?1 AND a.n = 1",
        ns,
        |r| r.get(0),
    )?;
    let duration_ms = all(
        conn,
        "SELECT duration_ms FROM jobs WHERE namespace = ?1 AND finished_at IS NOT NULL AND duration_ms IS NOT NULL",
        ns,
        |r| r.get(0),
    )?;
    let spend = all(
        conn,
        "SELECT j.harness, a.model, a.cost_source, COALESCE(SUM(a.tokens_in), 0), COALESCE(SUM(a.tokens_out), 0), \
         COALESCE(SUM(a.cache_read_tokens), 0), COALESCE(SUM(a.cache_write_tokens), 0), COALESCE(SUM(a.cost_usd), 0.0) \
         FROM attempts a JOIN jobs j ON j.id = a.job_id \
         WHERE j.namespace = ?1 AND a.outcome <> 'running' GROUP BY j.harness, a.model, a.cost_source",
        ns,
        |r| {
            Ok(SpendRow {
                harness: r.get(0)?,
                model: r.get(1)?,
                cost_source: r.get(2)?,
                tokens_in: r.get(3)?,
                tokens_out: r.get(4)?,
                cache_read_tokens: r.get(5)?,
                cache_write_tokens: r.get(6)?,
                cost_usd: r.get(7)?,
            })
        },
    )?;
    let pm_decisions = all(
        conn,
        "SELECT decision, COUNT(*) FROM jobs WHERE namespace = ?1 AND type = 'pm' \
         AND status IN ('complete', 'failed') GROUP BY decision",
        ns,
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let runners_alive: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM runners WHERE namespace = ?1 AND stopped_at IS NULL AND heartbeat_at + lease_ms > ?2",
        )
        .and_then(|mut s| s.query_row(params![ns, now], |r| r.get(0)))
        .ctx("reading metrics")?;
    Ok(MetricsSnapshot {
        jobs,
        assignments,
        attempts,
        lost_leases,
        pickup_ms,
        duration_ms,
        spend,
        pm_decisions,
        runners_alive,
    })
}
