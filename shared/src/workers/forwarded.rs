//! The caller's identity, passed from the site worker to a function worker over the service binding.
//! Function workers have no public route, and the site worker strips any `x-fhiriq-*` header a client
//! sent before adding its own, so a function can trust these headers.

use crate::auth::{Caller, Role};
use worker::{Headers, Request, RequestInit};

const PREFIX: &str = "x-fhiriq-";
const USER_ID: &str = "x-fhiriq-user-id";
const ROLE: &str = "x-fhiriq-role";
const ADMIN: &str = "x-fhiriq-admin";

/// A copy of `request` for a function worker: client `x-fhiriq-*` headers removed, the caller added.
pub fn with_identity(request: &Request, caller: Option<&Caller>) -> worker::Result<Request> {
    let headers = Headers::new();
    for (name, value) in request.headers().entries() {
        if !name.to_ascii_lowercase().starts_with(PREFIX) {
            headers.append(&name, &value)?;
        }
    }
    if let Some(caller) = caller {
        headers.set(USER_ID, &caller.user_id)?;
        headers.set(ROLE, caller.role.as_str())?;
        headers.set(ADMIN, if caller.admin { "1" } else { "0" })?;
    }
    let mut init = RequestInit::new();
    init.with_method(request.method()).with_headers(headers);
    if let Some(body) = request.inner().body() {
        init.with_body(Some(body.into()));
    }
    Request::new_with_init(request.url()?.as_str(), &init)
}

/// The caller as the site worker passed it on: (user id, role, admin).
pub fn identity(request: &Request) -> Option<(String, Role, bool)> {
    let header = |name: &str| request.headers().get(name).ok().flatten();
    let user_id = header(USER_ID)?;
    let role = Role::parse(&header(ROLE)?)?;
    Some((user_id, role, header(ADMIN).as_deref() == Some("1")))
}
