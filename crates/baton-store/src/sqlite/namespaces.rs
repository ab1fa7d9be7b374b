//! `baton namespaces`: every namespace of the database with its assignment and job counts, read
//! from the trigger-kept `status_counts` (no scan of the jobs a namespace accumulates).

use super::Context;
use baton_core::store::NamespaceCount;
use baton_core::Result;
use rusqlite::Connection;

pub fn list(conn: &Connection) -> Result<Vec<NamespaceCount>> {
    let rows: Vec<(String, i64, i64)> = conn
        .prepare_cached(
            "SELECT namespace, SUM(CASE WHEN entity = 'assignment' THEN n ELSE 0 END), \
             SUM(CASE WHEN entity = 'job' THEN n ELSE 0 END) FROM status_counts \
             GROUP BY namespace ORDER BY namespace",
        )
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
        .ctx("listing namespaces")?;
    Ok(rows
        .into_iter()
        .map(|(namespace, a, j)| NamespaceCount {
            namespace,
            assignments: u64::try_from(a).unwrap_or(0),
            jobs: u64::try_from(j).unwrap_or(0),
        })
        .filter(|n| n.assignments > 0 || n.jobs > 0)
        .collect())
}
