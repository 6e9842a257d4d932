//! `POST /_functions/calendlyWebhook`: Calendly's `invitee.created` and `invitee.canceled`, recorded
//! as bookings of a course's live sessions. `Calendly-Webhook-Signature` is checked on the raw body
//! (400 and nothing changes when it fails or is stale). A thin adapter over `shared::content::calendly`.
#![cfg(target_arch = "wasm32")]

use shared::content::calendly;
use shared::settings::Settings;
use shared::time::Clock;
use shared::web::routes::CALENDLY_WEBHOOK;
use shared::workers::function::{self, Call};
use shared::workers::{self, WorkerClock};
use worker::{Env, Response};

/// Calendly's payloads are a few KiB.
const MAX_BODY: usize = 256 * 1024;

shared::function_worker!(CALENDLY_WEBHOOK, MAX_BODY, |call, env, _ctx| receive(call, &env));

async fn receive(call: Call, env: &Env) -> shared::Result<Response> {
    // Without the key no delivery can be verified (503, retried later).
    let settings = Settings::new(env);
    let key = settings.calendly_signing_key()?;
    let now = WorkerClock.now_ms();
    calendly::verify(call.header("calendly-webhook-signature").as_deref(), &call.body, key, now / 1000)?;
    let outcome = calendly::apply(&workers::database(env)?, &call.body, now).await?;
    function::json(&outcome, 200)
}
