//! `/_functions/stripeWebhook`: routed and live, not implemented yet (its own issue builds it). Until then it
//! answers 501 in the standard error shape, and `/_functions/stripeWebhook/health` answers liveness.
#![cfg(target_arch = "wasm32")]

use shared::web::routes::STRIPE_WEBHOOK;
use worker::{Context, Env, Request, Response, Result, event};

#[event(fetch)]
async fn fetch(request: Request, _env: Env, _ctx: Context) -> Result<Response> {
    shared::workers::function::not_implemented(&STRIPE_WEBHOOK, &request)
}
