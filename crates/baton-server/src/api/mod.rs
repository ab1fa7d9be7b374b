//! The JSON API under `/api/`: one handler per CLI command, with the CLI's validation and
//! messages. `API.md` documents every endpoint; this module wires them and holds the helpers
//! for query strings, bodies and answers.

pub(crate) mod assignments;
pub(crate) mod diff;
pub(crate) mod error;
pub(crate) mod gc;
pub(crate) mod input;
pub(crate) mod jobs;
pub(crate) mod merge;
pub(crate) mod queue;
pub(crate) mod schedules;
pub(crate) mod stream;
pub(crate) mod transcript;

use crate::state::Ctx;
use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use baton_core::model::UnknownValue;
use baton_core::store::JobDefaults;
use baton_core::{Actor, Config};
use error::{ApiError, ApiResult};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::str::FromStr;

/// Who API changes are recorded as in history: the dashboard is a person's tool.
pub(crate) fn actor() -> Actor {
    Actor::Person("dashboard".to_string())
}

/// What the engine needs to queue jobs on its own (a resume's PM job, a retry's copy), as the
/// CLI derives it from config.
pub(crate) fn job_defaults(config: &Config) -> JobDefaults {
    JobDefaults::from_config(config)
}

/// The `/api/` routes.
pub(crate) fn routes() -> Router<Ctx> {
    Router::new()
        .route("/api/info", get(queue::info))
        .route("/api/queue", get(queue::queue))
        .route("/api/runners", get(queue::runners))
        .route("/api/namespaces", get(queue::namespaces))
        .route("/api/gc", get(gc::report))
        .route("/api/events", get(stream::namespace_events))
        .route("/api/assignments", get(assignments::list).post(assignments::create))
        .route("/api/assignments/{id}", get(assignments::show).patch(assignments::update))
        .route("/api/assignments/{id}/update", post(assignments::update))
        .route("/api/assignments/{id}/jobs", post(assignments::insert_job))
        .route("/api/assignments/{id}/diff", get(diff::assignment))
        .route("/api/assignments/{id}/merge", post(merge::merge))
        .route("/api/jobs", get(jobs::list))
        .route("/api/jobs/{id}", get(jobs::show))
        .route("/api/jobs/{id}/events", get(jobs::events))
        .route("/api/jobs/{id}/prompt", get(jobs::prompt))
        .route("/api/jobs/{id}/diff", get(diff::job))
        .route("/api/jobs/{id}/stream", get(stream::job_stream))
        .route("/api/jobs/{id}/cancel", post(jobs::cancel))
        .route("/api/jobs/{id}/retry", post(jobs::retry))
        .route("/api/schedules", get(schedules::list).post(schedules::add))
        .route("/api/schedules/{id}", get(schedules::show))
        .route("/api/schedules/{id}/fire", post(schedules::fire))
        .layer(axum::extract::DefaultBodyLimit::max(input::BODY_LIMIT))
        .layer(axum::middleware::from_fn(input::refuse_nul))
}

/// Answers an unknown `/api/` path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such endpoint; the endpoints are listed in API.md")
}

/// Answers a known path with the wrong method.
pub(crate) async fn wrong_method() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "this endpoint does not take that method; see API.md")
}

/// A JSON answer.
pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> ApiResult<Response> {
    let body = serde_json::to_string(value)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot encode the answer: {e}")))?;
    Ok((status, [(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Parses a request body; an empty body reads as `{}` (so `cancel` and `retry` need none).
/// Unknown fields are refused, so a typo is an error instead of a silently ignored change.
pub(crate) fn body<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    let invalid = |e: serde_json::Error| {
        ApiError::bad_request(format!("invalid JSON body: {e} (the fields are listed in API.md)"))
    };
    let value: serde_json::Value = serde_json::from_slice(text).map_err(invalid)?;
    if let Some(field) = input::nul_field(&value, "") {
        return Err(ApiError::bad_request(format!("{field} contains a NUL byte; remove it (text only)")));
    }
    serde_json::from_value(value).map_err(invalid)
}

/// A query string, checked against the parameters an endpoint knows.
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    pub fn new(query: Result<Query<HashMap<String, String>>, QueryRejection>, known: &[&str]) -> ApiResult<Params> {
        let Query(map) =
            query.map_err(|e| ApiError::bad_request(format!("invalid query string: {}", e.body_text())))?;
        if let Some(key) = map.keys().find(|k| !known.contains(&k.as_str())) {
            let valid = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            return Err(ApiError::bad_request(format!("unknown query parameter `{key}`; valid parameters: {valid}")));
        }
        Ok(Params(map))
    }

    /// A parameter's value; empty counts as absent (`?status=` is "any status").
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A value with a closed vocabulary, refused with the list of valid ones.
    pub fn parse<T: FromStr<Err = UnknownValue>>(&self, key: &str) -> ApiResult<Option<T>> {
        self.get(key).map(|v| v.parse::<T>().map_err(ApiError::from)).transpose()
    }

    /// `limit`: a whole number of at least 1, as the CLI's `--limit`.
    pub fn limit(&self) -> ApiResult<Option<u32>> {
        self.get("limit")
            .map(|v| {
                v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    ApiError::bad_request(format!("--limit must be a whole number of at least 1, not `{v}`"))
                })
            })
            .transpose()
    }

    /// A sequence number such as `after` (0 or more).
    pub fn seq(&self, key: &str) -> ApiResult<Option<i64>> {
        self.get(key)
            .map(|v| {
                v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                    ApiError::bad_request(format!("`{key}` must be an event number (0 or more), not `{v}`"))
                })
            })
            .transpose()
    }
}
