//! `POST /_functions/calendlyWebhook`: Calendly's `invitee.created` and `invitee.canceled`, recorded
//! as bookings of a course's live sessions. `Calendly-Webhook-Signature` is checked on the raw body
//! (400 and nothing changes when it fails or is stale). A thin adapter over `shared::content::calendly`.
#![cfg(target_arch = "wasm32")]

use shared::Error;
use shared::config::optional_secret;
use shared::content::calendly;
use shared::time::Clock;
use shared::web::routes::CALENDLY_WEBHOOK;
use shared::workers::{self, WorkerClock, respond};
use worker::{Context, Env, Method, Request, Response, Result, event};

/// Calendly's payloads are a few KiB.
const MAX_BODY: usize = 256 * 1024;

#[event(fetch)]
async fn fetch(request: Request, env: Env, ctx: Context) -> Result<Response> {
    shared::workers::RequestLog::start(CALENDLY_WEBHOOK.name, &request).run(handle_request(request, env, ctx)).await
}

/// The request, answered; the entry point above writes its log line.
async fn handle_request(mut request: Request, env: Env, _ctx: Context) -> Result<Response> {
    if request.path() != "/_functions/calendlyWebhook" || request.method() != Method::Post {
        return shared::workers::function::not_implemented(&CALENDLY_WEBHOOK, &request);
    }
    match receive(&mut request, &env).await {
        Ok(outcome) => respond::json(&outcome, 200),
        Err(e) => respond::error(&e),
    }
}

async fn receive(request: &mut Request, env: &Env) -> shared::Result<calendly::Outcome> {
    let signature = request.headers().get("calendly-webhook-signature").ok().flatten();
    let body = request.bytes().await.map_err(|e| Error::BadRequest(format!("could not read the body: {e}")))?;
    if body.len() > MAX_BODY {
        return Err(Error::PayloadTooLarge("The body is larger than 256 KiB.".into()));
    }
    let key = optional_secret(env, "CALENDLY_WEBHOOK_SIGNING_KEY")
        .ok_or_else(|| Error::Config("CALENDLY_WEBHOOK_SIGNING_KEY is not set: no webhook can be verified.".into()))?;
    let now = WorkerClock.now_ms();
    calendly::verify(signature.as_deref(), &body, &key, now / 1000)?;
    calendly::apply(&workers::database(env)?, &body, now).await
}
