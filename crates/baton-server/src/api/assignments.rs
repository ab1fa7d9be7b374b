//! Assignment endpoints: `assignments`, `assignment`, `create`, `update-assignment` and
//! `insert-job`, validated as the CLI validates them (same order, same messages).

use super::error::{ApiError, ApiResult};
use super::{actor, body, job_defaults, json, Params};
use crate::state::Ctx;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::lifecycle::AssignmentUpdate;
use baton_core::store::{AssignmentFilter, NewAssignment, NewJob};
use baton_core::{AssignmentStatus, Error, JobType};
use serde::Deserialize;
use std::collections::HashMap;

type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

/// `GET /api/assignments?status=&limit=`
pub(crate) async fn list(State(ctx): State<Ctx>, query: QueryMap) -> ApiResult<Response> {
    let params = Params::new(query, &["status", "limit"])?;
    let filter = AssignmentFilter { status: params.parse::<AssignmentStatus>("status")?, limit: params.limit()? };
    json(StatusCode::OK, &ctx.store().assignments(ctx.ns(), &filter).await?)
}

/// `GET /api/assignments/{id}`
pub(crate) async fn show(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Response> {
    json(StatusCode::OK, &ctx.store().assignment(ctx.ns(), &id).await?)
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
    max_jobs: Option<i64>,
    /// The git ref its branch starts from (`--base`).
    base: Option<String>,
}

/// `POST /api/assignments`
pub(crate) async fn create(State(ctx): State<Ctx>, bytes: Bytes) -> ApiResult<Response> {
    let b: CreateBody = body(&bytes)?;
    let config = &ctx.app.config;
    let first = b.first.as_deref().map(str::parse::<JobType>).transpose()?;
    if first.is_none() && (b.context.is_some() || b.harness.is_some()) {
        return Err(ApiError::bad_request(
            "`context` and `harness` describe the first job; pass `first` (the job type) too",
        ));
    }
    let budget_usd = b.budget_usd.map(check_budget).transpose()?;
    let max_jobs = b.max_jobs.map(check_max_jobs).transpose()?;
    let north_star = b.north_star.as_deref().unwrap_or("").trim().to_string();
    if north_star.is_empty() {
        return Err(Error::EmptyNorthStar.into());
    }
    let first_job = match first {
        Some(job_type) => Some(NewJob {
            job_type,
            harness: harness_for(&ctx, job_type, b.harness)?,
            context: b.context.unwrap_or_default(),
            max_attempts: config.max_attempts,
            after: None,
            for_job_id: None,
        }),
        None => None,
    };
    let new = NewAssignment {
        namespace: ctx.ns().to_string(),
        north_star,
        max_jobs: max_jobs.unwrap_or(config.max_jobs_per_assignment),
        budget_usd,
        origin_root: Some(config.repo_root.display().to_string()),
        base_ref: b.base.filter(|r| !r.trim().is_empty()),
        first_job,
    };
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
}

/// `PATCH /api/assignments/{id}` and `POST /api/assignments/{id}/update`
pub(crate) async fn update(State(ctx): State<Ctx>, Path(id): Path<String>, bytes: Bytes) -> ApiResult<Response> {
    let b: UpdateBody = body(&bytes)?;
    let status = b.status.as_deref().map(str::parse::<AssignmentStatus>).transpose()?;
    let budget_usd = b.budget_usd.map(check_budget).transpose()?;
    let max_jobs = b.max_jobs.map(check_max_jobs).transpose()?;
    // Caught before the store, as the CLI does: the one rule that needs no stored state.
    if status == Some(AssignmentStatus::Blocked) && b.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(Error::ReasonRequired.into());
    }
    let update = AssignmentUpdate { status, reason: b.reason, note: b.note, max_jobs, budget_usd };
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
pub(crate) async fn insert_job(State(ctx): State<Ctx>, Path(id): Path<String>, bytes: Bytes) -> ApiResult<Response> {
    let b: InsertBody = body(&bytes)?;
    let Some(job_type) = b.job_type.as_deref().filter(|t| !t.is_empty()) else {
        return Err(ApiError::bad_request(format!(
            "`type` is required: the job type, one of {}",
            JobType::valid_values()
        )));
    };
    let job_type: JobType = job_type.parse()?;
    let new = NewJob {
        job_type,
        harness: harness_for(&ctx, job_type, b.harness)?,
        context: b.context.unwrap_or_default(),
        max_attempts: ctx.app.config.max_attempts,
        after: b.after.filter(|a| !a.is_empty()),
        for_job_id: None,
    };
    json(StatusCode::CREATED, &ctx.store().insert_job(ctx.ns(), &id, new, &actor()).await?)
}

/// The harness given (checked against config), or the configured default for the job type.
fn harness_for(ctx: &Ctx, job_type: JobType, given: Option<String>) -> ApiResult<String> {
    let config = &ctx.app.config;
    match given.filter(|h| !h.is_empty()) {
        Some(h) => {
            config.check_harness(&h)?;
            Ok(h)
        }
        None => Ok(config.default_harness(job_type).to_string()),
    }
}

/// `budget_usd`: a positive amount, as `--budget-usd`.
fn check_budget(v: f64) -> ApiResult<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Error::invalid("--budget-usd must be a positive amount in dollars, e.g. 5 or 12.50").into())
    }
}

/// `max_jobs`: a whole number of at least 1, as `--max-jobs`.
fn check_max_jobs(v: i64) -> ApiResult<u32> {
    u32::try_from(v).ok().filter(|n| *n >= 1).ok_or_else(|| Error::invalid("--max-jobs must be at least 1").into())
}
