//! The analytics dashboard's page (its data comes from the API, the `platformApi` function's, for the
//! caller's scope).

use shared::analytics::reports;
use shared::auth::Caller;
use shared::web::pages;
use shared::workers::respond;
use shared::{Error, Result};
use worker::Response;

/// The caller's scope: 401 signed out, 403 without the dashboard.
fn scope(caller: Option<&Caller>) -> Result<reports::Scope> {
    reports::Scope::of(caller.ok_or_else(|| Error::Unauthorized("Sign in to continue.".into()))?)
}

/// `/analytics`: the dashboard's page (its data comes from the API, for the caller's scope).
pub fn page(caller: Option<&Caller>) -> worker::Result<Response> {
    let scope = match scope(caller) {
        Ok(scope) => scope,
        Err(e) => return respond::error(&e),
    };
    let heading = match scope {
        reports::Scope::Platform => "Platform analytics",
        reports::Scope::Organisation(_) => "Your organisation's analytics",
    };
    respond::html(pages::analytics_page(heading), "private, no-store")
}
