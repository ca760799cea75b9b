//! The one error shape of the API: `{"error": {"code", "message", "fields": {field: message}}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cryoseed_store::StoreError;
use cryoseed_trial::TrialError;
use serde::Serialize;
use std::collections::BTreeMap;

/// An API failure: HTTP status, a stable machine code, a message for people, and per-field
/// messages for invalid input (status 422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (`invalid`, `unauthenticated`, `forbidden`, `csrf`, `rate_limited`, …).
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// Field path → message (for `invalid`).
    pub fields: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    fields: &'a BTreeMap<String, String>,
}

impl ApiError {
    /// An error without field messages.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), fields: BTreeMap::new() }
    }

    /// 422 with per-field messages.
    pub fn invalid(fields: BTreeMap<String, String>) -> ApiError {
        let message = if fields.len() == 1 {
            "one field is invalid".to_owned()
        } else {
            format!("{} fields are invalid", fields.len())
        };
        ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, code: "invalid", message, fields }
    }

    /// 422 for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::invalid(BTreeMap::from([(field.into(), message.into())]))
    }

    /// 401: no valid session.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in first")
    }

    /// 403: the role may not do this.
    pub fn forbidden() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "your role may not do this")
    }

    /// 404 (also for records outside the user's site, so that their existence is not revealed).
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    /// 500; the detail goes to the server's log, not to the client.
    pub fn internal(detail: &dyn std::fmt::Display) -> ApiError {
        log_internal(detail);
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the administrator can see the log",
        )
    }
}

#[allow(clippy::print_stderr, reason = "the server's log is its standard error")]
fn log_internal(detail: &dyn std::fmt::Display) {
    eprintln!("cryoseed-server internal error: {detail}");
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body { error: Inner { code: self.code, message: &self.message, fields: &self.fields } };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match &e {
            StoreError::Invalid { field, reason, .. } => ApiError::field(field.clone(), reason.clone()),
            StoreError::NotFound { entity, .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{entity} not found"))
            }
            StoreError::Duplicate { .. } => ApiError::new(StatusCode::CONFLICT, "duplicate", e.to_string()),
            StoreError::Conflict { .. } => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            StoreError::Locked { .. } => ApiError::new(StatusCode::CONFLICT, "locked", e.to_string()),
            StoreError::Forbidden { .. } => ApiError::forbidden(),
            StoreError::Trial(t) => match t {
                TrialError::InvalidAdverseEvent { field, reason } => ApiError::field(*field, reason.clone()),
                TrialError::InvalidRecord { field, reason, .. } => ApiError::field(field.clone(), reason.clone()),
                TrialError::InvalidParameter { parameter, reason } => {
                    ApiError::field(parameter.clone(), reason.clone())
                }
                TrialError::AlreadyRandomized { .. } => {
                    ApiError::new(StatusCode::CONFLICT, "already_randomized", t.to_string())
                }
                _ => ApiError::field("randomization", t.to_string()),
            },
            StoreError::Url(_)
            | StoreError::Migration { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Db(_)
            | StoreError::NotCommitted(_) => ApiError::internal(&e),
        }
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
