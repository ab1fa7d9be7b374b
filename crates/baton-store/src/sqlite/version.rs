//! Which baton a database belongs to: the release that wrote its schema, and the newest runner
//! protocol that served it (`baton_meta`), so an older baton refuses with the version to run.

use super::Context;
use baton_core::store::{BATON_VERSION, RUNNER_PROTOCOL};
use baton_core::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};

fn get(conn: &Connection, key: &str) -> Option<String> {
    // An older schema has no `baton_meta`: nothing recorded.
    conn.query_row("SELECT value FROM baton_meta WHERE key = ?1", params![key], |r| r.get(0)).optional().ok().flatten()
}

fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO baton_meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )
    .and_then(|mut s| s.execute(params![key, value]))
    .ctx("recording which baton uses the database")
    .map(drop)
}

/// The baton release that wrote the database's schema, if it recorded one.
pub fn schema_writer(conn: &Connection) -> Option<String> {
    get(conn, "schema_written_by")
}

/// Records that this release wrote the schema (after migrating it).
pub fn record_schema_writer(conn: &Connection) -> Result<()> {
    set(conn, "schema_written_by", BATON_VERSION)
}

/// Refuses a runner older than the newest runner protocol that served the database; otherwise
/// records this runner's protocol when it is the newest.
pub fn check_protocol(conn: &Connection) -> Result<()> {
    let found = get(conn, "runner_protocol").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    if found > RUNNER_PROTOCOL {
        let written_by = get(conn, "runner_protocol_by");
        return Err(Error::ProtocolTooNew { found, supported: RUNNER_PROTOCOL, written_by });
    }
    if found < RUNNER_PROTOCOL {
        set(conn, "runner_protocol", &RUNNER_PROTOCOL.to_string())?;
        set(conn, "runner_protocol_by", BATON_VERSION)?;
    }
    Ok(())
}
