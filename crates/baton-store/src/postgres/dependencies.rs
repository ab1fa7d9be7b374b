//! Assignments that wait for others (`create --after`): finding, locking and linking the
//! parents at create, and applying the engine's [`deferral`] decisions when a parent completes
//! or is cancelled — in the transaction that makes that change, so a child starts (or is
//! blocked) the moment its parent ends and the same `NOTIFY` wakes every runner.
//!
//! Locks: `create` locks the parents (`FOR UPDATE`, in id order), so a parent cannot end between
//! the child's check and its insert; a parent's end holds the parent and then locks its deferred
//! children. A resume locks only the child and reads its parents without locking them: a parent
//! ending at the same moment waits for the child's row and then sees it deferred.

use super::rows::{self, ASSIGNMENT_COLUMNS};
use super::{assignments, pg_text, Context, TxResult};
use baton_core::engine::deferral::{self, Activation, Deferral, Parent};
use baton_core::time::Millis;
use baton_core::{Actor, Assignment, AssignmentLink, AssignmentStatus, Error};
use sqlx::postgres::PgConnection;

/// The parents `--after` names, found and locked in `ns` (each once, in the order given). An id
/// of another namespace is not found; a job id is refused with what to pass instead.
pub async fn resolve(conn: &mut PgConnection, ns: &str, ids: &[String]) -> TxResult<Vec<Assignment>> {
    let mut wanted: Vec<&str> = Vec::new();
    for id in ids.iter().map(|id| id.trim()) {
        if !wanted.contains(&id) {
            wanted.push(id);
        }
    }
    let mut order = wanted.clone();
    order.sort_unstable();
    let mut locked: Vec<Assignment> = Vec::new();
    for id in order {
        match assignments::lock(conn, ns, id).await {
            Ok(a) => locked.push(a),
            Err(super::TxError::Baton(Error::AssignmentNotFound { .. })) => {
                return Err(not_an_assignment(conn, ns, id).await?.into())
            }
            Err(e) => return Err(e),
        }
    }
    Ok(wanted.iter().filter_map(|id| locked.iter().find(|a| a.id == *id).cloned()).collect())
}

/// Why `id` is no parent: a job id gets a hint; anything else is "not found".
async fn not_an_assignment(conn: &mut PgConnection, ns: &str, id: &str) -> TxResult<Error> {
    let job_of: Option<String> = sqlx::query_scalar("SELECT assignment_id FROM jobs WHERE id = $1 AND namespace = $2")
        .bind(id)
        .bind(ns)
        .fetch_optional(&mut *conn)
        .await
        .ctx("looking up a job id")?;
    Ok(match job_of {
        Some(aid) => Error::invalid(format!(
            "{id} is a job id; --after needs an assignment id (that job belongs to assignment {aid})"
        )),
        None => Error::AssignmentNotFound { namespace: ns.to_string(), id: id.to_string() },
    })
}

/// Records that `child` waits for `parents`.
pub async fn link(conn: &mut PgConnection, child: &str, parents: &[Assignment]) -> TxResult<()> {
    for (position, parent) in parents.iter().enumerate() {
        sqlx::query("INSERT INTO assignment_parents (child_id, parent_id, position) VALUES ($1, $2, $3)")
            .bind(child)
            .bind(&parent.id)
            .bind(i32::try_from(position).unwrap_or(i32::MAX))
            .execute(&mut *conn)
            .await
            .ctx("linking an assignment to its parents")?;
    }
    Ok(())
}

/// The parents of `id`, in the order they were named.
pub async fn parents(conn: &mut PgConnection, id: &str) -> TxResult<Vec<Parent>> {
    Ok(parent_rows(conn, id).await?.iter().map(Parent::of).collect())
}

