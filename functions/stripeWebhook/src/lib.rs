//! `POST /_functions/stripeWebhook`: Stripe's events, verified on the raw body and applied by
//! `shared::billing::webhook`. Answers 2xx for applied, duplicate and ignored events; 400 for a bad
//! signature or body (nothing changes); 5xx when Stripe or D1 is unavailable, so Stripe retries.
#![cfg(target_arch = "wasm32")]

use shared::billing::webhook;
use shared::settings::Settings;
use shared::time::Clock;
use shared::web::routes::STRIPE_WEBHOOK;
use shared::workers::billing::{Billing, notify_staff_later};
use shared::workers::function::{self, Call};
use shared::workers::{self, WorkerClock};
use worker::{Context, Env, Response};

/// Stripe's events are a few KiB; anything far larger is not from Stripe.
const MAX_BODY: usize = 512 * 1024;

shared::function_worker!(STRIPE_WEBHOOK, MAX_BODY, |call, env, ctx| receive(call, &env, &ctx));

/// The delivery applied; a refused one (400) is logged as a warning, since Stripe shows it only in
/// its dashboard. An applied dispute queued a staff alert: Slack is told after the answer.
async fn receive(call: Call, env: &Env, ctx: &Context) -> shared::Result<Response> {
    let outcome = apply(call, env).await;
    match &outcome {
        Err(e) if e.status_code() == 400 => workers::log::warn("stripe.delivery_refused", &e.to_string()),
        Ok(applied) if applied.action == webhook::Action::Applied => {
            workers::log::info("stripe.event_applied", &format!("{} {}", applied.event_type, applied.event));
            if applied.event_type == "charge.dispute.created" {
                notify_staff_later(ctx, env);
            }
        }
        _ => {}
    }
    function::json(&outcome?, 200)
}

async fn apply(call: Call, env: &Env) -> shared::Result<webhook::Outcome> {
    let settings = Settings::new(env);
    let secret = settings.stripe()?.webhook_secret.as_ref();
    // Without the signing secret no event can be verified (503, retried).
    if secret.is_none() {
        return Err(shared::signing::not_configured("Stripe", "STRIPE_WEBHOOK_SECRET"));
    }
    // The raw bytes: the signature covers exactly what Stripe sent, never re-serialized JSON. Checked
    // before anything else is read, so a forged delivery is a 400 whatever else is misconfigured.
    let now = WorkerClock.now_ms();
    webhook::verify(secret, call.header("stripe-signature").as_deref(), &call.body, now)?;
    let billing = Billing::new(&settings)?;
    let stripe = billing.stripe()?;
    webhook::apply(&billing.ctx(&stripe, now), &call.body).await
}
