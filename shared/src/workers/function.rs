//! The common shape of a function worker: `/_functions/<name>/health` answers liveness, and a function
//! whose capability has not been built answers 501 in the standard error shape.

use super::respond;
use crate::error::Error;
use crate::web::routes::{Function, liveness_path};
use worker::{Method, Request, Response};

/// Liveness of one function worker: it is deployed, bound and answering.
pub fn liveness(function: &Function) -> worker::Result<Response> {
    respond::json(&serde_json::json!({"status": "ok", "function": function.name, "version": crate::VERSION}), 200)
}

/// The answer of a function that is routed but not implemented yet.
pub fn not_implemented(function: &'static Function, request: &Request) -> worker::Result<Response> {
    let path = request.path();
    if path == liveness_path(function) {
        return match request.method() {
            Method::Get | Method::Head => liveness(function),
            other => {
                respond::error(&Error::MethodNotAllowed { method: other.to_string(), allowed: "GET, HEAD".into() })
            }
        };
    }
    if path == format!("/_functions/{}", function.name) {
        return respond::error(&Error::NotImplemented(function.name));
    }
    respond::error(&Error::NotFound(format!("{path} is not a path of {}", function.name)))
}
