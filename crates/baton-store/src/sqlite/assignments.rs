//! Assignment queries and the writes that change an assignment.

use super::rows::{self, ASSIGNMENT_COLUMNS};
use super::{dependencies, jobs, scope, Context};
use baton_core::engine::deferral::{self, Deferral, Parent};
use baton_core::engine::{spend, Decision};
use baton_core::lifecycle::{self, AssignmentState, AssignmentUpdate};
use baton_core::scope::Mutation;
use baton_core::store::{AssignmentFilter, JobDefaults, NewAssignment, NewJob, Notification, NotifyEvent, Workspace};
use baton_core::time::Millis;
use baton_core::{ids, Actor, Assignment, AssignmentDetail, AssignmentStatus, Error, JobType, Result};
use rusqlite::{params, Connection, OptionalExtension};

/// Loads one assignment of a namespace, or says it is not there.
pub fn load(conn: &Connection, ns: &str, id: &str) -> Result<Assignment> {
    conn.prepare_cached(&format!("SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = ?1 AND namespace = ?2"))
        .and_then(|mut s| s.query_row(params![id, ns], rows::assignment).optional())
        .ctx("reading an assignment")?
        .ok_or_else(|| Error::AssignmentNotFound { namespace: ns.to_string(), id: id.to_string() })
}

pub fn create(conn: &Connection, new: &NewAssignment, actor: &Actor, at: Millis) -> Result<AssignmentDetail> {
    new.validate()?;
    scope::check(conn, &new.namespace, actor, Mutation::CreateAssignment, at)?;
    let north_star = new.north_star.trim();
    let parents = dependencies::resolve(conn, &new.namespace, &new.after)?;
    let waits = deferral::at_create(&parents.iter().map(Parent::of).collect::<Vec<_>>(), new.base_ref.as_deref())?;
    let status = if waits == Deferral::Wait { AssignmentStatus::Deferred } else { AssignmentStatus::Active };
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO assignments (id, namespace, north_star, status, max_jobs, budget_usd, origin_root, base_ref, \
             created_at, updated_at, base_branch, context, budget_tokens) \
             VALUES (?1, ?2, ?3, ?11, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?12) ON CONFLICT (id) DO NOTHING",
        )
        .ctx("creating an assignment")?;
    let id = ids::insert_unique(ids::new_assignment_id, "creating an assignment", |id| {
        insert
            .execute(params![
                id,
                new.namespace,
                north_star,
                new.max_jobs,
                new.budget_usd,
                new.origin_root,
                new.base_ref,
                at,
                new.base_branch,
                new.context,
                status.as_str(),
                new.budget_tokens
            ])
            .ctx("creating an assignment")
    })?;
    drop(insert);
    rows::record(conn, &id, None, at, actor, "created", None)?;
    dependencies::link(conn, &id, &parents)?;
    match &waits {
        Deferral::Wait => {
            let names = parents.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ");
            rows::record(conn, &id, None, at, actor, "deferred", Some(&format!("waiting for {names}")))?;
        }
        Deferral::Activate(activation) if !parents.is_empty() => {
            dependencies::record_activation(conn, &id, activation, at)?;
            rows::record(conn, &id, None, at, &Actor::Engine, "activated", Some(&activation.history))?;
        }
        Deferral::Activate(_) | Deferral::Block(_) => {}
    }
    if let Some(first) = &new.first_job {
        jobs::insert(conn, &new.namespace, &id, first, actor, at)?;
    }
    detail(conn, &new.namespace, &id)
}

pub fn detail(conn: &Connection, ns: &str, id: &str) -> Result<AssignmentDetail> {
    let assignment = load(conn, ns, id)?;
    let jobs = jobs::chain(conn, id)?;
    let history = conn
        .prepare_cached("SELECT at, actor, action, reason, job_id FROM history WHERE assignment_id = ?1 ORDER BY id")
        .and_then(|mut s| s.query_map(params![id], rows::history)?.collect::<rusqlite::Result<Vec<_>>>())
        .ctx("reading history")?;
    let (parents, children) = dependencies::links(conn, id)?;
    Ok(AssignmentDetail { assignment, parents, children, jobs, history })
}

pub fn list(conn: &Connection, ns: &str, filter: &AssignmentFilter) -> Result<Vec<Assignment>> {
    let limit = filter.limit.map_or(-1, i64::from);
    // One statement per shape: `(?2 IS NULL OR status = ?2)` would hide the status from the
    // planner, which then walks every assignment of the namespace instead of one status's index.
    match filter.status {
        Some(status) => conn
            .prepare_cached(&format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE namespace = ?1 AND status = ?2 \
                 ORDER BY created_at DESC, id DESC LIMIT ?3"
            ))
            .and_then(|mut s| s.query_map(params![ns, status.as_str(), limit], rows::assignment)?.collect()),
        None => conn
            .prepare_cached(&format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE namespace = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2"
            ))
            .and_then(|mut s| s.query_map(params![ns, limit], rows::assignment)?.collect()),
    }
    .ctx("listing assignments")
}

