//! Which baton a database belongs to: the release that wrote its schema, and the newest runner
//! protocol that served it (`baton_meta`), so an older baton refuses with the version to run.

use super::{Context, TxResult};
use baton_core::store::{BATON_VERSION, RUNNER_PROTOCOL};
use baton_core::Error;
use sqlx::postgres::PgConnection;

async fn get(conn: &mut PgConnection, key: &str) -> TxResult<Option<String>> {
    sqlx::query_scalar("SELECT value FROM baton_meta WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await
        .ctx("reading which baton uses the database")
}

async fn set(conn: &mut PgConnection, key: &str, value: &str) -> TxResult<()> {
    sqlx::query("INSERT INTO baton_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2")
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await
        .ctx("recording which baton uses the database")
        .map(drop)
}

/// The statement recording that this release wrote the schema (run after migrating it).
pub fn record_schema_writer_sql() -> String {
    format!(
        "INSERT INTO baton_meta (key, value) VALUES ('schema_written_by', '{BATON_VERSION}') \
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
    )
}

/// The query reading which release wrote the schema (fails on a schema without `baton_meta`).
pub const SCHEMA_WRITER_SQL: &str = "SELECT value FROM baton_meta WHERE key = 'schema_written_by'";

/// Refuses a runner older than the newest runner protocol that served the database; otherwise
/// records this runner's protocol when it is the newest.
pub async fn check_protocol(conn: &mut PgConnection) -> TxResult<()> {
    // One runner at a time decides, so two new runners cannot both think they are the first.
    sqlx::query("LOCK TABLE baton_meta IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *conn)
        .await
        .ctx("reading which baton uses the database")?;
    let found = get(conn, "runner_protocol").await?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    if found > RUNNER_PROTOCOL {
        let written_by = get(conn, "runner_protocol_by").await?;
        return Err(Error::ProtocolTooNew { found, supported: RUNNER_PROTOCOL, written_by }.into());
    }
    if found < RUNNER_PROTOCOL {
        set(conn, "runner_protocol", &RUNNER_PROTOCOL.to_string()).await?;
        set(conn, "runner_protocol_by", BATON_VERSION).await?;
    }
    Ok(())
}
