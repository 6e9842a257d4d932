//! `POST /_functions/githubWebhook`: the GitHub App's events. `X-Hub-Signature-256` is checked on
//! the raw body (400 and nothing changes when it fails); deliveries are deduplicated by
//! `X-GitHub-Delivery`. A thin adapter over `shared::github::webhook`.
#![cfg(target_arch = "wasm32")]

use shared::github::webhook;
use shared::settings::Settings;
use shared::time::Clock;
use shared::web::routes::GITHUB_WEBHOOK;
use shared::workers::function::{self, Call};
use shared::workers::{self, WorkerClock};
use worker::{Env, Response};

/// GitHub caps payloads at 25 MB; ours (installation events) are small.
const MAX_BODY: usize = 1024 * 1024;

shared::function_worker!(GITHUB_WEBHOOK, MAX_BODY, |call, env, _ctx| receive(call, &env));

async fn receive(call: Call, env: &Env) -> shared::Result<Response> {
    // Without the secret no delivery can be verified (503, retried later).
    let settings = Settings::new(env);
    let secret = settings.github_webhook_secret()?;
    webhook::verify(secret, call.header("x-hub-signature-256").as_deref(), &call.body)?;
    let db = workers::database(env)?;
    let (delivery, event) = (call.header("x-github-delivery"), call.header("x-github-event"));
    let outcome = webhook::apply(
        &db,
        delivery.as_deref().unwrap_or_default(),
        event.as_deref().unwrap_or_default(),
        &call.body,
        WorkerClock.now_ms(),
    )
    .await?;
    function::json(&outcome, 200)
}
