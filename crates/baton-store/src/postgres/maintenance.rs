//! The hourly upkeep's rows: who holds a namespace's upkeep on a host, and the disk use it
//! measured there.

use super::{Context, TxResult};
use baton_core::store::DiskUse;
use baton_core::time::Millis;
use sqlx::postgres::PgConnection;
use sqlx::Row;

/// Takes the lease when it is free, expired or already `holder`'s; `true` when `holder` has it.
pub async fn claim(
    conn: &mut PgConnection,
    ns: &str,
    host: &str,
    holder: &str,
    now: Millis,
    ttl_ms: u64,
) -> TxResult<bool> {
    let expires = now.saturating_add(i64::try_from(ttl_ms).unwrap_or(i64::MAX));
    let done = sqlx::query(
        "INSERT INTO maintenance_leases (namespace, host, holder, expires_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (namespace, host) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at \
         WHERE maintenance_leases.holder = EXCLUDED.holder OR maintenance_leases.expires_at <= $5",
    )
    .bind(ns)
    .bind(host)
    .bind(holder)
    .bind(expires)
    .bind(now)
    .execute(&mut *conn)
    .await
    .ctx("claiming the upkeep lease")?;
    Ok(done.rows_affected() > 0)
}

/// The size of the database baton is connected to.
async fn database_bytes(conn: &mut PgConnection) -> TxResult<Option<u64>> {
    let bytes: Option<i64> = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&mut *conn)
        .await
        .ctx("measuring the database")?;
    Ok(bytes.map(|b| b.max(0) as u64))
}

/// Stores `worktrees_bytes` with the database's size, both as measured at `now`.
pub async fn record(
    conn: &mut PgConnection,
    ns: &str,
    host: &str,
    worktrees_bytes: u64,
    now: Millis,
) -> TxResult<DiskUse> {
    let database_bytes = database_bytes(conn).await?;
    let use_ = DiskUse { host: host.to_string(), worktrees_bytes, database_bytes, measured_at: now };
    sqlx::query(
        "INSERT INTO disk_use (namespace, host, worktrees_bytes, database_bytes, measured_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (namespace, host) DO UPDATE SET \
         worktrees_bytes = EXCLUDED.worktrees_bytes, database_bytes = EXCLUDED.database_bytes, \
         measured_at = EXCLUDED.measured_at",
    )
    .bind(ns)
    .bind(&use_.host)
    .bind(i64::try_from(use_.worktrees_bytes).unwrap_or(i64::MAX))
    .bind(use_.database_bytes.map(|b| i64::try_from(b).unwrap_or(i64::MAX)))
    .bind(use_.measured_at)
    .execute(&mut *conn)
    .await
    .ctx("storing disk use")?;
    Ok(use_)
}

pub async fn list(conn: &mut PgConnection, ns: &str) -> TxResult<Vec<DiskUse>> {
    let rows = sqlx::query(
        "SELECT host, worktrees_bytes, database_bytes, measured_at FROM disk_use WHERE namespace = $1 ORDER BY host",
    )
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("reading disk use")?;
    rows.iter()
        .map(|r| {
            Ok(DiskUse {
                host: r.try_get(0).ctx("reading disk use")?,
                worktrees_bytes: r.try_get::<i64, _>(1).ctx("reading disk use")?.max(0) as u64,
                database_bytes: r.try_get::<Option<i64>, _>(2).ctx("reading disk use")?.map(|b| b.max(0) as u64),
                measured_at: r.try_get(3).ctx("reading disk use")?,
            })
        })
        .collect()
}
