//! The one error type of the domain layer, its HTTP status, and the JSON body every error response has:
//! `{"error": {"code": "...", "message": "..."}}`.
//!
//! Unexpected failures (`Storage`, `Upstream`, `Internal`) keep their details for the log; the client
//! gets a generic message and a code, never internals.

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the request is malformed (bad JSON, a missing or invalid parameter).
    #[error("{0}")]
    BadRequest(String),
    /// 401: the caller is not signed in (or the session expired).
    #[error("{0}")]
    Unauthorized(String),
    /// 403: signed in, but not allowed (plan too low, not staff, cross-site request).
    #[error("{0}")]
    Forbidden(String),
    /// 403: signed in, but the account's email address is not verified yet (shared::auth::verify).
    #[error("{0}")]
    EmailUnverified(String),
    /// 404: nothing lives at this path or id.
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists but not for this method.
    #[error("method {method} is not allowed here; use {allowed}")]
    MethodNotAllowed { method: String, allowed: String },
    /// 409: the request conflicts with stored state (an email already registered).
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than the endpoint accepts.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: state-changing requests take JSON bodies only.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed, but the values break a rule (password policy, unknown plan).
    #[error("{0}")]
    Unprocessable(String),
    /// 429: too many attempts; retry after `retry_after_seconds`.
    #[error("too many attempts; try again in {retry_after_seconds} seconds")]
    TooManyRequests { retry_after_seconds: u64 },
    /// 429: a plan's quota is used up; the message says when it resets and which plan lifts it.
    #[error("{message}")]
    QuotaExceeded { retry_after_seconds: u64, message: String },
    /// 503: a capability is not configured here (no embedding provider); the message says which.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a required variable or secret is missing or invalid. The message names it.
    #[error("configuration error: {0}")]
    Config(String),
    /// 503: a storage binding (D1, KV) failed.
    #[error("storage failure while {context}: {detail}")]
    Storage { context: String, detail: String },
    /// 502: an outside service answered with an error or could not be reached.
    #[error("upstream failure while {context}: {detail}")]
    Upstream { context: String, detail: String },
    /// 500: anything else unexpected.
    #[error("internal error while {context}: {detail}")]
    Internal { context: String, detail: String },
}

impl Error {
    pub fn storage(context: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self::Storage { context: context.into(), detail: detail.to_string() }
    }

    pub fn upstream(context: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self::Upstream { context: context.into(), detail: detail.to_string() }
    }

    pub fn internal(context: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self::Internal { context: context.into(), detail: detail.to_string() }
    }

    /// The HTTP status this error maps to.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) | Self::EmailUnverified(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::Conflict(_) => 409,
            Self::PayloadTooLarge(_) => 413,
            Self::UnsupportedMediaType(_) => 415,
            Self::Unprocessable(_) => 422,
            Self::TooManyRequests { .. } | Self::QuotaExceeded { .. } => 429,
            Self::Config(_) | Self::Internal { .. } => 500,
            Self::Upstream { .. } => 502,
            Self::Storage { .. } | Self::Unavailable(_) => 503,
        }
    }

    /// A stable, machine-readable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::EmailUnverified(_) => "email_unverified",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unprocessable(_) => "unprocessable",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::QuotaExceeded { .. } => "quota_exceeded",
            Self::Config(_) => "configuration_error",
            Self::Storage { .. } => "storage_unavailable",
            Self::Unavailable(_) => "unavailable",
            Self::Upstream { .. } => "upstream_error",
            Self::Internal { .. } => "internal_error",
        }
    }

    /// Whether the details are safe to show the client. Unexpected failures are logged in full and
    /// answered with a generic message.
    fn is_client_safe(&self) -> bool {
        self.status_code() < 500 || matches!(self, Self::Unavailable(_))
    }

    /// The JSON body sent to the client.
    pub fn body(&self) -> ErrorBody {
        let message = if self.is_client_safe() {
            self.to_string()
        } else {
            match self {
                Self::Storage { .. } => "A storage service is unavailable. Try again shortly.".to_owned(),
                Self::Upstream { .. } => "An outside service failed. Try again shortly.".to_owned(),
                _ => "Something went wrong on our side. It has been logged.".to_owned(),
            }
        };
        ErrorBody { error: ErrorDetail { code: self.code(), message } }
    }
}

/// `{"error": {"code", "message"}}`
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize)]
pub struct ErrorDetail {
    pub code: &'static str,
    pub message: String,
}

impl ErrorBody {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an ErrorBody of two strings always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_its_status_and_code() {
        let cases = [
            (Error::BadRequest("x".into()), 400, "bad_request"),
            (Error::Unauthorized("x".into()), 401, "unauthorized"),
            (Error::Forbidden("x".into()), 403, "forbidden"),
            (Error::NotFound("x".into()), 404, "not_found"),
            (Error::Conflict("x".into()), 409, "conflict"),
            (Error::PayloadTooLarge("x".into()), 413, "payload_too_large"),
            (Error::UnsupportedMediaType("x".into()), 415, "unsupported_media_type"),
            (Error::Unprocessable("x".into()), 422, "unprocessable"),
            (Error::TooManyRequests { retry_after_seconds: 3 }, 429, "rate_limited"),
            (Error::QuotaExceeded { retry_after_seconds: 3, message: "x".into() }, 429, "quota_exceeded"),
            (Error::MethodNotAllowed { method: "PUT".into(), allowed: "GET".into() }, 405, "method_not_allowed"),
            (Error::Config("x".into()), 500, "configuration_error"),
            (Error::storage("reading", "disk"), 503, "storage_unavailable"),
            (Error::Unavailable("x".into()), 503, "unavailable"),
            (Error::upstream("posting", "refused"), 502, "upstream_error"),
            (Error::internal("x", "y"), 500, "internal_error"),
        ];
        for (error, status, code) in cases {
            assert_eq!(error.status_code(), status, "{error:?}");
            assert_eq!(error.code(), code, "{error:?}");
        }
    }

    #[test]
    fn unexpected_failures_hide_their_details_from_the_client() {
        let error = Error::storage("loading health checks", "SQLITE_CORRUPT at page 7");
        let json = error.body().to_json();
        assert!(!json.contains("SQLITE_CORRUPT"), "{json}");
        assert!(json.contains("storage_unavailable"));
        // ...while the log line keeps them.
        assert!(error.to_string().contains("SQLITE_CORRUPT"));
    }

    #[test]
    fn the_body_has_the_standard_shape() {
        let json: serde_json::Value =
            serde_json::from_str(&Error::Unavailable("Payments are not configured.".into()).body().to_json())
                .expect("valid JSON");
        assert_eq!(json["error"]["code"], "unavailable");
        assert_eq!(json["error"]["message"], "Payments are not configured.");
    }
}
