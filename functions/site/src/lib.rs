//! The site worker: the platform's one origin. Every request is resolved against the route table in
//! `shared::web::routes`, checked for cross-site origin, authorized for the caller from the session
//! cookie, and then served: static pages from `site/` and `/status` here; everything else, signed
//! with the caller, by a function worker over its service binding: the `/_functions/*` routes, the
//! JSON API (`/api/*`: `platformApi` and `generateFHIRCode`) and the rendered pages (`renderPages`:
//! content, the FHIR reference, pricing). Pages get the visitor's navigation written in here, and
//! every response the security headers. It also runs the crons.
#![cfg(target_arch = "wasm32")]

mod monitor;

use shared::Error;
use shared::auth::{Access, Caller, csrf, roles::authorize, service};
use shared::monitoring::status;
use shared::settings::Settings;
use shared::time::Clock;
use shared::web::routes::{self, Function, Resolved, RouteSpec, Target};
use shared::web::{headers, pages};
use shared::workers::{self, ASSETS, WorkerClock, respond};
use worker::{Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};
use worker_macros::event;

shared::panic_hook_at_start!();

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    shared::workers::RequestLog::start("site", &request).run(handle_request(request, env)).await
}

/// The request, answered; the entry point above writes its log line.
async fn handle_request(request: Request, env: Env) -> Result<Response> {
    // The request's configuration, each part read from the environment at most once.
    let settings = Settings::new(&env);
    let policy = content_security_policy(&request, &settings);
    let response = match route(request, &settings).await {
        Ok(response) => response,
        Err(e) => respond::error(&Error::internal("serving a request", e))?,
    };
    respond::secured(response, &policy)
}

/// The default policy, widened for a course page's Calendly frame and, when an operator configured
/// GA4 or PostHog, for their origins (their scripts still wait for the visitor's consent).
fn content_security_policy(request: &Request, settings: &Settings<'_, Env>) -> String {
    let course = matches!(
        routes::resolve(&workers::request::method(request), &request.path()),
        Resolved::Route(RouteSpec { target: Target::Content(routes::ContentPage::Course), .. }, _)
    );
    let mut widen = if course { headers::calendly() } else { headers::Widen::default() };
    match settings.third_party() {
        Ok(third) => widen = widen.with(&third.widen()),
        Err(e) => shared::workers::log::error(&e),
    }
    headers::content_security_policy(&widen)
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    monitor::on_cron(&event.cron(), &env).await;
}

/// Routes one request. The monitor calls this too, so its probes of site paths cross the same
/// routing, checks and service bindings as a visitor's request.
pub(crate) async fn route(request: Request, settings: &Settings<'_, Env>) -> Result<Response> {
    let env = settings.env();
    // As sent: `request.method()` reads a method it does not know (QUERY) as GET.
    let method = workers::request::method(&request);
    match routes::resolve(&method, &request.path()) {
        Resolved::Asset => asset(request, env).await,
        Resolved::UnknownEndpoint => respond::error(&Error::NotFound(format!("{} is not an endpoint", request.path()))),
        Resolved::MethodNotAllowed(allowed) => respond::error(&Error::MethodNotAllowed { method, allowed }),
        Resolved::Route(spec, _) => match guard(&request, settings, &spec).await {
            Ok(caller) if spec.target.is_page() => {
                let visitor = caller.clone();
                let response = serve(request, settings, spec, caller).await?;
                personalized(response, settings, visitor.as_ref()).await
            }
            Ok(caller) => serve(request, settings, spec, caller).await,
            // Back from Stripe with an expired session: sign in, then finish.
            Err(e) if spec.target == Target::BillingSuccess && e.status_code() == 401 => {
                let back = format!("{}?{}", request.path(), request.url()?.query().unwrap_or_default());
                redirect(&format!("/signin?next={}", shared::web::urlencode(&back)))
            }
            // A page for signed-in users or staff, visited signed out: sign in, then back here (the
            // path is one of the route table's literal pages).
            Err(e) if spec.target.sends_to_sign_in() && e.status_code() == 401 => {
                redirect(&format!("/signin?next={}", request.path()))
            }
            Err(e) => respond::error(&e),
        },
    }
}

