//! Assignment queries and the writes that change an assignment.
//!
//! [`lock`] is the first statement of every write that touches an assignment or its chain: it
//! takes the assignment row `FOR UPDATE`, which serializes writers of one assignment while
//! leaving the others free.

use super::rows::{self, ASSIGNMENT_COLUMNS};
use super::{dependencies, jobs, pg_text, scope, Context, TxResult};
use baton_core::engine::deferral::{self, Deferral, Parent};
use baton_core::engine::{spend, Decision};
use baton_core::lifecycle::{self, AssignmentState, AssignmentUpdate};
use baton_core::scope::Mutation;
use baton_core::store::{AssignmentFilter, JobDefaults, NewAssignment, NewJob, Notification, NotifyEvent, Workspace};
use baton_core::time::Millis;
use baton_core::{ids, Actor, Assignment, AssignmentDetail, AssignmentStatus, Error, JobType};
use sqlx::postgres::PgConnection;

fn not_found(ns: &str, id: &str) -> Error {
    Error::AssignmentNotFound { namespace: ns.to_string(), id: id.to_string() }
}

/// Loads one assignment of a namespace, or says it is not there.
pub async fn load(conn: &mut PgConnection, ns: &str, id: &str) -> TxResult<Assignment> {
    let row = sqlx::query(&format!("SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = $1 AND namespace = $2"))
        .bind(id)
        .bind(ns)
        .fetch_optional(conn)
        .await
        .ctx("reading an assignment")?
        .ok_or_else(|| not_found(ns, id))?;
    rows::assignment(&row).ctx("reading an assignment")
}

/// Locks one assignment of a namespace for this transaction and returns its current state.
pub async fn lock(conn: &mut PgConnection, ns: &str, id: &str) -> TxResult<Assignment> {
    let row = sqlx::query(&format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = $1 AND namespace = $2 FOR UPDATE"
    ))
    .bind(id)
    .bind(ns)
    .fetch_optional(conn)
    .await
    .ctx("locking an assignment")?
    .ok_or_else(|| not_found(ns, id))?;
    rows::assignment(&row).ctx("reading an assignment")
}

