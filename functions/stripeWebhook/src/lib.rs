//! `POST /_functions/stripeWebhook`: Stripe's events, verified on the raw body and applied by
//! `shared::billing::webhook`. Answers 2xx for applied, duplicate and ignored events; 400 for a bad
//! signature or body (nothing changes); 5xx when Stripe or D1 is unavailable, so Stripe retries.
#![cfg(target_arch = "wasm32")]

use shared::billing::catalog::Catalog;
use shared::billing::stripe::{Stripe, StripeConfig};
use shared::billing::webhook::{self, Ctx};
use shared::time::Clock;
use shared::web::routes::STRIPE_WEBHOOK;
use shared::workers::{self, FetchClient, WorkerClock, forwarded, respond};
use worker::{Context, Env, Method, Request, Response, Result, event};

/// Stripe's events are a few KiB; anything far larger is not from Stripe.
const MAX_BODY: usize = 512 * 1024;

#[event(fetch)]
async fn fetch(request: Request, env: Env, ctx: Context) -> Result<Response> {
    shared::workers::RequestLog::start(STRIPE_WEBHOOK.name, &request).run(handle_request(request, env, ctx)).await
}

/// The request, answered; the entry point above writes its log line.
async fn handle_request(mut request: Request, env: Env, _ctx: Context) -> Result<Response> {
    // Only the site worker's signed requests are answered (shared::auth::internal).
    if let Err(e) = forwarded::verified(&request, &env) {
        return respond::error(&e);
    }
    if request.path() != "/_functions/stripeWebhook" || request.method() != Method::Post {
        return shared::workers::function::other_route(&STRIPE_WEBHOOK, &request);
    }
    match receive(&mut request, &env).await {
        Ok(outcome) => respond::json(&outcome, 200),
        Err(e) => {
            if e.status_code() == 400 {
                shared::workers::log::warn("stripe.delivery_refused", &e.to_string());
            }
            respond::error(&e)
        }
    }
}

async fn receive(request: &mut Request, env: &Env) -> shared::Result<webhook::Outcome> {
    let header = request.headers().get("stripe-signature").ok().flatten();
    let config = StripeConfig::from_env(env)?;
    // Before reading the body: without the signing secret no event can be verified (503, retried).
    if config.webhook_secret.is_none() {
        return Err(shared::signing::not_configured("Stripe", "STRIPE_WEBHOOK_SECRET"));
    }
    // The raw bytes: the signature covers exactly what Stripe sent, never re-serialized JSON.
    let body = workers::request::body(request, MAX_BODY).await?;
    let now = WorkerClock.now_ms();
    webhook::verify(config.webhook_secret.as_ref(), header.as_deref(), &body, now)?;
    let stripe = Stripe::new(&FetchClient, &config)?;
    let catalog = Catalog::from_env(env)?;
    let db = workers::database(env)?;
    let site_url = shared::config::site_url(env)?;
    let ctx = Ctx { db: &db, stripe: &stripe, catalog: &catalog, now, site_url: &site_url };
    webhook::apply(&ctx, &body).await
}
