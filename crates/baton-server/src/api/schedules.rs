//! Schedule endpoints: `GET/POST /api/schedules`, `GET /api/schedules/{id}` and
//! `POST /api/schedules/{id}/fire`, the webhook that fires a schedule on demand. A body is
//! checked as `baton schedule add` checks its flags — the pattern, the zone, and the assignment
//! it would create — before anything is stored.

use super::error::{ApiError, ApiResult};
use super::input::{Body, NoFields, NoQuery};
use super::{actor, body, json};
use crate::state::Ctx;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::engine::schedule::DEFAULT_TIMEZONE;
use baton_core::store::{FireOutcome, NewSchedule};
use baton_core::{JobType, Overlap, ScheduleTemplate};
use serde::Deserialize;

/// `GET /api/schedules`: the namespace's schedules, as `baton schedule list --json`.
pub(crate) async fn list(State(ctx): State<Ctx>, _: NoQuery) -> ApiResult<Response> {
    json(StatusCode::OK, &ctx.store().schedules(ctx.ns()).await?)
}

/// `GET /api/schedules/{id}`: one schedule with its run history.
pub(crate) async fn show(State(ctx): State<Ctx>, Path(id): Path<String>, _: NoQuery) -> ApiResult<Response> {
    json(StatusCode::OK, &ctx.store().schedule(ctx.ns(), &id).await?)
}

/// The body of `POST /api/schedules` (the arguments and flags of `baton schedule add`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddBody {
    cron: Option<String>,
    north_star: Option<String>,
    timezone: Option<String>,
    overlap: Option<String>,
    first: Option<String>,
    harness: Option<String>,
    model: Option<String>,
    effort: Option<String>,
    context: Option<String>,
    budget_usd: Option<f64>,
    budget_tokens: Option<i64>,
    max_jobs: Option<i64>,
    base: Option<String>,
}

/// `POST /api/schedules`
pub(crate) async fn add(State(ctx): State<Ctx>, _: NoQuery, Body(bytes): Body) -> ApiResult<Response> {
    let b: AddBody = body(&bytes)?;
    let first = b.first.as_deref().map(str::parse::<JobType>).transpose()?;
    let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    if first.is_none() && (b.harness.is_some() || b.model.is_some() || b.effort.is_some()) {
        return Err(ApiError::bad_request("`harness`, `model` and `effort` describe the first job; pass `first` too"));
    }
    let new = NewSchedule {
        namespace: ctx.ns().to_string(),
        cron: b.cron.ok_or_else(|| ApiError::bad_request("`cron` is required, e.g. \"0 9 * * 1\" or \"@daily\""))?,
        timezone: nonempty(b.timezone).unwrap_or_else(|| DEFAULT_TIMEZONE.to_string()),
        north_star: b.north_star.unwrap_or_default(),
        overlap: b.overlap.as_deref().map(str::parse::<Overlap>).transpose()?.unwrap_or(Overlap::Skip),
        creates: ScheduleTemplate {
            first,
            harness: nonempty(b.harness),
            model: nonempty(b.model),
            effort: nonempty(b.effort),
            context: b.context.unwrap_or_default(),
            budget_usd: b.budget_usd,
            budget_tokens: b.budget_tokens,
            max_jobs: b.max_jobs.map(|n| u32::try_from(n.max(0)).unwrap_or(u32::MAX)),
            base: nonempty(b.base),
        },
    };
    new.validate()?;
    let config = &ctx.app.config;
    baton_runner::schedule::assignment_from(config, &new.namespace, &new.north_star, &new.creates).await?;
    json(StatusCode::CREATED, &ctx.store().add_schedule(new, &actor()).await?)
}

/// `POST /api/schedules/{id}/fire`: fires now, outside the slots (the next slot stays), and
/// obeys `overlap = skip`: the answer says whether an assignment was created or why not.
pub(crate) async fn fire(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    _: NoQuery,
    Body(bytes): Body,
) -> ApiResult<Response> {
    let NoFields {} = body(&bytes)?;
    let by = format!("api ({})", actor());
    let outcome =
        baton_runner::schedule::fire(ctx.store(), &ctx.app.config, ctx.ns(), &id, None, &by, &actor()).await?;
    let status = match outcome {
        FireOutcome::Fired { .. } => StatusCode::CREATED,
        FireOutcome::Skipped { .. } | FireOutcome::NotDue { .. } => StatusCode::OK,
    };
    json(status, &outcome)
}
