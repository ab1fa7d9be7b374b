//! Schema migrations, applied in order when a database is opened.
//!
//! The schema version lives in `PRAGMA user_version`. Opening a database whose version is newer
//! than this binary knows is refused: an older baton must not write a schema it does not know,
//! and the refusal names the release that wrote it (`baton_meta`).

use super::Context;
use baton_core::{Error, Result};
use rusqlite::{Connection, TransactionBehavior};

/// Every migration, in order; the version after applying `MIGRATIONS[i]` is `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_pm_protocol.sql"),
    include_str!("../../migrations/sqlite/0003_commits.sql"),
    include_str!("../../migrations/sqlite/0004_containment.sql"),
    include_str!("../../migrations/sqlite/0005_faults.sql"),
    include_str!("../../migrations/sqlite/0006_sessions.sql"),
    include_str!("../../migrations/sqlite/0007_spend.sql"),
    include_str!("../../migrations/sqlite/0008_budgets.sql"),
    include_str!("../../migrations/sqlite/0011_dependencies.sql"),
    include_str!("../../migrations/sqlite/0012_sync.sql"),
    include_str!("../../migrations/sqlite/0013_maintenance.sql"),
    include_str!("../../migrations/sqlite/0014_queue_heads.sql"),
    include_str!("../../migrations/sqlite/0015_schedules.sql"),
    include_str!("../../migrations/sqlite/0017_storage.sql"),
    include_str!("../../migrations/sqlite/0019_stopping.sql"),
    include_str!("../../migrations/sqlite/0020_claim_sweeps.sql"),
    include_str!("../../migrations/sqlite/0021_prompt_dictionaries.sql"),
    include_str!("../../migrations/sqlite/0022_daily_spend.sql"),
    include_str!("../../migrations/sqlite/0023_idle_assignments.sql"),
];

/// The schema version this baton writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn version(conn: &Connection) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0)).ctx("reading the schema version")
}

/// Brings the schema up to date; safe when several processes open a new database at once.
pub fn migrate(conn: &Connection, location: &str) -> Result<()> {
    let current = version(conn)?;
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    check_not_newer(conn, current, location)?;
    // Re-read under the write lock: another process may have migrated meanwhile.
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate).ctx("locking for migration")?;
    let current = version(&tx)?;
    check_not_newer(&tx, current, location)?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql).ctx("applying a schema migration")?;
        tx.pragma_update(None, "user_version", index as i64 + 1).ctx("recording the schema version")?;
    }
    super::version::record_schema_writer(&tx)?;
    tx.commit().ctx("committing the schema migration")
}

fn check_not_newer(conn: &Connection, found: i64, location: &str) -> Result<()> {
    if found > SCHEMA_VERSION {
        let written_by = super::version::schema_writer(conn);
        return Err(Error::SchemaTooNew {
            location: location.to_string(),
            found,
            supported: SCHEMA_VERSION,
            written_by,
        });
    }
    Ok(())
}