pub async fn create(
    conn: &mut PgConnection,
    new: &NewAssignment,
    actor: &Actor,
    at: Millis,
) -> TxResult<AssignmentDetail> {
    new.validate().map_err(Error::from)?;
    scope::check(conn, &new.namespace, actor, Mutation::CreateAssignment, at).await?;
    let north_star = new.north_star.trim();
    let parents = dependencies::resolve(conn, &new.namespace, &new.after).await?;
    let waits = deferral::at_create(&parents.iter().map(Parent::of).collect::<Vec<_>>(), new.base_ref.as_deref())?;
    let status = if waits == Deferral::Wait { AssignmentStatus::Deferred } else { AssignmentStatus::Active };
    // Drawn again while the id is taken (see [`ids`]).
    let mut stored_id = None;
    for _ in 0..ids::MAX_DRAWS {
        let id = ids::new_assignment_id();
        let stored = sqlx::query(
            "INSERT INTO assignments (id, namespace, north_star, status, max_jobs, budget_usd, origin_root, base_ref, \
             created_at, updated_at, base_branch, context, budget_tokens) \
             VALUES ($1, $2, $3, $11, $4, $5, $6, $7, $8, $8, $9, $10, $12) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&id)
        .bind(&new.namespace)
        .bind(pg_text(north_star))
        .bind(rows::int(new.max_jobs))
        .bind(new.budget_usd)
        .bind(new.origin_root.as_deref().map(pg_text))
        .bind(new.base_ref.as_deref().map(pg_text))
        .bind(at)
        .bind(new.base_branch.as_deref().map(pg_text))
        .bind(pg_text(&new.context))
        .bind(status.as_str())
        .bind(new.budget_tokens)
        .execute(&mut *conn)
        .await
        .ctx("creating an assignment")?;
        if stored.rows_affected() > 0 {
            stored_id = Some(id);
            break;
        }
    }
    let id = stored_id.ok_or_else(|| ids::exhausted("creating an assignment"))?;
    rows::record(conn, &id, None, at, actor, "created", None).await?;
    dependencies::link(conn, &id, &parents).await?;
    match &waits {
        Deferral::Wait => {
            let names = parents.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ");
            rows::record(conn, &id, None, at, actor, "deferred", Some(&format!("waiting for {names}"))).await?;
        }
        Deferral::Activate(activation) if !parents.is_empty() => {
            dependencies::record_activation(conn, &id, activation, at).await?;
            rows::record(conn, &id, None, at, &Actor::Engine, "activated", Some(&activation.history)).await?;
        }
        Deferral::Activate(_) | Deferral::Block(_) => {}
    }
    if let Some(first) = &new.first_job {
        // The row was inserted by this transaction: nobody else can see it, no lock needed.
        jobs::insert(conn, &new.namespace, &id, first, actor, at).await?;
    }
    detail(conn, &new.namespace, &id).await
}

pub async fn detail(conn: &mut PgConnection, ns: &str, id: &str) -> TxResult<AssignmentDetail> {
    let assignment = load(conn, ns, id).await?;
    let jobs = jobs::chain(conn, id).await?;
    let history =
        sqlx::query("SELECT at, actor, action, reason, job_id FROM history WHERE assignment_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await
            .ctx("reading history")?;
    let history = rows::all(history, rows::history).ctx("reading history")?;
    let (parents, children) = dependencies::links(conn, id).await?;
    Ok(AssignmentDetail { assignment, parents, children, jobs, history })
}

pub async fn list(conn: &mut PgConnection, ns: &str, filter: &AssignmentFilter) -> TxResult<Vec<Assignment>> {
    let found = sqlx::query(&format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE namespace = $1 AND ($2::text IS NULL OR status = $2) \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind(ns)
    .bind(filter.status.map(|s| s.as_str()))
    .bind(filter.limit.map(i64::from))
    .fetch_all(conn)
    .await
    .ctx("listing assignments")?;
    rows::all(found, rows::assignment).ctx("listing assignments")
}

pub async fn update(
    conn: &mut PgConnection,
    ns: &str,
    id: &str,
    update: &AssignmentUpdate,
    defaults: &JobDefaults,
    actor: &Actor,
    at: Millis,
) -> TxResult<AssignmentDetail> {
    let current = lock(conn, ns, id).await?;
    if update.status.is_some() {
        scope::check(conn, ns, actor, Mutation::ChangeStatus { assignment_id: id }, at).await?;
    }
    if update.changes_guards() {
        scope::check(conn, ns, actor, Mutation::ChangeGuards { assignment_id: id }, at).await?;
    }
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE assignment_id = $1 AND status = 'pending'")
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .ctx("counting pending jobs")?;
    let pending_jobs = u32::try_from(pending).unwrap_or(u32::MAX);
    let parents = dependencies::parents(conn, id).await?;
    let plan = lifecycle::plan_assignment_update(
        AssignmentState { assignment: &current, pending_jobs, parents: &parents },
        update,
    )?;
    if plan.status == AssignmentStatus::Active && current.status != AssignmentStatus::Active {
        super::sync::check_resume(conn, id, defaults.host_gone_ms, at).await?;
    }

    sqlx::query(
        "UPDATE assignments SET status = $2, reason = $3, max_jobs = $4, budget_usd = $5, updated_at = $6, \
         budget_tokens = $7 WHERE id = $1",
    )
    .bind(id)
    .bind(plan.status.as_str())
    .bind(plan.reason.as_deref().map(pg_text))
    .bind(rows::int(plan.max_jobs))
    .bind(plan.budget_usd)
    .bind(at)
    .bind(plan.budget_tokens)
    .execute(&mut *conn)
    .await
    .ctx("updating an assignment")?;
    for (action, reason) in &plan.history {
        rows::record(conn, id, None, at, actor, action, reason.as_deref()).await?;
    }
    if let Some(activation) = &plan.activation {
        dependencies::record_activation(conn, id, activation, at).await?;
    }
    if plan.cancel_open_jobs {
        let why = format!("assignment {}", plan.status);
        jobs::cancel_open(conn, id, &why, actor, at).await?;
    }
    if plan.status.is_final() && plan.status != current.status {
        dependencies::parent_ended(conn, ns, id, at).await?;
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
        jobs::insert(conn, ns, id, &pm, &Actor::Engine, at).await?;
    }
    if update.status.is_some() {
        let decision = Decision::Status { status: plan.status, reason: plan.reason.as_deref() };
        jobs::mark_decided(conn, id, actor, &decision.line()).await?;
    }
    detail(conn, ns, id).await
}

/// Blocks an active assignment on behalf of the engine (guards, a PM that decided nothing).
/// The caller holds the assignment's lock.
pub async fn block(conn: &mut PgConnection, id: &str, reason: &str, at: Millis) -> TxResult<()> {
    let changed = sqlx::query(
        "UPDATE assignments SET status = 'blocked', reason = $2, updated_at = $3 WHERE id = $1 AND status = 'active'",
    )
    .bind(id)
    .bind(pg_text(reason))
    .bind(at)
    .execute(&mut *conn)
    .await
    .ctx("blocking an assignment")?
    .rows_affected();
    if changed > 0 {
        rows::record(conn, id, None, at, &Actor::Engine, "status active → blocked", Some(reason)).await?;
    }
    Ok(())
}

/// Locks assignment `id` unless another transaction holds it, and returns its status; `None`
/// when it is held. The expiry sweeps skip a held assignment rather than wait for it: its holder
/// may be settling that very job, and the next claim looks again.
pub async fn try_lock(conn: &mut PgConnection, id: &str) -> TxResult<Option<String>> {
    sqlx::query_scalar("SELECT status FROM assignments WHERE id = $1 FOR UPDATE SKIP LOCKED")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .ctx("locking an assignment")
}

/// Returns to active, once their UTC day is over, the namespace's assignments blocked only by
/// the daily cap (their reason still the cap's: a person or another block since keeps it). Each
/// resumes exactly once: the update matches the reason it read, so of two runners lifting at
/// once the second finds the row changed. Rows are taken in id order, so two runners lifting at
/// once wait on each other's row locks at most, and never deadlock.
pub async fn lift_daily_caps(conn: &mut PgConnection, ns: &str, at: Millis) -> TxResult<()> {
    let capped: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, reason FROM assignments WHERE namespace = $1 AND status = 'blocked' \
         AND reason LIKE 'the namespace''s daily budget is spent%' ORDER BY id",
    )
    .bind(ns)
    .fetch_all(&mut *conn)
    .await
    .ctx("reading assignments the daily cap blocked")?;
    for (id, reason) in capped {
        if !spend::daily_cap_lifted(Some(&reason), at) {
            continue;
        }
        let changed = sqlx::query(
            "UPDATE assignments SET status = 'active', reason = NULL, updated_at = $3 \
             WHERE id = $1 AND status = 'blocked' AND reason = $2",
        )
        .bind(&id)
        .bind(&reason)
        .bind(at)
        .execute(&mut *conn)
        .await
        .ctx("resuming an assignment the daily cap blocked")?
        .rows_affected();
        if changed > 0 {
            rows::record(conn, &id, None, at, &Actor::Engine, "status blocked → active", Some(spend::DAILY_CAP_LIFTED))
                .await?;
        }
    }
    Ok(())
}

/// Records where an assignment's work lives.
pub async fn set_workspace(conn: &mut PgConnection, ns: &str, id: &str, ws: &Workspace, at: Millis) -> TxResult<()> {
    lock(conn, ns, id).await?;
    sqlx::query(
        "UPDATE assignments SET branch = $2, worktree = $3, host = $4, updated_at = $5, \
         base_commit = COALESCE(base_commit, $6) WHERE id = $1",
    )
    .bind(id)
    .bind(pg_text(&ws.branch))
    .bind(pg_text(&ws.worktree))
    .bind(pg_text(&ws.host))
    .bind(at)
    .bind(ws.base_commit.as_deref().map(pg_text))
    .execute(&mut *conn)
    .await
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
    .await
}

/// Forgets a removed working tree (and its branch, unless kept).
pub async fn clear_workspace(
    conn: &mut PgConnection,
    ns: &str,
    id: &str,
    branch_kept: bool,
    at: Millis,
) -> TxResult<()> {
    lock(conn, ns, id).await?;
    sqlx::query(
        "UPDATE assignments SET worktree = NULL, branch = CASE WHEN $2 THEN branch ELSE NULL END, updated_at = $3 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(branch_kept)
    .bind(at)
    .execute(&mut *conn)
    .await
    .ctx("forgetting a working tree")?;
    let action = if branch_kept { "working tree removed; branch kept" } else { "working tree and branch removed" };
    rows::record(conn, id, None, at, &Actor::Engine, action, None).await
}

/// Takes undelivered notifications; `SKIP LOCKED` lets runners take disjoint batches at once.
pub async fn take_notifications(
    conn: &mut PgConnection,
    ns: &str,
    limit: u32,
    at: Millis,
) -> TxResult<Vec<Notification>> {
    let rows: Vec<(i64, String, Option<String>, String, Millis)> = sqlx::query_as(
        "UPDATE notifications SET taken_at = $3 WHERE id IN \
         (SELECT id FROM notifications WHERE namespace = $1 AND taken_at IS NULL ORDER BY id LIMIT $2 \
          FOR UPDATE SKIP LOCKED) \
         RETURNING id, assignment_id, job_id, event, created_at",
    )
    .bind(ns)
    .bind(i64::from(limit))
    .bind(at)
    .fetch_all(&mut *conn)
    .await
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

pub async fn other_origins(conn: &mut PgConnection, ns: &str, except: &str) -> TxResult<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT origin_root FROM assignments WHERE namespace = $1 AND origin_root IS NOT NULL \
         AND origin_root <> $2 ORDER BY origin_root",
    )
    .bind(ns)
    .bind(except)
    .fetch_all(conn)
    .await
    .ctx("listing checkouts of a namespace")
}

/// Records a person's merge of a complete assignment's branch into `into` at `commit`.
pub async fn record_merge(
    conn: &mut PgConnection,
    ns: &str,
    id: &str,
    commit: &str,
    into: &str,
    actor: &Actor,
    at: Millis,
) -> TxResult<AssignmentDetail> {
    if actor.job_id().is_some() {
        return Err(
            Error::Scope { refusal: "merging is a person's decision: an agent cannot run baton merge".into() }.into()
        );
    }
    let a = lock(conn, ns, id).await?;
    lifecycle::check_merge(&a)?;
    sqlx::query("UPDATE assignments SET merged_commit = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(pg_text(commit))
        .bind(at)
        .execute(&mut *conn)
        .await
        .ctx("recording a merge")?;
    rows::record(conn, id, None, at, actor, &format!("merged into {into}"), Some(commit)).await?;
    detail(conn, ns, id).await
}
