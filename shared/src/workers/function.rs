//! The common shape of a function worker: `/_functions/<name>/health` answers liveness, the function's
//! own path takes its one method (any other answers 405), and any other path is 404, each in the
//! standard error shape.

use super::respond;
use crate::error::Error;
use crate::web::routes::{Function, liveness_path};
use worker::{Method, Request, Response};

/// Liveness of one function worker: it is deployed, bound and answering.
pub fn liveness(function: &Function) -> worker::Result<Response> {
    respond::json(&serde_json::json!({"status": "ok", "function": function.name, "version": crate::VERSION}), 200)
}

/// The answer for anything but the function's own `POST /_functions/<name>`: liveness at its health
/// path, 405 naming the method at its own path, 404 elsewhere.
pub fn other_route(function: &'static Function, request: &Request) -> worker::Result<Response> {
    let path = request.path();
    let method = super::request::method(request);
    if path == liveness_path(function) {
        return match request.method() {
            Method::Get | Method::Head => liveness(function),
            _ => respond::error(&Error::MethodNotAllowed { method, allowed: "GET, HEAD".into() }),
        };
    }
    if path == format!("/_functions/{}", function.name) {
        return respond::error(&Error::MethodNotAllowed { method, allowed: "POST".into() });
    }
    respond::error(&Error::NotFound(format!("{path} is not a path of {}", function.name)))
}
