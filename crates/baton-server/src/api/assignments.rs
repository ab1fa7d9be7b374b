//! Assignment endpoints: `assignments`, `assignment`, `create`, `update-assignment` and
//! `insert-job`. Bodies become core's requests, validated by the same `validate()` as the CLI's,
//! so the messages name the bodies' own fields (`max_jobs must be at least 1`).

use super::error::{ApiError, ApiResult};
use super::input::{Body, NoQuery};
use super::{actor, body, job_defaults, json, Params};
use crate::state::Ctx;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::request::{AssignmentUpdate, NewAssignment, NewJob};
use baton_core::store::AssignmentFilter;
use baton_core::{AssignmentStatus, JobType};
use serde::Deserialize;
use std::collections::HashMap;

type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

/// `GET /api/assignments?status=&limit=`
pub(crate) async fn list(State(ctx): State<Ctx>, query: QueryMap) -> ApiResult<Response> {
    let params = Params::new(query, &["status", "limit"])?;
    let filter = AssignmentFilter { status: params.parse::<AssignmentStatus>("status")?, limit: params.limit()? };
    json(StatusCode::OK, &ctx.store().assignments(ctx.ns(), &filter).await?)
}

/// `GET /api/assignments/{id}`: the assignment with its git summary, as `baton assignment --json`.
pub(crate) async fn show(State(ctx): State<Ctx>, Path(id): Path<String>, _: NoQuery) -> ApiResult<Response> {
    let detail = ctx.store().assignment(ctx.ns(), &id).await?;
    let git = super::diff::summary(&ctx, &detail.assignment).await;
    json(StatusCode::OK, &baton_runner::assignment_git::WithSummary { item: &detail, git: &git })
}

/// The body of `POST /api/assignments` (the flags of `baton create`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    north_star: Option<String>,
    first: Option<String>,
    context: Option<String>,
    harness: Option<String>,
    budget_usd: Option<f64>,
    budget_tokens: Option<i64>,
    max_jobs: Option<i64>,
    /// The git ref its branch starts from (`--base`).
    base: Option<String>,
    /// The assignments it waits for (`--after`): it starts `deferred`.
    #[serde(default)]
    after: Vec<String>,
}

/// `POST /api/assignments`
pub(crate) async fn create(State(ctx): State<Ctx>, _: NoQuery, Body(bytes): Body) -> ApiResult<Response> {
    let b: CreateBody = body(&bytes)?;
    let config = &ctx.app.config;
    let first = b.first.as_deref().map(str::parse::<JobType>).transpose()?;
    if first.is_none() && b.harness.is_some() {
        return Err(ApiError::bad_request("`harness` describes the first job; pass `first` (the job type) too"));
    }
    let mut new = NewAssignment::with_defaults(config, b.north_star.unwrap_or_default());
    new.max_jobs = b.max_jobs.map_or(new.max_jobs, count);
    new.budget_usd = b.budget_usd;
    new.budget_tokens = b.budget_tokens;
    // The person's context stays with the assignment (every job sees it) and is the first job's too.
    new.context = b.context.unwrap_or_default();
    new.after = b.after;
    new.first_job = match first {
        Some(job_type) => Some(NewJob::with_defaults(config, job_type, given(b.harness), new.context.clone())?),
        None => None,
    };
    // The store validates too; checking here answers before any database work.
    new.validate()?;
    let base = b.base.filter(|r| !r.trim().is_empty());
    new.base_branch = baton_runner::base::resolve(&config.repo_root, base.as_deref()).await?;
    new.base_ref = base;
    json(StatusCode::CREATED, &ctx.store().create_assignment(new, &actor()).await?)
}

/// The body of `PATCH /api/assignments/{id}` (the flags of `baton update-assignment`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    status: Option<String>,
    reason: Option<String>,
    note: Option<String>,
    max_jobs: Option<i64>,
    budget_usd: Option<f64>,
    budget_tokens: Option<i64>,
}

/// `PATCH /api/assignments/{id}` and `POST /api/assignments/{id}/update`
pub(crate) async fn update(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    _: NoQuery,
    Body(bytes): Body,
) -> ApiResult<Response> {
    let b: UpdateBody = body(&bytes)?;
    let status = b.status.as_deref().map(str::parse::<AssignmentStatus>).transpose()?;
    let max_jobs = b.max_jobs.map(count);
    let update = AssignmentUpdate {
        status,
        reason: b.reason,
        note: b.note,
        max_jobs,
        budget_usd: b.budget_usd,
        budget_tokens: b.budget_tokens,
    };
    update.validate()?;
    let defaults = job_defaults(&ctx.app.config);
    json(StatusCode::OK, &ctx.store().update_assignment(ctx.ns(), &id, &update, &defaults, &actor()).await?)
}

/// The body of `POST /api/assignments/{id}/jobs` (the flags of `baton insert-job`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InsertBody {
    #[serde(rename = "type")]
    job_type: Option<String>,
    harness: Option<String>,
    context: Option<String>,
    after: Option<String>,
}

/// `POST /api/assignments/{id}/jobs`
pub(crate) async fn insert_job(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    _: NoQuery,
    Body(bytes): Body,
) -> ApiResult<Response> {
    let b: InsertBody = body(&bytes)?;
    let Some(job_type) = b.job_type.as_deref().filter(|t| !t.is_empty()) else {
        return Err(ApiError::bad_request(format!(
            "`type` is required: the job type, one of {}",
            JobType::valid_values()
        )));
    };
    let job_type: JobType = job_type.parse()?;
    let mut new = NewJob::with_defaults(&ctx.app.config, job_type, given(b.harness), b.context.unwrap_or_default())?;
    new.after = b.after.filter(|a| !a.is_empty());
    json(StatusCode::CREATED, &ctx.store().insert_job(ctx.ns(), &id, new, &actor()).await?)
}

/// A harness named in a body; an empty one means the job type's default.
fn given(harness: Option<String>) -> Option<String> {
    harness.filter(|h| !h.is_empty())
}

/// A JSON count as the request's `u32`: below zero reads as 0, which `validate()` refuses with
/// the field's name; past `u32::MAX` reads as the largest limit there is.
fn count(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}
