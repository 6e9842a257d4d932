//! `POST /_functions/calendlyWebhook`: Calendly's `invitee.created` and `invitee.canceled`, recorded
//! as bookings of a course's live sessions. `Calendly-Webhook-Signature` is checked on the raw body
//! (400 and nothing changes when it fails or is stale). A thin adapter over `shared::content::calendly`.
#![cfg(target_arch = "wasm32")]

use shared::content::calendly;
use shared::time::Clock;
use shared::web::routes::CALENDLY_WEBHOOK;
use shared::workers::{self, WorkerClock, forwarded, respond};
use worker::{Context, Env, Method, Request, Response, Result, event};

/// Calendly's payloads are a few KiB.
const MAX_BODY: usize = 256 * 1024;

#[event(fetch)]
async fn fetch(request: Request, env: Env, ctx: Context) -> Result<Response> {
    shared::workers::RequestLog::start(CALENDLY_WEBHOOK.name, &request).run(handle_request(request, env, ctx)).await
}

/// The request, answered; the entry point above writes its log line.
async fn handle_request(mut request: Request, env: Env, _ctx: Context) -> Result<Response> {
    // Only the site worker's signed requests are answered (shared::auth::internal).
    if let Err(e) = forwarded::verified(&request, &env) {
        return respond::error(&e);
    }
    if request.path() != "/_functions/calendlyWebhook" || request.method() != Method::Post {
        return shared::workers::function::other_route(&CALENDLY_WEBHOOK, &request);
    }
    match receive(&mut request, &env).await {
        Ok(outcome) => respond::json(&outcome, 200),
        Err(e) => respond::error(&e),
    }
}

async fn receive(request: &mut Request, env: &Env) -> shared::Result<calendly::Outcome> {
    let signature = request.headers().get("calendly-webhook-signature").ok().flatten();
    // Before reading the body: without the key no delivery can be verified (503, retried later).
    let key = shared::signing::webhook_secret(env, "Calendly", "CALENDLY_WEBHOOK_SIGNING_KEY")?;
    let body = workers::request::body(request, MAX_BODY).await?;
    let now = WorkerClock.now_ms();
    calendly::verify(signature.as_deref(), &body, &key, now / 1000)?;
    calendly::apply(&workers::database(env)?, &body, now).await
}