pub fn update(
    conn: &Connection,
    ns: &str,
    id: &str,
    update: &AssignmentUpdate,
    defaults: &JobDefaults,
    actor: &Actor,
    at: Millis,
) -> Result<AssignmentDetail> {
    let current = load(conn, ns, id)?;
    if update.status.is_some() {
        scope::check(conn, ns, actor, Mutation::ChangeStatus { assignment_id: id }, at)?;
    }
    if update.changes_guards() {
        scope::check(conn, ns, actor, Mutation::ChangeGuards { assignment_id: id }, at)?;
    }
    let pending: u32 = conn
        .prepare_cached("SELECT COUNT(*) FROM jobs WHERE assignment_id = ?1 AND status = 'pending'")
        .and_then(|mut s| s.query_row(params![id], |r| r.get(0)))
        .ctx("counting pending jobs")?;
    let parents = dependencies::parents(conn, id)?;
    let plan = lifecycle::plan_assignment_update(
        AssignmentState { assignment: &current, pending_jobs: pending, parents: &parents },
        update,
    )?;
    if plan.status == AssignmentStatus::Active && current.status != AssignmentStatus::Active {
        super::sync::check_resume(conn, id, defaults.host_gone_ms, at)?;
    }

    conn.prepare_cached(
        "UPDATE assignments SET status = ?2, reason = ?3, max_jobs = ?4, budget_usd = ?5, updated_at = ?6, \
         budget_tokens = ?7 WHERE id = ?1",
    )
    .and_then(|mut s| {
        s.execute(params![
            id,
            plan.status.as_str(),
            plan.reason,
            plan.max_jobs,
            plan.budget_usd,
            at,
            plan.budget_tokens
        ])
    })
    .ctx("updating an assignment")?;
    for (action, reason) in &plan.history {
        rows::record(conn, id, None, at, actor, action, reason.as_deref())?;
    }
    if let Some(activation) = &plan.activation {
        dependencies::record_activation(conn, id, activation, at)?;
    }
    if plan.cancel_open_jobs {
        let why = format!("assignment {}", plan.status);
        jobs::cancel_open(conn, id, &why, actor, at)?;
    }
    if plan.status.is_final() && plan.status != current.status {
        dependencies::parent_ended(conn, ns, id, at)?;
    }
    if let Some(context) = &plan.queue_pm {
        let pm = NewJob {
            job_type: JobType::Pm,
            harness: defaults.pm_harness.clone(),
            context: context.clone(),
            max_attempts: defaults.max_attempts,
            after: None,
            for_job_id: None,
            session: None,
            model: None,
            effort: None,
        };
        jobs::insert(conn, ns, id, &pm, &Actor::Engine, at)?;
    }
    if update.status.is_some() {
        let decision = Decision::Status { status: plan.status, reason: plan.reason.as_deref() };
        jobs::mark_decided(conn, id, actor, &decision.line())?;
    }
    detail(conn, ns, id)
}

/// Blocks an active assignment on behalf of the engine (guards, a PM that decided nothing).
pub fn block(conn: &Connection, id: &str, reason: &str, at: Millis) -> Result<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE assignments SET status = 'blocked', reason = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'active'",
        )
        .and_then(|mut s| s.execute(params![id, reason, at]))
        .ctx("blocking an assignment")?;
    if changed > 0 {
        rows::record(conn, id, None, at, &Actor::Engine, "status active → blocked", Some(reason))?;
    }
    Ok(())
}

