//! The figures `/metrics` reports, read from the rows (see [`baton_core::metrics`]).

use super::{Context, TxResult};
use baton_core::metrics::{AttemptCount, JobCount, MetricsSnapshot, SpendRow};
use baton_core::time::Millis;
use sqlx::postgres::PgConnection;

pub async fn snapshot(conn: &mut PgConnection, ns: &str, now: Millis) -> TxResult<MetricsSnapshot> {
    let jobs: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT status, type, COUNT(*) FROM jobs WHERE namespace = $1 GROUP BY status, type")
            .bind(ns)
            .fetch_all(&mut *conn)
            .await
            .ctx("reading metrics")?;
    let assignments: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM assignments WHERE namespace = $1 GROUP BY status")
            .bind(ns)
            .fetch_all(&mut *conn)
            .await
            .ctx("reading metrics")?;
    let attempts: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT a.outcome, a.error_kind, COUNT(*) FROM attempts a JOIN jobs j ON j.id = a.job_id \
         WHERE j.namespace = $1 AND a.outcome <> 'running' GROUP BY a.outcome, a.error_kind",
    )
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("reading metrics")?;
    let lost_leases: i64 =
        sqlx::query_scalar("SELECT COALESCE(SUM(lost_attempts), 0)::bigint FROM jobs WHERE namespace = $1")
            .bind(ns)
            .fetch_one(&mut *conn)
            .await
            .ctx("reading metrics")?;
    let pickup_ms: Vec<i64> = sqlx::query_scalar(
        "SELECT (a.started_at - j.created_at)::bigint FROM attempts a JOIN jobs j ON j.id = a.job_id \
         WHERE j.namespace = $1 AND a.n = 1",
    )
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("reading metrics")?;
    let duration_ms: Vec<i64> = sqlx::query_scalar(
        "SELECT duration_ms::bigint FROM jobs WHERE namespace = $1 AND finished_at IS NOT NULL AND duration_ms IS NOT NULL",
    )
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("reading metrics")?;
    type Spend = (String, Option<String>, Option<String>, i64, i64, i64, i64, f64);
    let spend: Vec<Spend> = sqlx::query_as(
        "SELECT j.harness, a.model, a.cost_source, COALESCE(SUM(a.tokens_in), 0)::bigint, \
         COALESCE(SUM(a.tokens_out), 0)::bigint, COALESCE(SUM(a.cache_read_tokens), 0)::bigint, \
         COALESCE(SUM(a.cache_write_tokens), 0)::bigint, COALESCE(SUM(a.cost_usd), 0)::double precision \
         FROM attempts a JOIN jobs j ON j.id = a.job_id \
         WHERE j.namespace = $1 AND a.outcome <> 'running' GROUP BY j.harness, a.model, a.cost_source",
    )
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("reading metrics")?;
    let pm_decisions: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT decision, COUNT(*) FROM jobs WHERE namespace = $1 AND type = 'pm' \
         AND status IN ('complete', 'failed') GROUP BY decision",
    )
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("reading metrics")?;
    let runners_alive: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM runners WHERE namespace = $1 AND stopped_at IS NULL AND heartbeat_at + lease_ms > $2",
    )
    .bind(ns)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .ctx("reading metrics")?;
    Ok(MetricsSnapshot {
        jobs: jobs.into_iter().map(|(status, job_type, count)| JobCount { status, job_type, count }).collect(),
        assignments,
        attempts: attempts
            .into_iter()
            .map(|(outcome, error_kind, count)| AttemptCount { outcome, error_kind, count })
            .collect(),
        lost_leases,
        pickup_ms,
        duration_ms,
        spend: spend
            .into_iter()
            .map(|(harness, model, cost_source, tokens_in, tokens_out, cache_read, cache_write, cost_usd)| SpendRow {
                harness,
                model,
                cost_source,
                tokens_in,
                tokens_out,
                cache_read_tokens: cache_read,
                cache_write_tokens: cache_write,
                cost_usd,
            })
            .collect(),
        pm_decisions,
        runners_alive,
    })
}
