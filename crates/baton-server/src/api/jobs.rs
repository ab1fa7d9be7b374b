//! Job endpoints: `jobs`, `job`, a job's stored transcript and prompts, `cancel-job` and `retry-job`.

use super::error::ApiResult;
use super::input::{Body, NoFields, NoQuery};
use super::transcript::TranscriptLine;
use super::{actor, body, job_defaults, json, Params};
use crate::state::Ctx;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::store::JobFilter;
use baton_core::JobStatus;
use std::collections::HashMap;

type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

/// Transcript events returned by one `GET …/events` when no `limit` is given.
const DEFAULT_EVENTS: u32 = 1000;
/// The most transcript events one `GET …/events` returns.
const MAX_EVENTS: u32 = 5000;

/// `GET /api/jobs?status=&assignment=&limit=`
pub(crate) async fn list(State(ctx): State<Ctx>, query: QueryMap) -> ApiResult<Response> {
    let params = Params::new(query, &["status", "assignment", "limit"])?;
    let assignment_id = params.get("assignment").map(str::to_string);
    let filter = JobFilter {
        status: params.parse::<JobStatus>("status")?,
        assignment_id: assignment_id.clone(),
        limit: params.limit()?,
    };
    let list = ctx.store().jobs(ctx.ns(), &filter).await?;
    if let (true, Some(id)) = (list.is_empty(), &assignment_id) {
        // An empty list must not hide a mistyped id: this fails with "no assignment …".
        ctx.store().assignment(ctx.ns(), id).await?;
    }
    json(StatusCode::OK, &list)
}

/// `GET /api/jobs/{id}`
pub(crate) async fn show(State(ctx): State<Ctx>, Path(id): Path<String>, _: NoQuery) -> ApiResult<Response> {
    json(StatusCode::OK, &ctx.store().job(ctx.ns(), &id).await?)
}

/// `GET /api/jobs/{id}/events?after=&limit=`
pub(crate) async fn events(State(ctx): State<Ctx>, Path(id): Path<String>, query: QueryMap) -> ApiResult<Response> {
    let params = Params::new(query, &["after", "limit"])?;
    let after = params.seq("after")?.unwrap_or(0);
    let limit = params.limit()?.unwrap_or(DEFAULT_EVENTS).min(MAX_EVENTS);
    // The job is read first so an unknown id is a 404, not an empty transcript.
    ctx.store().job(ctx.ns(), &id).await?;
    let events = ctx.store().job_events(ctx.ns(), &id, after, limit).await?;
    let lines: Vec<TranscriptLine> = events.into_iter().map(TranscriptLine::new).collect();
    json(StatusCode::OK, &lines)
}

/// `GET /api/jobs/{id}/prompt?attempt=`: the exact prompt an attempt was given (the latest
/// attempt by default), as `baton job ID --prompt --json`.
pub(crate) async fn prompt(State(ctx): State<Ctx>, Path(id): Path<String>, query: QueryMap) -> ApiResult<Response> {
    let params = Params::new(query, &["attempt"])?;
    let attempt = params
        .get("attempt")
        .map(|v| {
            v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                super::error::ApiError::bad_request(format!(
                    "`attempt` must be an attempt number (1 or more), not `{v}`"
                ))
            })
        })
        .transpose()?;
    json(StatusCode::OK, &ctx.store().attempt_prompt(ctx.ns(), &id, attempt).await?)
}

/// `POST /api/jobs/{id}/cancel`
pub(crate) async fn cancel(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    _: NoQuery,
    Body(bytes): Body,
) -> ApiResult<Response> {
    let NoFields {} = body(&bytes)?;
    let defaults = job_defaults(&ctx.app.config);
    json(StatusCode::OK, &ctx.store().cancel_job(ctx.ns(), &id, &defaults, &actor()).await?)
}

/// `POST /api/jobs/{id}/retry`
pub(crate) async fn retry(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    _: NoQuery,
    Body(bytes): Body,
) -> ApiResult<Response> {
    let NoFields {} = body(&bytes)?;
    let defaults = job_defaults(&ctx.app.config);
    json(StatusCode::CREATED, &ctx.store().retry_job(ctx.ns(), &id, &defaults, &actor()).await?)
}
