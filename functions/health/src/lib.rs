//! `GET /_functions/health`: the platform's health, from real checks of its D1 and KV bindings.
#![cfg(target_arch = "wasm32")]

use shared::Error;
use shared::config::HealthConfig;
use shared::monitoring::health;
use shared::workers::{self, WorkerClock, forwarded, respond};
use worker::{Context, Env, Method, Request, Response, Result, event};

#[event(fetch)]
async fn fetch(request: Request, env: Env, ctx: Context) -> Result<Response> {
    shared::workers::RequestLog::start(shared::web::routes::HEALTH.name, &request)
        .run(handle_request(request, env, ctx))
        .await
}

/// The request, answered; the entry point above writes its log line.
async fn handle_request(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    // Only the site worker's signed requests are answered (shared::auth::internal).
    if let Err(e) = forwarded::verified(&request, &env) {
        return respond::error(&e);
    }
    if request.path() != "/_functions/health" {
        return respond::error(&Error::NotFound(format!("{} is not a path of health", request.path())));
    }
    if !matches!(request.method(), Method::Get | Method::Head) {
        return respond::error(&Error::MethodNotAllowed {
            method: request.method().to_string(),
            allowed: "GET, HEAD".into(),
        });
    }
    let config = match HealthConfig::from_env(&env) {
        Ok(config) => config,
        Err(e) => return respond::error(&e),
    };
    let db = workers::database(&env);
    let kv = workers::cache(&env);
    let report = health::check_all(
        &WorkerClock,
        config.check_timeout_ms,
        db.as_ref().map_err(|e| Error::Config(e.to_string())),
        kv.as_ref().map_err(|e| Error::Config(e.to_string())),
    )
    .await;
    let mut response = respond::json(&report, report.http_status())?;
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}
