//! `POST /api/assignments/{id}/merge`: the dashboard's `baton merge`. The git work is
//! [`baton_runner::merge`]'s, as for the CLI; a merge that cannot be made as things stand (not
//! complete, a dirty checkout, a conflict) is a `409` with the reason.

use super::error::{ApiError, ApiResult};
use super::{actor, body, json};
use crate::state::Ctx;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_runner::merge::{self, MergeError, MergeRequest};
use serde::Deserialize;

/// The body of `POST /api/assignments/{id}/merge` (the flags of `baton merge`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    #[serde(default)]
    squash: bool,
    into: Option<String>,
}

/// `POST /api/assignments/{id}/merge`
pub(crate) async fn merge(State(ctx): State<Ctx>, Path(id): Path<String>, bytes: Bytes) -> ApiResult<Response> {
    let b: MergeBody = body(&bytes)?;
    let request = MergeRequest { into: b.into.filter(|i| !i.trim().is_empty()), squash: b.squash };
    let store = ctx.store();
    let a = store.assignment(ctx.ns(), &id).await?.assignment;
    let merged = merge::merge(&ctx.app.config.repo_root, &a, &request, &actor()).await.map_err(|e| match e {
        MergeError::Refused(reason) => ApiError::new(StatusCode::CONFLICT, reason),
        MergeError::Git(e) => {
            tracing::warn!("merging assignment {id} failed: {e}");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    })?;
    let detail = store.record_merge(ctx.ns(), &a.id, &merged.commit, &merged.into, &actor()).await?;
    json(StatusCode::OK, &detail)
}
