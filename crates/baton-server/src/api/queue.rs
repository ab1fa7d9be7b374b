//! Namespace-wide reads: `queue`, the runners, and what the dashboard needs to build its forms.

use super::error::ApiResult;
use super::input::NoQuery;
use super::json;
use crate::state::Ctx;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::time::now_ms;
use baton_core::JobType;
use serde::Serialize;
use std::collections::BTreeMap;

/// `GET /api/queue`: what `baton queue --json` prints.
pub(crate) async fn queue(State(ctx): State<Ctx>, _: NoQuery) -> ApiResult<Response> {
    json(StatusCode::OK, &ctx.store().queue(ctx.ns(), now_ms()).await?)
}

/// `GET /api/namespaces`: what `baton namespaces --json` prints — every namespace of the
/// database with its counts (the one answer not scoped to the server's namespace).
pub(crate) async fn namespaces(State(ctx): State<Ctx>, _: NoQuery) -> ApiResult<Response> {
    json(StatusCode::OK, &ctx.store().namespaces().await?)
}

/// `GET /api/runners`: live (and lost) runners of the namespace.
pub(crate) async fn runners(State(ctx): State<Ctx>, _: NoQuery) -> ApiResult<Response> {
    json(StatusCode::OK, &ctx.store().runners(ctx.ns()).await?)
}

/// The answer of `GET /api/info`. Names only: harness command lines, the database URL and the
/// token stay on the server.
#[derive(Debug, Serialize)]
struct Info<'a> {
    namespace: &'a str,
    version: &'static str,
    job_types: Vec<&'static str>,
    harnesses: Vec<String>,
    /// The harness each job type gets when none is given.
    default_harness: BTreeMap<&'static str, &'a str>,
    max_jobs_per_assignment: u32,
    max_attempts: u32,
}

/// `GET /api/info`
pub(crate) async fn info(State(ctx): State<Ctx>, _: NoQuery) -> ApiResult<Response> {
    let config = &ctx.app.config;
    let info = Info {
        namespace: ctx.ns(),
        version: env!("CARGO_PKG_VERSION"),
        job_types: JobType::ALL.iter().map(|t| t.as_str()).collect(),
        harnesses: config.harness_names(),
        default_harness: JobType::ALL.iter().map(|t| (t.as_str(), config.default_harness(*t))).collect(),
        max_jobs_per_assignment: config.max_jobs_per_assignment,
        max_attempts: config.max_attempts,
    };
    json(StatusCode::OK, &info)
}
