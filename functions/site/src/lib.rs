//! The site worker: the platform's one origin. It serves `site/` as static assets, renders `/status`,
//! forwards `/_functions/<name>` to each function worker over its service binding, puts the security
//! headers on every response, and runs the monitoring and clean-up crons.
#![cfg(target_arch = "wasm32")]

mod monitor;

use shared::Error;
use shared::monitoring::status;
use shared::time::Clock;
use shared::web::pages;
use shared::web::routes::{self, Route};
use shared::workers::{self, ASSETS, WorkerClock, respond};
use worker::{Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent, event};

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    let response = match route(request, &env).await {
        Ok(response) => response,
        Err(e) => respond::error(&Error::internal("serving a request", e))?,
    };
    respond::secured(response)
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    monitor::on_cron(&event.cron(), &env).await;
}

/// Routes one request. The monitor calls this too, so its probes of site paths cross the same
/// routing and service bindings as a visitor's request.
pub(crate) async fn route(request: Request, env: &Env) -> Result<Response> {
    match routes::resolve(&request.path()) {
        Route::Function(function) => match env.service(function.binding) {
            Ok(service) => match service.fetch_request(request).await {
                Ok(response) => Ok(response),
                Err(e) => respond::error(&Error::upstream(
                    format!("calling the {} function", function.name),
                    e,
                )),
            },
            Err(e) => respond::error(&Error::Config(format!(
                "service binding {} is missing: {e}",
                function.binding
            ))),
        },
        Route::UnknownFunction(name) => respond::error(&Error::NotFound(format!(
            "there is no function named {name:?}"
        ))),
        Route::StatusPage => status_page(env).await,
        Route::Asset => asset(request, env).await,
    }
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
            worker::console_error!("status page: {e}");
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

/// A static asset; a miss gets the 404 page with status 404.
async fn asset(request: Request, env: &Env) -> Result<Response> {
    let assets = env.assets(ASSETS)?;
    let mut url = request.url()?;
    let response = assets.fetch_request(request).await?;
    if response.status_code() != 404 {
        return Ok(response);
    }
    url.set_path("/404");
    url.set_query(None);
    let page = assets.fetch(url.to_string(), None).await?;
    let (_, body) = page.into_parts();
    let mut response = Response::from_body(body)?.with_status(404);
    response
        .headers_mut()
        .set("content-type", "text/html; charset=utf-8")?;
    Ok(response)
}
