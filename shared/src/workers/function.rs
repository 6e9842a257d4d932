//! The common shape of a function worker, written once: [`serve`] logs the request, refuses what the
//! site did not sign, answers liveness at `/_functions/<name>/health`, 405 for another method at the
//! function's own path and 404 elsewhere, checks the signed caller against the access the route table
//! declares for the function (`roles::authorize`, as the site does), reads the body under a cap, and
//! turns the handler's result into a response. A function's own code is only its handler.

use super::{forwarded, log::RequestLog, request, respond};
use crate::auth::{Caller, roles};
use crate::error::{Error, Result};
use crate::web::routes::{self, Function, FunctionRoute};
use worker::{Env, Headers, Request, Response};

/// What a function's handler is given: the request past its preamble.
pub struct Call {
    /// The caller the site signed, already authorized for the function's route.
    pub caller: Option<Caller>,
    pub headers: Headers,
    /// The whole body, at most the function's cap.
    pub body: Vec<u8>,
}

impl Call {
    /// The signed-in caller; a route whose access needs one has been authorized, so this is a 401
    /// only for a public route's handler that asks for one.
    pub fn signed_in(&self) -> Result<&Caller> {
        self.caller.as_ref().ok_or_else(|| Error::Unauthorized("Sign in to continue.".into()))
    }

    /// A request header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).ok().flatten()
    }
}

/// A function worker's whole fetch handler: the request logged as one line, its preamble, then
/// `handle` with the parsed [`Call`]. `handle`'s error answers in the standard error shape.
pub async fn serve<F, Fut>(
    mut request: Request,
    env: &Env,
    function: &'static Function,
    max_body: usize,
    handle: F,
) -> worker::Result<Response>
where
    F: FnOnce(Call) -> Fut,
    Fut: std::future::Future<Output = Result<Response>>,
{
    let log = RequestLog::start(function.name, &request);
    log.run(async move {
        let caller = match signed_caller(&request, env, function) {
            Ok(caller) => caller,
            Err(e) => return respond::error(&e),
        };
        let method = request::method(&request);
        let access = match routes::function_route(function, &method, &request.path()) {
            FunctionRoute::Own(access) => access,
            FunctionRoute::Liveness => return liveness(function),
            FunctionRoute::WrongMethod(allowed) => {
                return respond::error(&Error::MethodNotAllowed { method, allowed });
            }
            // A function with a route of its own hosts no API routes.
            FunctionRoute::Hosted { .. } | FunctionRoute::NotFound => {
                let path = request.path();
                return respond::error(&Error::NotFound(format!("{path} is not a path of {}", function.name)));
            }
        };
        if let Err(e) = roles::authorize(access, caller.as_ref()) {
            return respond::error(&e);
        }
        let body = match request::body(&mut request, max_body).await {
            Ok(body) => body,
            Err(e) => return respond::error(&e),
        };
        let call = Call { caller, headers: request.headers().clone(), body };
        match handle(call).await {
            Ok(response) => Ok(response),
            Err(e) => respond::error(&e),
        }
    })
    .await
}

/// The caller the site signed for `request` (only the site worker's signed requests are answered:
/// crate::auth::internal); with `PANIC_PROBE` set, the probe path panics here, on purpose.
pub(crate) fn signed_caller(request: &Request, env: &Env, function: &Function) -> Result<Option<Caller>> {
    let caller = forwarded::verified(request, env)?;
    if super::panic::probe(env, function.name, &request.path()) {
        panic!("the deliberate panic of {}'s probe ({})", function.name, super::panic::PANIC_PROBE);
    }
    Ok(caller)
}

/// A function worker's two entry points: `#[event(start)]` installs the panic hook once per isolate,
/// `#[event(fetch)]` answers through [`serve`] with `handler` (given the [`Call`], the `Env` and the
/// `Context` under the names the caller chooses).
#[macro_export]
macro_rules! function_worker {
    ($function:expr, $max_body:expr, |$call:ident, $env:ident, $ctx:ident| $handler:expr) => {
        $crate::panic_hook_at_start!();

        #[::worker_macros::event(fetch)]
        async fn fetch(
            request: ::worker::Request,
            $env: ::worker::Env,
            $ctx: ::worker::Context,
        ) -> ::worker::Result<::worker::Response> {
            $crate::workers::function::serve(request, &$env, &$function, $max_body, |$call| $handler).await
        }
    };
}

/// A JSON response with `status`, for a handler's `Ok`.
pub fn json(value: &impl serde::Serialize, status: u16) -> Result<Response> {
    respond::json(value, status).map_err(|e| Error::internal("writing the response", e))
}

/// Liveness of one function worker: it is deployed, bound and answering.
pub(crate) fn liveness(function: &Function) -> worker::Result<Response> {
    respond::json(&serde_json::json!({"status": "ok", "function": function.name, "version": crate::VERSION}), 200)
}
