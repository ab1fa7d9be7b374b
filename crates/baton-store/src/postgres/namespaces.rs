//! `baton namespaces`: every namespace of the database with its assignment and job counts. Final
//! statuses come from the trigger-kept `status_counts`, open ones through the status indexes, as
//! for `baton queue`.

use super::{Context, TxResult};
use baton_core::store::NamespaceCount;
use sqlx::postgres::PgConnection;

pub async fn list(conn: &mut PgConnection) -> TxResult<Vec<NamespaceCount>> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT namespace, SUM(a)::BIGINT, SUM(j)::BIGINT FROM ( \
           SELECT namespace, CASE WHEN entity = 'assignment' THEN n ELSE 0 END AS a, \
                  CASE WHEN entity = 'job' THEN n ELSE 0 END AS j FROM status_counts \
           UNION ALL SELECT namespace, COUNT(*), 0 FROM assignments \
             WHERE status IN ('active', 'blocked') GROUP BY namespace \
           UNION ALL SELECT namespace, 0, COUNT(*) FROM jobs \
             WHERE status IN ('pending', 'running') GROUP BY namespace \
         ) counts GROUP BY namespace ORDER BY namespace",
    )
    .fetch_all(conn)
    .await
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
