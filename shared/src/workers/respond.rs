//! Responses: JSON, errors in the standard shape (logged as a JSON line, answered safely), and the
//! security headers every response carries.

use crate::error::Error;
use crate::web::headers::SECURITY_HEADERS;
use worker::{Headers, Response};

/// A JSON response with `status`.
pub fn json(value: &impl serde::Serialize, status: u16) -> worker::Result<Response> {
    Ok(Response::from_json(value)?.with_status(status))
}

/// A rendered page with its `cache-control`, or the standard error response if rendering failed.
pub fn html(page: crate::error::Result<String>, cache_control: &str) -> worker::Result<Response> {
    match page {
        Ok(html) => {
            let mut response = Response::from_html(html)?;
            response.headers_mut().set("cache-control", cache_control)?;
            Ok(response)
        }
        Err(e) => error(&e),
    }
}

/// The standard error response. Unexpected failures are logged first, as a JSON line with the
/// current request's id.
pub fn error(error: &Error) -> worker::Result<Response> {
    if error.status_code() >= 500 && error.status_code() != 501 {
        super::log::error(error);
    }
    let mut response = Response::from_json(&error.body())?.with_status(error.status_code());
    match error {
        Error::MethodNotAllowed { allowed, .. } => response.headers_mut().set("allow", allowed)?,
        Error::TooManyRequests { retry_after_seconds } | Error::QuotaExceeded { retry_after_seconds, .. } => {
            response.headers_mut().set("retry-after", &retry_after_seconds.to_string())?
        }
        _ => {}
    }
    Ok(response)
}

/// A copy of `response` with the security headers added, and `content_security_policy` as its CSP.
/// Headers of a response that came from `fetch` or a binding are immutable, so they are copied into a
/// fresh set.
pub fn secured(response: Response, content_security_policy: &str) -> worker::Result<Response> {
    let status = response.status_code();
    let headers = Headers::new();
    for (name, value) in response.headers().entries() {
        headers.append(&name, &value)?;
    }
    for (name, value) in SECURITY_HEADERS {
        headers.set(name, value)?;
    }
    headers.set("content-security-policy", content_security_policy)?;
    let (_, body) = response.into_parts();
    Ok(Response::from_body(body)?.with_status(status).with_headers(headers))
}
