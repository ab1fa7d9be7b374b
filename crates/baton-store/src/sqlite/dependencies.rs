//! Assignments that wait for others (`create --after`): finding and linking the parents at
//! create, and applying the engine's [`deferral`] decisions when a parent completes or is
//! cancelled — in the transaction that makes that change, so a child starts (or is blocked) the
//! moment its parent ends, and every runner is woken by the same commit.

use super::rows::{self, ASSIGNMENT_COLUMNS};
use super::{assignments, Context};
use baton_core::engine::deferral::{self, Activation, Deferral, Parent};
use baton_core::time::Millis;
use baton_core::{Actor, Assignment, AssignmentLink, Error, Result};
use rusqlite::{params, Connection, OptionalExtension};

/// The parents `--after` names, found in `ns` (each once, in the order given). An id of another
/// namespace is not found; a job id is refused with what to pass instead.
pub fn resolve(conn: &Connection, ns: &str, ids: &[String]) -> Result<Vec<Assignment>> {
    let mut found: Vec<Assignment> = Vec::new();
    for id in ids.iter().map(|id| id.trim()) {
        if found.iter().any(|a| a.id == id) {
            continue;
        }
        match assignments::load(conn, ns, id) {
            Ok(a) => found.push(a),
            Err(Error::AssignmentNotFound { .. }) => return Err(not_an_assignment(conn, ns, id)?),
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// Why `id` is no parent: a job id gets a hint; anything else is "not found".
fn not_an_assignment(conn: &Connection, ns: &str, id: &str) -> Result<Error> {
    let job_of: Option<String> = conn
        .prepare_cached("SELECT assignment_id FROM jobs WHERE id = ?1 AND namespace = ?2")
        .and_then(|mut s| s.query_row(params![id, ns], |r| r.get(0)).optional())
        .ctx("looking up a job id")?;
    Ok(match job_of {
        Some(aid) => Error::invalid(format!(
            "{id} is a job id; --after needs an assignment id (that job belongs to assignment {aid})"
        )),
        None => Error::AssignmentNotFound { namespace: ns.to_string(), id: id.to_string() },
    })
}

/// Records that `child` waits for `parents`.
pub fn link(conn: &Connection, child: &str, parents: &[Assignment]) -> Result<()> {
    for (position, parent) in parents.iter().enumerate() {
        conn.prepare_cached("INSERT INTO assignment_parents (child_id, parent_id, position) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![child, parent.id, position as i64]))
            .ctx("linking an assignment to its parents")?;
    }
    Ok(())
}

/// The parents of `id`, in the order they were named.
pub fn parents(conn: &Connection, id: &str) -> Result<Vec<Parent>> {
    Ok(parent_rows(conn, id)?.iter().map(Parent::of).collect())
}

fn parent_rows(conn: &Connection, id: &str) -> Result<Vec<Assignment>> {
    let columns = prefixed(ASSIGNMENT_COLUMNS, "a.");
    conn.prepare_cached(&format!(
        "SELECT {columns} FROM assignment_parents p JOIN assignments a ON a.id = p.parent_id \
         WHERE p.child_id = ?1 ORDER BY p.position"
    ))
    .and_then(|mut s| s.query_map(params![id], rows::assignment)?.collect())
    .ctx("reading an assignment's parents")
}

fn child_rows(conn: &Connection, id: &str) -> Result<Vec<Assignment>> {
    let columns = prefixed(ASSIGNMENT_COLUMNS, "a.");
    conn.prepare_cached(&format!(
        "SELECT {columns} FROM assignment_parents p JOIN assignments a ON a.id = p.child_id \
         WHERE p.parent_id = ?1 ORDER BY a.created_at, a.id"
    ))
    .and_then(|mut s| s.query_map(params![id], rows::assignment)?.collect())
    .ctx("reading an assignment's children")
}

/// `baton assignment`'s `parents` and `children`.
pub fn links(conn: &Connection, id: &str) -> Result<(Vec<AssignmentLink>, Vec<AssignmentLink>)> {
    let link = |a: Assignment| AssignmentLink { id: a.id, status: a.status, north_star: a.north_star };
    Ok((parent_rows(conn, id)?.into_iter().map(link).collect(), child_rows(conn, id)?.into_iter().map(link).collect()))
}

/// Starts a deferred assignment: its branch base (when the engine chose one), when, and why.
pub fn activate(conn: &Connection, id: &str, activation: &Activation, at: Millis) -> Result<()> {
    conn.prepare_cached(
        "UPDATE assignments SET status = 'active', reason = NULL, activated_at = ?2, \
         base_ref = COALESCE(?3, base_ref), updated_at = ?2 WHERE id = ?1",
    )
    .and_then(|mut s| s.execute(params![id, at, activation.base_ref]))
    .ctx("activating an assignment")?;
    rows::record(conn, id, None, at, &Actor::Engine, "status deferred → active", Some(&activation.history))
}

/// Records what a resume's activation decided (the status itself is written by the update).
pub fn record_activation(conn: &Connection, id: &str, activation: &Activation, at: Millis) -> Result<()> {
    conn.prepare_cached("UPDATE assignments SET activated_at = ?2, base_ref = COALESCE(?3, base_ref) WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id, at, activation.base_ref]))
        .ctx("activating an assignment")?;
    Ok(())
}

/// After `parent` became complete or cancelled (in this transaction): keeps its branch head when
/// it completed, and moves each deferred child on as the engine decides.
pub fn parent_ended(conn: &Connection, ns: &str, parent_id: &str, at: Millis) -> Result<()> {
    conn.prepare_cached(
        "UPDATE assignments SET final_head = (SELECT git_head_after FROM jobs WHERE assignment_id = ?1 \
         AND git_head_after IS NOT NULL ORDER BY finished_at DESC, position DESC LIMIT 1) \
         WHERE id = ?1 AND status = 'complete' AND branch IS NOT NULL",
    )
    .and_then(|mut s| s.execute(params![parent_id]))
    .ctx("recording a branch's final head")?;
    let parent = assignments::load(conn, ns, parent_id)?;
    let changed = Parent::of(&parent);
    for child in child_rows(conn, parent_id)? {
        if child.status != baton_core::AssignmentStatus::Deferred {
            continue;
        }
        let parents = parents(conn, &child.id)?;
        match deferral::after_parent_final(&changed, &parents, child.base_ref.as_deref()) {
            Deferral::Wait => {}
            Deferral::Activate(activation) => activate(conn, &child.id, &activation, at)?,
            Deferral::Block(reason) => {
                conn.prepare_cached(
                    "UPDATE assignments SET status = 'blocked', reason = ?2, updated_at = ?3 WHERE id = ?1",
                )
                .and_then(|mut s| s.execute(params![child.id, reason, at]))
                .ctx("blocking an assignment")?;
                rows::record(conn, &child.id, None, at, &Actor::Engine, "status deferred → blocked", Some(&reason))?;
            }
        }
    }
    Ok(())
}

/// `a.id, a.namespace, …`: a column list for a query that joins another table.
fn prefixed(columns: &str, prefix: &str) -> String {
    columns.split(',').map(|c| format!("{prefix}{}", c.trim())).collect::<Vec<_>>().join(", ")
}