/// Cross-site check for state-changing requests, then the caller from the session, then the one
/// authorization decision for the route's declared access.
async fn guard(request: &Request, settings: &Settings<'_, Env>, spec: &RouteSpec) -> shared::Result<Option<Caller>> {
    let env = settings.env();
    let header = |name: &str| request.headers().get(name).ok().flatten();
    let url = request.url().map_err(|e| Error::BadRequest(format!("bad URL: {e}")))?;
    let own_origin = url.origin().ascii_serialization();
    let (origin, fetch_site, content_type) = (header("origin"), header("sec-fetch-site"), header("content-type"));
    // Browsers always send Content-Length with a body. A chunked body without it still has to parse
    // as JSON in the handler, so it cannot smuggle a form post through.
    let has_body = header("content-length").and_then(|l| l.parse::<u64>().ok()).is_some_and(|l| l > 0);
    csrf::check(&csrf::RequestFacts {
        method: spec.method,
        own_origin: &own_origin,
        origin: origin.as_deref(),
        sec_fetch_site: fetch_site.as_deref(),
        content_type: content_type.as_deref(),
        has_body,
    })?;
    // A service presenting the internal token, on a route that accepts one.
    if spec.access == Access::AdminOrService {
        let bearer = header("authorization").and_then(|h| h.strip_prefix("Bearer ").map(str::to_owned));
        if shared::auth::roles::is_service_token(bearer.as_deref(), settings.service_token()?.as_ref()) {
            return Ok(Some(shared::auth::roles::service_caller()));
        }
    }
    // Public routes skip the session lookup, except the accounts API, which may use it, and pages,
    // which name the signed-in visitor in their navigation.
    let wants_caller = spec.access != Access::Public || matches!(spec.target, Target::Api(_)) || spec.target.is_page();
    let cookie = settings.session_cookie()?;
    let caller = match cookie.token(header("cookie").as_deref()) {
        Some(token) if wants_caller => {
            let config = settings.sessions()?;
            let found = match workers::database(env) {
                Ok(db) => service::authenticate(&db, &token, WorkerClock.now_ms(), config).await,
                Err(e) => Err(e),
            };
            match found {
                Ok(caller) => caller,
                // A public page only names its visitor: when D1 cannot say who that is, the page is
                // still served, as to a visitor (logged). Anything else needs the caller.
                Err(e) if spec.access == Access::Public && spec.target.is_page() => {
                    shared::workers::log::error(&e);
                    None
                }
                Err(e) => return Err(e),
            }
        }
        _ => None,
    };
    authorize(spec.access, caller.as_ref())?;
    Ok(caller)
}

async fn serve(
    request: Request,
    settings: &Settings<'_, Env>,
    spec: RouteSpec,
    caller: Option<Caller>,
) -> Result<Response> {
    let env = settings.env();
    match spec.target {
        // A personalized page (a signed-in visitor, or the analytics configuration in it) is fetched
        // whole, never answered "not modified" from a copy the browser kept before.
        Target::Asset | Target::AccountPage if caller.is_some() || analytics_configured(settings) => {
            let url = request.url()?;
            env.assets(ASSETS)?.fetch(url.to_string(), None).await
        }
        Target::Asset | Target::AccountPage => asset(request, env).await,
        Target::Status => status_page(env).await,
        Target::Function(function) => forward(&request, env, function, caller.as_ref()).await,
        target => match target.host() {
            // A rendered page that does not exist is the site's 404 page, with status 404.
            Some(host) if target.is_page() => match forward(&request, env, host, caller.as_ref()).await? {
                response if response.status_code() == 404 => not_found(&request, env).await,
                response => Ok(response),
            },
            Some(host) => forward(&request, env, host, caller.as_ref()).await,
            None => respond::error(&Error::internal("routing", format!("nothing serves {:?}", target))),
        },
    }
}

/// The site's 404 page, with status 404 (`not_found_handling`).
async fn not_found(request: &Request, env: &Env) -> Result<Response> {
    let mut url = request.url()?;
    url.set_path("/no-such-page");
    url.set_query(None);
    asset(Request::new(url.as_str(), worker::Method::Get)?, env).await
}

