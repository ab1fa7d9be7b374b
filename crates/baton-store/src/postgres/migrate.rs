//! Schema migrations, applied in order when a store connects.
//!
//! Several processes may connect to a new database at once (a team starting runners): the whole
//! check-and-apply runs in one transaction under a transaction-scoped advisory lock, so one of
//! them migrates and the others wait, then find the schema current. The versions applied are
//! rows of `baton_schema`; a database whose version is newer than this binary knows is refused,
//! because an older baton must not write a schema it does not know; the refusal names the
//! release that wrote it (`baton_meta`).

use super::{sql_message, DB_NOW};
use baton_core::{Error, Result};
use sqlx::postgres::PgConnection;
// Statements without parameters go through the simple query protocol: several per call.
use sqlx::Executor;

/// Every migration, in order; the version after applying `MIGRATIONS[i]` is `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_init.sql"),
    include_str!("../../migrations/postgres/0002_pm_protocol.sql"),
    include_str!("../../migrations/postgres/0003_commits.sql"),
    include_str!("../../migrations/postgres/0004_containment.sql"),
    include_str!("../../migrations/postgres/0005_faults.sql"),
    include_str!("../../migrations/postgres/0006_sessions.sql"),
    include_str!("../../migrations/postgres/0007_spend.sql"),
    include_str!("../../migrations/postgres/0008_budgets.sql"),
    include_str!("../../migrations/postgres/0011_dependencies.sql"),
    include_str!("../../migrations/postgres/0012_sync.sql"),
    include_str!("../../migrations/postgres/0013_maintenance.sql"),
    include_str!("../../migrations/postgres/0015_schedules.sql"),
    include_str!("../../migrations/postgres/0017_storage.sql"),
    include_str!("../../migrations/postgres/0019_stopping.sql"),
    include_str!("../../migrations/postgres/0020_claim_sweeps.sql"),
    include_str!("../../migrations/postgres/0021_prompt_dictionaries.sql"),
    include_str!("../../migrations/postgres/0022_daily_spend.sql"),
];

/// The schema version this baton writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The advisory lock key that serializes migrations ("baton" in ASCII, then 1).
const MIGRATION_LOCK: i64 = 0x6261_746f_6e00_0001;

fn failed(location: &str, step: &str, e: sqlx::Error) -> Error {
    Error::DatabaseOpen { location: location.to_string(), message: format!("{step}: {}", sql_message(&e)) }
}

/// Brings the schema up to date; safe when several processes connect at once.
///
/// A current schema costs one round trip (every CLI call pays it): the version is read without
/// a transaction or the lock. Only a schema that is missing or behind takes the locked path,
/// which reads the version again under the lock before applying anything.
///
/// On an error the caller drops the connection, which ends the open transaction with it.
pub async fn migrate(conn: &mut PgConnection, location: &str) -> Result<()> {
    if current_version(conn).await == Some(SCHEMA_VERSION) {
        return Ok(());
    }
    migrate_locked(conn, location).await
}

/// The applied schema version, in one simple-protocol round trip; `None` when it cannot be
/// read (no `baton_schema` table yet, among others), which the locked path then sorts out.
async fn current_version(conn: &mut PgConnection) -> Option<i64> {
    use sqlx::Row;
    let row = conn.fetch_one("SELECT COALESCE(MAX(version), 0)::bigint FROM baton_schema").await.ok()?;
    row.try_get::<i64, _>(0).ok()
}

/// The check-and-apply under the advisory lock.
async fn migrate_locked(conn: &mut PgConnection, location: &str) -> Result<()> {
    conn.execute("BEGIN").await.map_err(|e| failed(location, "starting the schema check", e))?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(|e| failed(location, "waiting for another process's schema migration", e))?;
    conn.execute("CREATE TABLE IF NOT EXISTS baton_schema (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .await
        .map_err(|e| failed(location, "creating the schema version table", e))?;
    let current: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM baton_schema")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| failed(location, "reading the schema version", e))?;
    if current > SCHEMA_VERSION {
        let written_by = sqlx::query_scalar(super::version::SCHEMA_WRITER_SQL).fetch_optional(&mut *conn).await;
        let written_by = written_by.ok().flatten();
        return Err(Error::SchemaTooNew {
            location: location.to_string(),
            found: current,
            supported: SCHEMA_VERSION,
            written_by,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(current).unwrap_or(0)) {
        let version = index as i64 + 1;
        conn.execute(*sql).await.map_err(|e| failed(location, &format!("applying schema migration {version}"), e))?;
        sqlx::query(&format!("INSERT INTO baton_schema (version, applied_at) VALUES ($1, {DB_NOW})"))
            .bind(version)
            .execute(&mut *conn)
            .await
            .map_err(|e| failed(location, "recording the schema version", e))?;
    }
    if current < SCHEMA_VERSION {
        conn.execute(super::version::record_schema_writer_sql().as_str())
            .await
            .map_err(|e| failed(location, "recording which baton wrote the schema", e))?;
    }
    conn.execute("COMMIT").await.map_err(|e| failed(location, "committing the schema migration", e))?;
    Ok(())
}
