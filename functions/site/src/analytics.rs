//! Analytics in the site worker: `POST /api/events` (browser batches, rate-limited, DNT/GPC and bots
//! dropped, no IP stored), the reports and funnels (JSON or CSV) for the caller's scope, and the
//! dashboard page. Thin adapters over `shared::analytics`.

use crate::api::{ApiRequest, query};
use shared::analytics::{funnels, ingest, reports};
use shared::auth::Caller;
use shared::auth::rate_limit;
use shared::settings::Settings;
use shared::time::Clock;
use shared::web::pages;
use shared::web::routes::AnalyticsApi;
use shared::workers::{self, WorkerClock, respond};
use shared::{Error, Result};
use worker::{Env, Request, Response};

/// The analytics API's dispatcher.
pub async fn api(api: AnalyticsApi, call: &mut ApiRequest<'_>) -> Result<Response> {
    let settings = call.settings;
    match api {
        AnalyticsApi::Events => {
            let body = call.body().await?;
            events(call.request, settings, call.caller.as_ref(), &body).await
        }
        AnalyticsApi::Config => third_party(settings),
        AnalyticsApi::Report => {
            report(call.request, call.settings.env(), call.caller.as_ref(), call.param("report")).await
        }
        AnalyticsApi::Funnels => funnels(settings, call.caller.as_ref()).await,
        AnalyticsApi::Funnel => funnel(call.request, settings, call.caller.as_ref(), call.param("id")).await,
    }
}

fn header(request: &Request, name: &str) -> Option<String> {
    request.headers().get(name).ok().flatten()
}

/// JSON that no cache keeps (reports are per caller).
fn private_json<T: serde::Serialize>(value: &T, status: u16) -> Result<Response> {
    let mut response = crate::api::json(value, status)?;
    response.headers_mut().set("cache-control", "private, no-store").map_err(|e| Error::internal("headers", e))?;
    Ok(response)
}

/// `POST /api/events` with the body already read (64 KiB at most).
async fn events(
    request: &Request,
    settings: &Settings<'_, Env>,
    caller: Option<&Caller>,
    body: &[u8],
) -> Result<Response> {
    let db = workers::database(settings.env())?;
    let now = WorkerClock.now_ms();
    let ip = header(request, "cf-connecting-ip").unwrap_or_else(|| "unknown".into());
    rate_limit::hit(&db, &rate_limit::key("events", &ip), *settings.events_limit()?, now).await?;
    let batch: ingest::Batch = serde_json::from_slice(body).map_err(|e| {
        Error::BadRequest(format!("The body must be {{\"events\": [{{\"type\", \"sessionId\", ...}}]}}: {e}"))
    })?;
    let user_agent = header(request, "user-agent");
    let sender = ingest::Sender {
        ip: &ip,
        user_agent: user_agent.as_deref(),
        do_not_track: ingest::opted_out(header(request, "dnt").as_deref(), header(request, "sec-gpc").as_deref()),
        user_id: caller.map(|c| c.user_id.as_str()),
    };
    private_json(&ingest::ingest(&db, &sender, &batch, now).await?, 202)
}

/// The caller's scope: 401 signed out, 403 without the dashboard.
fn scope(caller: Option<&Caller>) -> Result<reports::Scope> {
    reports::Scope::of(caller.ok_or_else(|| Error::Unauthorized("Sign in to continue.".into()))?)
}

fn range(request: &Request) -> Result<reports::Range> {
    reports::Range::parse(query(request, "start").as_deref(), query(request, "end").as_deref(), WorkerClock.now_ms())
}

async fn report(request: &Request, env: &Env, caller: Option<&Caller>, name: &str) -> Result<Response> {
    let scope = scope(caller)?;
    let range = range(request)?;
    let report = reports::report(&workers::database(env)?, name, &scope, &range).await?;
    respond_with(request, &report, name, &range)
}

/// The report as JSON, or as a CSV download with `?format=csv`.
fn respond_with(request: &Request, report: &reports::Report, name: &str, range: &reports::Range) -> Result<Response> {
    match query(request, "format").as_deref() {
        None | Some("json") => private_json(&report.json, 200),
        Some("csv") => {
            let failed = |e: worker::Error| Error::internal("writing CSV", e);
            let mut response = Response::ok(reports::csv(&report.header, &report.rows)).map_err(failed)?;
            let headers = response.headers_mut();
            headers.set("content-type", "text/csv; charset=utf-8").map_err(failed)?;
            let file = format!("fhiriq-{name}-{}-{}.csv", range.start, range.end);
            headers.set("content-disposition", &format!("attachment; filename=\"{file}\"")).map_err(failed)?;
            headers.set("cache-control", "private, no-store").map_err(failed)?;
            Ok(response)
        }
        Some(other) => Err(Error::BadRequest(format!("format must be json or csv, not {other:?}"))),
    }
}

async fn funnels(settings: &Settings<'_, Env>, caller: Option<&Caller>) -> Result<Response> {
    scope(caller)?;
    private_json(settings.funnels()?, 200)
}

async fn funnel(
    request: &Request,
    settings: &Settings<'_, Env>,
    caller: Option<&Caller>,
    id: &str,
) -> Result<Response> {
    let scope = scope(caller)?;
    let funnel = settings
        .funnels()?
        .iter()
        .find(|f| f.id == id)
        .ok_or_else(|| Error::NotFound(format!("There is no funnel {id:?}; see /api/analytics/funnels.")))?;
    let range = range(request)?;
    let report = funnels::report(&workers::database(settings.env())?, funnel, &scope, &range).await?;
    respond_with(request, &report, &format!("funnel-{id}"), &range)
}

/// `GET /api/analytics/config`: GA4 and PostHog ids when configured, for the consent banner.
fn third_party(settings: &Settings<'_, Env>) -> Result<Response> {
    let config = settings.third_party()?;
    let mut response = respond::json(&config.public(), 200).map_err(|e| Error::internal("writing a response", e))?;
    response.headers_mut().set("cache-control", "public, max-age=300").map_err(|e| Error::internal("headers", e))?;
    Ok(response)
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
    match pages::analytics_page(heading) {
        Ok(html) => {
            let mut response = Response::from_html(html)?;
            response.headers_mut().set("cache-control", "private, no-store")?;
            Ok(response)
        }
        Err(e) => respond::error(&e),
    }
}