/// The request, signed with its caller (INTERNAL_SIGNING_KEY; 503 when the key is not configured),
/// to `function` over its service binding; the body streams through unread.
async fn forward(request: &Request, env: &Env, function: Function, caller: Option<&Caller>) -> Result<Response> {
    let service = match env.service(function.binding) {
        Ok(service) => service,
        Err(e) => {
            return respond::error(&Error::Config(format!("service binding {} is missing: {e}", function.binding)));
        }
    };
    let forwarded = match workers::forwarded::with_identity(request, env, caller) {
        Ok(forwarded) => forwarded,
        Err(e) => return respond::error(&e),
    };
    match service.fetch_request(forwarded).await {
        Ok(response) => Ok(response),
        Err(e) => respond::error(&Error::upstream(format!("calling the {} function", function.name), e)),
    }
}

/// A page as its visitor sees it: their account in the navigation (with the payment banner's flag)
/// and the operator's analytics configuration, both in the HTML (`pages::personalize`), so the page
/// makes no API call to learn either. A personalized page is private and never revalidated by ETag.
async fn personalized(response: Response, settings: &Settings<'_, Env>, caller: Option<&Caller>) -> Result<Response> {
    let html = response.headers().get("content-type")?.is_some_and(|t| t.starts_with("text/html"));
    if response.status_code() != 200 || !html {
        return Ok(response);
    }
    let logged = |e: Error| shared::workers::log::error(&e);
    let analytics = settings.third_party().map_err(logged).ok().and_then(|third| third.configured());
    let payment_needed = match caller {
        Some(caller) => payment_needed(settings, caller).await.map_err(logged).unwrap_or(false),
        None => false,
    };
    let visitor = caller.map(|c| pages::Visitor { email: &c.email, payment_needed });
    let status = response.status_code();
    // A fetched response's headers are read-only: the page is answered with a copy.
    let headers = response.headers().clone();
    // Every page differs by the session cookie: a browser must not show its signed-out copy (a
    // content page may be cached for minutes) once the visitor has signed in, or the reverse.
    headers.set("vary", "cookie")?;
    if visitor.is_none() && analytics.is_none() {
        let (_, body) = response.into_parts();
        return Ok(Response::from_body(body)?.with_status(status).with_headers(headers));
    }
    let mut response = response;
    let body = response.text().await?;
    let page = match pages::personalize(&body, visitor.as_ref(), analytics.as_ref()) {
        Ok(Some(page)) => page,
        Ok(None) => body,
        Err(e) => return respond::error(&e),
    };
    for name in ["etag", "content-length", "last-modified"] {
        headers.delete(name)?;
    }
    // Personal now, so never shared; a page its host marked no-store (staff pages, /status) stays so.
    if visitor.is_some() {
        let no_store = headers.get("cache-control")?.is_some_and(|c| c.contains("no-store"));
        headers.set("cache-control", if no_store { "private, no-store" } else { "private, no-cache" })?;
    }
    Ok(Response::ok(page)?.with_status(status).with_headers(headers))
}

/// Whether an operator configured GA4 or PostHog (their configuration goes into every page).
fn analytics_configured(settings: &Settings<'_, Env>) -> bool {
    settings.third_party().is_ok_and(|third| third.configured().is_some())
}

/// Whether the caller's subscription is waiting on a failed payment (the banner every page shows).
async fn payment_needed(settings: &Settings<'_, Env>, caller: &Caller) -> shared::Result<bool> {
    Ok(shared::billing::store::summary(&workers::database(settings.env())?, &caller.user_id).await?.payment_needed())
}

fn redirect(location: &str) -> Result<Response> {
    let mut response = Response::empty()?.with_status(303);
    response.headers_mut().set("location", location)?;
    Ok(response)
}

async fn status_page(env: &Env) -> Result<Response> {
    let now = WorkerClock.now_ms();
    let view = match workers::database(env) {
        Ok(db) => status::load(&db, now).await,
        Err(e) => Err(e),
    };
    let (view, code) = match view {
        Ok(view) => (view, 200),
        Err(e) => {
            shared::workers::log::error(&e);
            let mut empty = status::build(Vec::new(), Vec::new(), now);
            empty.headline = "Status history is unavailable right now";
            (empty, 503)
        }
    };
    let html = match pages::status_page(&view) {
        Ok(html) => html,
        Err(e) => return respond::error(&e),
    };
    let mut response = Response::from_html(html)?.with_status(code);
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}

/// A static page from `site/`; a miss is the 404 page with status 404 (`not_found_handling`).
pub(crate) async fn asset(request: Request, env: &Env) -> Result<Response> {
    env.assets(ASSETS)?.fetch_request(request).await
}
