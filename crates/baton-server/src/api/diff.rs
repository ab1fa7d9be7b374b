//! What an assignment produced: `GET /api/assignments/{id}/diff` (its whole change against its
//! base commit) and `GET /api/jobs/{id}/diff` (one job's change), as `baton diff --json`, with
//! the unified diff cut after 5,000 lines for a page; and the git summary `GET
//! /api/assignments/{id}` adds (commits ahead, diff stat, uncommitted work).
//!
//! Git runs where the server runs: an assignment whose worktree is on another host has no diff
//! here (409, saying which host).

use super::error::{ApiError, ApiResult};
use super::{json, Params};
use crate::state::Ctx;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::{Assignment, Job};
use baton_runner::assignment_git::{self, DiffError, Limits, Summary};
use std::collections::HashMap;

type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

/// `GET /api/assignments/{id}/diff`
pub(crate) async fn assignment(State(ctx): State<Ctx>, Path(id): Path<String>, query: QueryMap) -> ApiResult<Response> {
    Params::new(query, &[])?;
    let a = ctx.store().assignment(ctx.ns(), &id).await?.assignment;
    diff(&ctx, &a, None).await
}

/// `GET /api/jobs/{id}/diff`
pub(crate) async fn job(State(ctx): State<Ctx>, Path(id): Path<String>, query: QueryMap) -> ApiResult<Response> {
    Params::new(query, &[])?;
    let job = ctx.store().job(ctx.ns(), &id).await?;
    let a = ctx.store().assignment(ctx.ns(), &job.assignment_id).await?.assignment;
    diff(&ctx, &a, Some(&job)).await
}

async fn diff(ctx: &Ctx, a: &Assignment, job: Option<&Job>) -> ApiResult<Response> {
    let root = &ctx.app.config.repo_root;
    let here = baton_runner::runner::host(&ctx.app.config);
    let range = match job {
        Some(job) => assignment_git::job_range(a, job, root, &here).await,
        None => assignment_git::assignment_range(a, root, &here).await,
    }
    .map_err(refused)?;
    let diff = range.diff(a, job, Limits::SHOWN, false).await.map_err(|e| refused(e.into()))?;
    json(StatusCode::OK, &diff)
}

/// The git figures of one assignment, computed on this host.
pub(crate) async fn summary(ctx: &Ctx, a: &Assignment) -> Summary {
    assignment_git::summary(a, &ctx.app.config.repo_root, &baton_runner::runner::host(&ctx.app.config)).await
}

/// No diff (yet, or here) is a conflict with the assignment's state; git failing is a fault.
fn refused(e: DiffError) -> ApiError {
    if e.is_fault() {
        tracing::warn!("reading a diff failed: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    } else {
        ApiError::new(StatusCode::CONFLICT, e.to_string())
    }
}