async fn parent_rows(conn: &mut PgConnection, id: &str) -> TxResult<Vec<Assignment>> {
    let columns = prefixed(ASSIGNMENT_COLUMNS, "a.");
    let found = sqlx::query(&format!(
        "SELECT {columns} FROM assignment_parents p JOIN assignments a ON a.id = p.parent_id \
         WHERE p.child_id = $1 ORDER BY p.position"
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .ctx("reading an assignment's parents")?;
    rows::all(found, rows::assignment).ctx("reading an assignment's parents")
}

/// The children of `id`, oldest first; with `lock_deferred`, only the deferred ones, locked.
async fn child_rows(conn: &mut PgConnection, id: &str, lock_deferred: bool) -> TxResult<Vec<Assignment>> {
    let columns = prefixed(ASSIGNMENT_COLUMNS, "a.");
    let tail = if lock_deferred {
        "AND a.status = 'deferred' ORDER BY a.id FOR UPDATE OF a"
    } else {
        "ORDER BY a.created_at, a.id"
    };
    let found = sqlx::query(&format!(
        "SELECT {columns} FROM assignment_parents p JOIN assignments a ON a.id = p.child_id \
         WHERE p.parent_id = $1 {tail}"
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .ctx("reading an assignment's children")?;
    rows::all(found, rows::assignment).ctx("reading an assignment's children")
}

/// `baton assignment`'s `parents` and `children`.
pub async fn links(conn: &mut PgConnection, id: &str) -> TxResult<(Vec<AssignmentLink>, Vec<AssignmentLink>)> {
    let link = |a: Assignment| AssignmentLink { id: a.id, status: a.status, north_star: a.north_star };
    let parents = parent_rows(conn, id).await?.into_iter().map(link).collect();
    let children = child_rows(conn, id, false).await?.into_iter().map(link).collect();
    Ok((parents, children))
}

/// Starts a deferred assignment: its branch base (when the engine chose one), when, and why.
pub async fn activate(conn: &mut PgConnection, id: &str, activation: &Activation, at: Millis) -> TxResult<()> {
    sqlx::query(
        "UPDATE assignments SET status = 'active', reason = NULL, activated_at = $2, \
         base_ref = COALESCE($3, base_ref), updated_at = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(at)
    .bind(activation.base_ref.as_deref().map(pg_text))
    .execute(&mut *conn)
    .await
    .ctx("activating an assignment")?;
    rows::record(conn, id, None, at, &Actor::Engine, "status deferred → active", Some(&activation.history)).await
}

/// Records what a resume's activation decided (the status itself is written by the update).
pub async fn record_activation(conn: &mut PgConnection, id: &str, activation: &Activation, at: Millis) -> TxResult<()> {
    sqlx::query("UPDATE assignments SET activated_at = $2, base_ref = COALESCE($3, base_ref) WHERE id = $1")
        .bind(id)
        .bind(at)
        .bind(activation.base_ref.as_deref().map(pg_text))
        .execute(&mut *conn)
        .await
        .ctx("activating an assignment")?;
    Ok(())
}

/// After `parent` became complete or cancelled (in this transaction, which holds its lock):
/// keeps its branch head when it completed, and moves each deferred child on as the engine
/// decides.
pub async fn parent_ended(conn: &mut PgConnection, ns: &str, parent_id: &str, at: Millis) -> TxResult<()> {
    sqlx::query(
        "UPDATE assignments SET final_head = (SELECT git_head_after FROM jobs WHERE assignment_id = $1 \
         AND git_head_after IS NOT NULL ORDER BY finished_at DESC NULLS LAST, position DESC LIMIT 1) \
         WHERE id = $1 AND status = 'complete' AND branch IS NOT NULL",
    )
    .bind(parent_id)
    .execute(&mut *conn)
    .await
    .ctx("recording a branch's final head")?;
    let changed = Parent::of(&assignments::load(conn, ns, parent_id).await?);
    for child in child_rows(conn, parent_id, true).await? {
        let parents = parents(conn, &child.id).await?;
        match deferral::after_parent_final(&changed, &parents, child.base_ref.as_deref()) {
            Deferral::Wait => {}
            Deferral::Activate(activation) => activate(conn, &child.id, &activation, at).await?,
            Deferral::Block(reason) => {
                sqlx::query("UPDATE assignments SET status = 'blocked', reason = $2, updated_at = $3 WHERE id = $1")
                    .bind(&child.id)
                    .bind(pg_text(&reason))
                    .bind(at)
                    .execute(&mut *conn)
                    .await
                    .ctx("blocking an assignment")?;
                let action = format!("status {} → blocked", AssignmentStatus::Deferred);
                rows::record(conn, &child.id, None, at, &Actor::Engine, &action, Some(&reason)).await?;
            }
        }
    }
    Ok(())
}

/// `a.id, a.namespace, …`: a column list for a query that joins another table.
fn prefixed(columns: &str, prefix: &str) -> String {
    columns.split(',').map(|c| format!("{prefix}{}", c.trim())).collect::<Vec<_>>().join(", ")
}
