//! `GET /_functions/health`: the platform's health, from real checks of its D1 and KV bindings.
#![cfg(target_arch = "wasm32")]

use shared::Error;
use shared::monitoring::health;
use shared::settings::Settings;
use shared::web::routes::HEALTH;
use shared::workers::function::{self, Call};
use shared::workers::{self, WorkerClock};
use worker::{Env, Response};

/// A health check takes no body.
const MAX_BODY: usize = 0;

shared::function_worker!(HEALTH, MAX_BODY, |call, env, _ctx| check(call, &env));

async fn check(_call: Call, env: &Env) -> shared::Result<Response> {
    let settings = Settings::new(env);
    let config = settings.health()?;
    let db = workers::database(env);
    let kv = workers::cache(env);
    let report = health::check_all(
        &WorkerClock,
        config.check_timeout_ms,
        db.as_ref().map_err(|e| Error::Config(e.to_string())),
        kv.as_ref().map_err(|e| Error::Config(e.to_string())),
    )
    .await;
    let mut response = function::json(&report, report.http_status())?;
    response.headers_mut().set("cache-control", "no-store").map_err(|e| Error::internal("writing headers", e))?;
    Ok(response)
}
