//! The hourly upkeep's rows: who holds a namespace's upkeep on a host, and the disk use it
//! measured there.

use super::Context;
use baton_core::store::DiskUse;
use baton_core::time::Millis;
use baton_core::Result;
use rusqlite::{params, Connection};
use std::path::Path;

/// Takes the lease when it is free, expired or already `holder`'s; `true` when `holder` has it.
pub fn claim(conn: &Connection, ns: &str, host: &str, holder: &str, now: Millis, ttl_ms: u64) -> Result<bool> {
    let expires = now.saturating_add(i64::try_from(ttl_ms).unwrap_or(i64::MAX));
    let changed = conn
        .prepare_cached(
            "INSERT INTO maintenance_leases (namespace, host, holder, expires_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (namespace, host) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE maintenance_leases.holder = excluded.holder OR maintenance_leases.expires_at <= ?5",
        )
        .and_then(|mut s| s.execute(params![ns, host, holder, expires, now]))
        .ctx("claiming the upkeep lease")?;
    Ok(changed > 0)
}

/// The database file's size with its write-ahead log, from metadata only: opening the file
/// would drop SQLite's POSIX locks when it closed.
pub fn database_bytes(path: &Path) -> Option<u64> {
    let main = std::fs::metadata(path).ok()?.len();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::fs::metadata(Path::new(&wal)).map(|m| m.len()).unwrap_or(0);
    Some(main.saturating_add(wal))
}

pub fn record(conn: &Connection, ns: &str, use_: &DiskUse) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO disk_use (namespace, host, worktrees_bytes, database_bytes, measured_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (namespace, host) DO UPDATE SET \
         worktrees_bytes = excluded.worktrees_bytes, database_bytes = excluded.database_bytes, \
         measured_at = excluded.measured_at",
    )
    .and_then(|mut s| {
        s.execute(params![
            ns,
            use_.host,
            i64::try_from(use_.worktrees_bytes).unwrap_or(i64::MAX),
            use_.database_bytes.map(|b| i64::try_from(b).unwrap_or(i64::MAX)),
            use_.measured_at
        ])
    })
    .ctx("storing disk use")?;
    Ok(())
}

pub fn list(conn: &Connection, ns: &str) -> Result<Vec<DiskUse>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT host, worktrees_bytes, database_bytes, measured_at FROM disk_use WHERE namespace = ?1 ORDER BY host",
        )
        .ctx("reading disk use")?;
    let rows = stmt
        .query_map(params![ns], |r| {
            Ok(DiskUse {
                host: r.get(0)?,
                worktrees_bytes: r.get::<_, i64>(1)?.max(0) as u64,
                database_bytes: r.get::<_, Option<i64>>(2)?.map(|b| b.max(0) as u64),
                measured_at: r.get(3)?,
            })
        })
        .ctx("reading disk use")?;
    let list = rows.collect::<rusqlite::Result<Vec<_>>>().ctx("reading disk use")?;
    Ok(list)
}
