//! What the API takes from a request besides its path: the body (at most [`BODY_LIMIT`] bytes,
//! refused as JSON with 413 past it), no query string where an endpoint knows no parameters,
//! and no NUL byte anywhere (no store, prompt or shell carries one intact).

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The largest request body: the largest context (1 MiB) stays under it however JSON escapes it
/// (`\u0000`-style escapes are six bytes per byte).
pub const BODY_LIMIT: usize = 8 << 20;

/// A request body within [`BODY_LIMIT`].
pub(crate) struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Body, ApiError> {
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is over the limit of {} MiB; put long text in a file in the repository and refer to it",
                    BODY_LIMIT >> 20
                ),
            )
        };
        // A declared length over the limit is refused before a byte of it is read.
        let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|len| len > BODY_LIMIT as u64) {
            return Err(too_large());
        }
        Bytes::from_request(req, state).await.map(Body).map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::bad_request(format!("cannot read the request body: {}", rejection.body_text()))
            }
        })
    }
}

/// The body of an action that takes no fields (cancel, retry, a schedule's fire): `{}` or none.
/// A field is refused, as a typo would otherwise be silently ignored.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoFields {}

/// For endpoints that take no query parameters: any query string is refused, as a typo would
/// otherwise be silently ignored.
pub(crate) struct NoQuery;

impl<S: Send + Sync> FromRequestParts<S> for NoQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<NoQuery, ApiError> {
        match parts.uri.query().filter(|q| !q.is_empty()) {
            None => Ok(NoQuery),
            Some(query) => {
                let key = query.split('&').next().unwrap_or_default();
                let key = key.split('=').next().unwrap_or_default();
                Err(ApiError::bad_request(format!(
                    "unknown query parameter `{key}`; this endpoint takes none (see API.md)"
                )))
            }
        }
    }
}

/// Refuses a path or query string holding an encoded NUL byte (`%00`) before any handler reads it.
pub(crate) async fn refuse_nul(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let has_nul = |s: &str| s.as_bytes().windows(3).any(|w| w == b"%00");
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        return ApiError::bad_request("the address contains a NUL byte (%00); remove it (text only)").into_response();
    }
    next.run(req).await
}

/// The first string in `value` (a key or a value) holding a NUL byte, named by its path.
pub(crate) fn nul_field(value: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => Some(at.to_string()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| nul_field(v, &format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let name = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
            if k.contains('\0') {
                Some(name)
            } else {
                nul_field(v, &name)
            }
        }),
        _ => None,
    }
}
