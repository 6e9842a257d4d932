//! The caller's identity, passed from the site worker to a function worker over the service binding,
//! signed with `INTERNAL_SIGNING_KEY` (the scheme, and why, in `shared::auth::internal`). The site
//! drops any `x-fhiriq-*` header a client sent before adding its own; a function worker reads the
//! identity only through [`verified`], which refuses (401) a request the site did not sign.

use crate::auth::Caller;
use crate::auth::internal::{self, Presented, SigningKeys, Target, V1};
use crate::error::{Error, Result};
use crate::time::Clock;
use crate::workers::WorkerClock;
use worker::{Env, Headers, Request, RequestInit};

/// A copy of `request` for a function worker: client `x-fhiriq-*` headers removed, the caller (if
/// any), a timestamp and the signature added. The body streams through unread.
pub fn with_identity(request: &Request, env: &Env, caller: Option<&Caller>) -> Result<Request> {
    let keys = SigningKeys::from_env(env)?;
    let method = super::request::method(request);
    let url = request.inner().url();
    let path_and_query = internal::path_and_query(&url);
    let signed = keys.sign(Target { method: &method, path_and_query }, caller, now_seconds());
    let failed = |e: worker::Error| Error::internal("forwarding a request to a function worker", e);
    let headers = Headers::new();
    for (name, value) in request.headers().entries() {
        if !name.to_ascii_lowercase().starts_with(internal::HEADER_PREFIX) {
            headers.append(&name, &value).map_err(failed)?;
        }
    }
    for (name, value) in signed {
        headers.set(name, &value).map_err(failed)?;
    }
    let mut init = RequestInit::new();
    // The site forwards only the methods its route table names, all of which `Method` knows; were it
    // ever another, the function would see GET while the signature says otherwise, and refuse it.
    init.with_method(worker::Method::from(method)).with_headers(headers);
    // A function's redirect (the Builder's GitHub OAuth hops) is the browser's to follow: followed
    // here, it would go back over the binding to the same function, unsigned.
    init.with_redirect(worker::RequestRedirect::Manual);
    if let Some(body) = request.inner().body() {
        init.with_body(Some(body.into()));
    }
    Request::new_with_init(&url, &init).map_err(failed)
}

/// The caller the site signed for this request (`None`: signed out), or the error to answer: 401
/// when the request is unsigned, tampered with, signed with another key, for another method or path,
/// or older than the freshness window; 503 when the key is not configured.
pub fn verified(request: &Request, env: &Env) -> Result<Option<Caller>> {
    let keys = SigningKeys::from_env(env)?;
    let header = |name: &str| request.headers().get(name).ok().flatten();
    let (caller, timestamp, signature) =
        (header(internal::CALLER), header(internal::TIMESTAMP), header(internal::SIGNATURE));
    let (user_id, role, admin) = (header(internal::V1_USER_ID), header(internal::V1_ROLE), header(internal::V1_ADMIN));
    let presented = Presented {
        caller: caller.as_deref(),
        timestamp: timestamp.as_deref(),
        signature: signature.as_deref(),
        v1: V1 { user_id: user_id.as_deref(), role: role.as_deref(), admin: admin.as_deref() },
    };
    let (method, url) = (super::request::method(request), request.inner().url());
    keys.verify(Target { method: &method, path_and_query: internal::path_and_query(&url) }, &presented, now_seconds())
}

fn now_seconds() -> i64 {
    WorkerClock.now_ms() / 1000
}
