//! How a failed API call answers: `{"error": "<one line>"}` with the status that fits.
//!
//! The line is the same text the CLI prints after `error:`, so people and agents learn one set of
//! messages; a refused request names the body's fields where the CLI names its flags. Statuses follow the kind of failure: unknown ids are 404, bad input 400, a change
//! the lifecycle refuses 409, anything else 500.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use baton_core::Error;

/// An API failure on its way to the client.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    /// One line, no newlines.
    pub message: String,
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        let message: String = message.into();
        ApiError { status, message: message.replace(['\n', '\r'], " ") }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

/// The HTTP status of a core error.
pub(crate) fn status_of(err: &Error) -> StatusCode {
    match err {
        Error::AssignmentNotFound { .. } | Error::JobNotFound { .. } | Error::ScheduleNotFound { .. } => {
            StatusCode::NOT_FOUND
        }
        Error::JobNotInAssignment { .. }
        | Error::UnknownValue(_)
        | Error::UnknownHarness { .. }
        | Error::Request(_)
        | Error::InvalidInput(_) => StatusCode::BAD_REQUEST,
        Error::AssignmentFinal { .. }
        | Error::AssignmentTransition { .. }
        | Error::JobState { .. }
        | Error::JobLimitReached { .. }
        | Error::GuardRefusedResume { .. } => StatusCode::CONFLICT,
        Error::Scope { .. } => StatusCode::FORBIDDEN,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> ApiError {
        let status = status_of(&err);
        if status.is_server_error() {
            // The client sees the same line; the operator sees it in the server's log too.
            tracing::warn!("API request failed: {err}");
        }
        ApiError::new(status, err.to_string())
    }
}

impl From<baton_core::model::UnknownValue> for ApiError {
    fn from(err: baton_core::model::UnknownValue) -> ApiError {
        ApiError::from(Error::from(err))
    }
}

impl From<baton_core::request::RequestError> for ApiError {
    fn from(err: baton_core::request::RequestError) -> ApiError {
        ApiError::from(Error::from(err))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message }).to_string();
        (self.status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::request::RequestError;
    use baton_core::{AssignmentStatus, JobStatus};

    #[test]
    fn statuses_follow_the_kind_of_failure() {
        let nf = Error::JobNotFound { namespace: "n".into(), id: "j".into() };
        assert_eq!(status_of(&nf), StatusCode::NOT_FOUND);
        assert_eq!(status_of(&Error::Request(RequestError::EmptyNorthStar)), StatusCode::BAD_REQUEST);
        let fin = Error::AssignmentFinal { id: "a".into(), status: AssignmentStatus::Complete };
        assert_eq!(status_of(&fin), StatusCode::CONFLICT);
        let js = Error::JobState { id: "j".into(), status: JobStatus::Complete, hint: "x" };
        assert_eq!(status_of(&js), StatusCode::CONFLICT);
        let db = Error::database("reading", "x");
        assert_eq!(status_of(&db), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
