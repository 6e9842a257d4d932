//! The function workers that host routes of the table (`routes::HOSTS`: `generateFHIRCode` and
//! `platformApi` for the JSON API, `renderPages` for the rendered pages), written once: [`serve`]
//! logs the request, refuses what the site did not sign, answers liveness at
//! `/_functions/<name>/health`, resolves the path against the same route table the site authorized
//! with (a route another worker hosts is a 404 here), authorizes the signed caller for the route's
//! declared access again, and hands the handler the route's `Target` and an [`ApiRequest`]. A
//! host's own code is only its dispatcher.

use super::{log::RequestLog, request, respond};
use crate::auth::{Caller, roles};
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::web::routes::{self, Function, FunctionRoute, Target};
use worker::{Context, Env, Request, Response};

/// Request bodies of the JSON API are JSON, at most 64 KiB (413 as soon as more arrive).
const MAX_BODY: usize = 64 * 1024;

/// One hosted request (an API call or a page) past routing and authorization.
pub struct ApiRequest<'a> {
    pub request: &'a mut Request,
    /// The request's configuration, each part read once.
    pub settings: &'a Settings<'a, Env>,
    /// The request's context, for work after the response.
    pub ctx: &'a Context,
    /// The caller the site signed, already authorized for the route.
    pub caller: Option<Caller>,
    pub params: Vec<(&'static str, String)>,
}

impl ApiRequest<'_> {
    /// The body as the JSON `T`, or 400 naming what is wrong.
    pub async fn json<T: serde::de::DeserializeOwned>(&mut self) -> Result<T> {
        let bytes = self.body().await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::BadRequest(format!("The body is not the JSON this endpoint takes: {e}")))
    }

    /// The body's bytes, at most 64 KiB: 413 as soon as more arrive, read chunk by chunk.
    pub async fn body(&mut self) -> Result<Vec<u8>> {
        request::body(self.request, MAX_BODY).await
    }

    /// The signed-in caller (the route's access has already required one where it must).
    pub fn signed_in(&self) -> Result<&Caller> {
        self.caller.as_ref().ok_or_else(|| Error::Unauthorized("Sign in to continue.".into()))
    }

    /// A path parameter (`{name}` in the route), or empty.
    pub fn param(&self, name: &str) -> &str {
        routes::param(&self.params, name)
    }

    /// The environment, for its bindings (configuration comes from [`Self::settings`]).
    pub fn env(&self) -> &Env {
        self.settings.env()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.request.headers().get(name).ok().flatten()
    }
}

/// A host's whole fetch handler: the request logged as one line, its preamble, then `handle` with
/// the route's [`Target`] and the [`ApiRequest`]. `handle`'s error answers in the standard shape.
pub async fn serve<F>(
    mut request: Request,
    env: &Env,
    ctx: &Context,
    function: &'static Function,
    handle: F,
) -> worker::Result<Response>
where
    F: AsyncFnOnce(Target, &mut ApiRequest<'_>) -> Result<Response>,
{
    let log = RequestLog::start(function.name, &request);
    log.run(async move {
        let caller = match super::function::signed_caller(&request, env, function) {
            Ok(caller) => caller,
            Err(e) => return respond::error(&e),
        };
        let method = request::method(&request);
        let (access, target, params) = match routes::function_route(function, &method, &request.path()) {
            FunctionRoute::Hosted { access, target, params } => (access, target, params),
            FunctionRoute::Liveness => return super::function::liveness(function),
            FunctionRoute::WrongMethod(allowed) => {
                return respond::error(&Error::MethodNotAllowed { method, allowed });
            }
            FunctionRoute::Own(_) | FunctionRoute::NotFound => {
                let path = request.path();
                return respond::error(&Error::NotFound(format!("{path} is not a path of {}", function.name)));
            }
        };
        if let Err(e) = roles::authorize(access, caller.as_ref()) {
            return respond::error(&e);
        }
        // The request's configuration, each part read from the environment at most once.
        let settings = Settings::new(env);
        let mut call = ApiRequest { request: &mut request, settings: &settings, ctx, caller, params };
        match handle(target, &mut call).await {
            Ok(response) => Ok(response),
            Err(e) => respond::error(&e),
        }
    })
    .await
}

/// A host's entry points: `#[event(start)]` installs the panic hook once per isolate,
/// `#[event(fetch)]` answers through [`serve`] with `handler` (an async function of the route's
/// `Target` and the `&mut ApiRequest`).
#[macro_export]
macro_rules! api_worker {
    ($function:expr, $handler:path) => {
        $crate::panic_hook_at_start!();

        #[::worker_macros::event(fetch)]
        async fn fetch(
            request: ::worker::Request,
            env: ::worker::Env,
            ctx: ::worker::Context,
        ) -> ::worker::Result<::worker::Response> {
            $crate::workers::api::serve(request, &env, &ctx, &$function, $handler).await
        }
    };
}

/// A JSON response with `status`.
pub fn json(value: &impl serde::Serialize, status: u16) -> Result<Response> {
    respond::json(value, status).map_err(|e| Error::internal("writing a response", e))
}

/// A 302 to `location` (OAuth hops).
pub fn redirect(location: &str) -> Result<Response> {
    let failed = |e: worker::Error| Error::internal("redirecting", e);
    let mut response = Response::empty().map_err(failed)?.with_status(302);
    response.headers_mut().set("location", location).map_err(failed)?;
    response.headers_mut().set("cache-control", "no-store").map_err(failed)?;
    Ok(response)
}

/// A query parameter, trimmed; absent when empty.
pub fn query(request: &Request, name: &str) -> Option<String> {
    let url = request.url().ok()?;
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty())
}