/// Returns to active, once their UTC day is over, the namespace's assignments blocked only by
/// the daily cap (their reason still the cap's: a person or another block since keeps it). Each
/// resumes exactly once: the update matches the reason it read, and runs in the claim's write.
pub fn lift_daily_caps(conn: &Connection, ns: &str, at: Millis) -> Result<()> {
    let capped: Vec<(String, String)> = conn
        .prepare_cached(
            "SELECT id, reason FROM assignments INDEXED BY assignments_daily_capped \
             WHERE namespace = ?1 AND status = 'blocked' \
             AND reason LIKE 'the namespace''s daily budget is spent%' ORDER BY id",
        )
        .and_then(|mut s| s.query_map(params![ns], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .ctx("reading assignments the daily cap blocked")?;
    for (id, reason) in capped {
        if !spend::daily_cap_lifted(Some(&reason), at) {
            continue;
        }
        let changed = conn
            .prepare_cached(
                "UPDATE assignments SET status = 'active', reason = NULL, updated_at = ?3 \
                 WHERE id = ?1 AND status = 'blocked' AND reason = ?2",
            )
            .and_then(|mut s| s.execute(params![id, reason, at]))
            .ctx("resuming an assignment the daily cap blocked")?;
        if changed > 0 {
            rows::record(
                conn,
                &id,
                None,
                at,
                &Actor::Engine,
                "status blocked → active",
                Some(spend::DAILY_CAP_LIFTED),
            )?;
        }
    }
    Ok(())
}

/// Records where an assignment's work lives.
pub fn set_workspace(conn: &Connection, ns: &str, id: &str, ws: &Workspace, at: Millis) -> Result<()> {
    load(conn, ns, id)?;
    conn.prepare_cached(
        "UPDATE assignments SET branch = ?2, worktree = ?3, host = ?4, updated_at = ?5, \
         base_commit = COALESCE(base_commit, ?6) WHERE id = ?1",
    )
    .and_then(|mut s| s.execute(params![id, ws.branch, ws.worktree, ws.host, at, ws.base_commit]))
    .ctx("recording a working tree")?;
    rows::record(
        conn,
        id,
        None,
        at,
        &Actor::Engine,
        &format!("working tree {} on branch {} (host {})", ws.worktree, ws.branch, ws.host),
        None,
    )
}

/// Forgets a removed working tree (and its branch, unless kept).
pub fn clear_workspace(conn: &Connection, ns: &str, id: &str, branch_kept: bool, at: Millis) -> Result<()> {
    load(conn, ns, id)?;
    conn.prepare_cached(
        "UPDATE assignments SET worktree = NULL, branch = CASE WHEN ?2 THEN branch ELSE NULL END, updated_at = ?3 \
         WHERE id = ?1",
    )
    .and_then(|mut s| s.execute(params![id, branch_kept, at]))
    .ctx("forgetting a working tree")?;
    let action = if branch_kept { "working tree removed; branch kept" } else { "working tree and branch removed" };
    rows::record(conn, id, None, at, &Actor::Engine, action, None)
}

/// Takes undelivered notifications, marking them taken in the same statement.
pub fn take_notifications(conn: &Connection, ns: &str, limit: u32, at: Millis) -> Result<Vec<Notification>> {
    let rows: Vec<(i64, String, Option<String>, String, Millis)> = conn
        .prepare_cached(
            "UPDATE notifications SET taken_at = ?3 WHERE id IN \
             (SELECT id FROM notifications WHERE namespace = ?1 AND taken_at IS NULL ORDER BY id LIMIT ?2) \
             RETURNING id, assignment_id, job_id, event, created_at",
        )
        .and_then(|mut s| {
            s.query_map(params![ns, limit, at], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
                .collect()
        })
        .ctx("taking notifications")?;
    let mut taken: Vec<Notification> = rows
        .into_iter()
        .filter_map(|(id, assignment_id, job_id, event, at)| {
            NotifyEvent::parse(&event).map(|event| Notification { id, assignment_id, job_id, event, at })
        })
        .collect();
    taken.sort_by_key(|n| n.id);
    Ok(taken)
}

pub fn other_origins(conn: &Connection, ns: &str, except: &str) -> Result<Vec<String>> {
    conn.prepare_cached(
        "SELECT DISTINCT origin_root FROM assignments WHERE namespace = ?1 AND origin_root IS NOT NULL \
         AND origin_root <> ?2 ORDER BY origin_root",
    )
    .and_then(|mut s| s.query_map(params![ns, except], |r| r.get(0))?.collect())
    .ctx("listing checkouts of a namespace")
}

/// Records a person's merge of a complete assignment's branch into `into` at `commit`.
pub fn record_merge(
    conn: &Connection,
    ns: &str,
    id: &str,
    commit: &str,
    into: &str,
    actor: &Actor,
    at: Millis,
) -> Result<AssignmentDetail> {
    if actor.job_id().is_some() {
        return Err(Error::Scope { refusal: "merging is a person's decision: an agent cannot run baton merge".into() });
    }
    let a = load(conn, ns, id)?;
    lifecycle::check_merge(&a)?;
    conn.prepare_cached("UPDATE assignments SET merged_commit = ?2, updated_at = ?3 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id, commit, at]))
        .ctx("recording a merge")?;
    rows::record(conn, id, None, at, actor, &format!("merged into {into}"), Some(commit))?;
    detail(conn, ns, id)
}
