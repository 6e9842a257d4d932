//! `POST /_functions/githubWebhook`: the GitHub App's events. `X-Hub-Signature-256` is checked on
//! the raw body (400 and nothing changes when it fails); deliveries are deduplicated by
//! `X-GitHub-Delivery`. A thin adapter over `shared::github::webhook`.
#![cfg(target_arch = "wasm32")]

use shared::github::webhook;
use shared::time::Clock;
use shared::web::routes::GITHUB_WEBHOOK;
use shared::workers::{self, WorkerClock, forwarded, respond};
use worker::{Context, Env, Method, Request, Response, Result, event};

/// GitHub caps payloads at 25 MB; ours (installation events) are small.
const MAX_BODY: usize = 1024 * 1024;

#[event(fetch)]
async fn fetch(request: Request, env: Env, ctx: Context) -> Result<Response> {
    shared::workers::RequestLog::start(GITHUB_WEBHOOK.name, &request).run(handle_request(request, env, ctx)).await
}

/// The request, answered; the entry point above writes its log line.
async fn handle_request(mut request: Request, env: Env, _ctx: Context) -> Result<Response> {
    // Only the site worker's signed requests are answered (shared::auth::internal).
    if let Err(e) = forwarded::verified(&request, &env) {
        return respond::error(&e);
    }
    if request.path() != "/_functions/githubWebhook" || request.method() != Method::Post {
        return shared::workers::function::other_route(&GITHUB_WEBHOOK, &request);
    }
    match receive(&mut request, &env).await {
        Ok(outcome) => respond::json(&outcome, 200),
        Err(e) => respond::error(&e),
    }
}

async fn receive(request: &mut Request, env: &Env) -> shared::Result<webhook::Outcome> {
    let header = |name: &str| request.headers().get(name).ok().flatten();
    let (signature, delivery, event) =
        (header("x-hub-signature-256"), header("x-github-delivery"), header("x-github-event"));
    // Before reading the body: without the secret no delivery can be verified (503, retried later).
    let secret = shared::signing::webhook_secret(env, "GitHub", "GITHUB_WEBHOOK_SECRET")?;
    let body = workers::request::body(request, MAX_BODY).await?;
    webhook::verify(&secret, signature.as_deref(), &body)?;
    let db = workers::database(env)?;
    webhook::apply(
        &db,
        delivery.as_deref().unwrap_or_default(),
        event.as_deref().unwrap_or_default(),
        &body,
        WorkerClock.now_ms(),
    )
    .await
}
