//! `GET /api/gc?dry_run=true`: what `baton gc --dry-run` reports — the worktrees the retention
//! policy would remove (each named, with its size), the space that frees and the transcripts it
//! would drop. A GET changes nothing: removing is `baton gc`'s, run by a person or the runner.

use super::error::{ApiError, ApiResult};
use super::{json, Params};
use crate::state::Ctx;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;

/// `GET /api/gc?dry_run=true`
pub(crate) async fn report(
    State(ctx): State<Ctx>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    let params = Params::new(query, &["dry_run"])?;
    match params.get("dry_run") {
        Some("true") => {}
        _ => {
            return Err(ApiError::bad_request(
                "GET /api/gc only reports: pass dry_run=true (removing is `baton gc`'s, on the host of the worktrees)",
            ))
        }
    }
    let report =
        baton_runner::gc::run(ctx.store(), &ctx.app.config, ctx.ns(), baton_core::time::now_ms(), true).await?;
    json(StatusCode::OK, &report)
}
