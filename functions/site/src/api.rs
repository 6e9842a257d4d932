//! The site's JSON API: one request type every domain's dispatcher takes, and the dispatch by domain
//! (`shared::web::routes::Api`). Each domain's routes are answered beside it: `accounts`, `billing`,
//! `builder`, `reference` (search), `content` and `analytics`, each matching its own enum exhaustively.
//! Bodies are JSON (at most 64 KiB); the caller comes from the session cookie, already authorized by
//! the route's declared access.

use shared::Error;
use shared::auth::Caller;
use shared::settings::Settings;
use shared::web::routes::Api;
use shared::workers::{self, respond};
use worker::{Context, Env, Request, Response, Result};

const MAX_BODY: usize = 64 * 1024;

/// One API request past routing and authorization.
pub struct ApiRequest<'a> {
    pub request: &'a mut Request,
    /// The request's configuration, each part read once.
    pub settings: &'a Settings<'a, Env>,
    /// The request's context (for work after the response); `None` when the monitor calls a route.
    pub ctx: Option<&'a Context>,
    pub caller: Option<Caller>,
    pub params: Vec<(&'static str, String)>,
}

impl ApiRequest<'_> {
    /// The body as the JSON `T`, or 400 naming what is wrong.
    pub async fn json<T: serde::de::DeserializeOwned>(&mut self) -> shared::Result<T> {
        let bytes = self.body().await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::BadRequest(format!("The body is not the JSON this endpoint takes: {e}")))
    }

    /// The body's bytes, at most 64 KiB: 413 as soon as more arrive, read chunk by chunk.
    pub async fn body(&mut self) -> shared::Result<Vec<u8>> {
        workers::request::body(self.request, MAX_BODY).await
    }

    /// The signed-in caller (the route's access has already required one where it must).
    pub fn signed_in(&self) -> shared::Result<&Caller> {
        self.caller.as_ref().ok_or_else(|| Error::Unauthorized("Sign in to continue.".into()))
    }

    /// A path parameter (`{name}` in the route), or empty.
    pub fn param(&self, name: &str) -> &str {
        shared::web::routes::param(&self.params, name)
    }

    /// The environment, for its bindings (configuration comes from [`Self::settings`]).
    pub fn env(&self) -> &Env {
        self.settings.env()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.request.headers().get(name).ok().flatten()
    }
}

pub async fn handle(
    api: Api,
    mut request: Request,
    settings: &Settings<'_, Env>,
    ctx: Option<&Context>,
    caller: Option<Caller>,
    params: Vec<(&'static str, String)>,
) -> Result<Response> {
    let mut call = ApiRequest { request: &mut request, settings, ctx, caller, params };
    let outcome = match api {
        Api::Accounts(api) => crate::accounts::api(api, &mut call).await,
        Api::Billing(api) => crate::billing::api(api, &mut call).await,
        Api::Builder(api) => crate::builder::api(api, &mut call).await,
        Api::Search => crate::reference::search(&call).await,
        Api::Content(api) => crate::content::api(api, &mut call).await,
        Api::Analytics(api) => crate::analytics::api(api, &mut call).await,
    };
    match outcome {
        Ok(response) => Ok(response),
        Err(e) => respond::error(&e),
    }
}

/// A JSON response with `status`.
pub(crate) fn json(value: &impl serde::Serialize, status: u16) -> shared::Result<Response> {
    respond::json(value, status).map_err(|e| Error::internal("writing a response", e))
}

/// A 302 to `location` (OAuth hops).
pub(crate) fn redirect(location: &str) -> shared::Result<Response> {
    let failed = |e: worker::Error| Error::internal("redirecting", e);
    let mut response = Response::empty().map_err(failed)?.with_status(302);
    response.headers_mut().set("location", location).map_err(failed)?;
    response.headers_mut().set("cache-control", "no-store").map_err(failed)?;
    Ok(response)
}

/// A query parameter, trimmed; absent when empty.
pub(crate) fn query(request: &Request, name: &str) -> Option<String> {
    let url = request.url().ok()?;
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty())
}
