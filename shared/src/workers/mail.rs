//! Email delivery: the outbox sent through the configured provider (Resend's API), or printed to the
//! log in development without one. The API sends a request's email after its response; the site's
//! daily cron sends whatever is still pending.

use super::{FetchClient, WorkerClock, database};
use crate::mail::{self, Mailer, OutgoingEmail, ResendMailer};
use crate::settings::Settings;
use crate::time::Clock;
use worker::{Context, Env};

/// Delivers one queued email after the response is sent (so its timing tells nothing); the cron's
/// next run sends it if this attempt fails.
pub fn deliver_later(env: &Env, ctx: &Context, outbox_id: String) {
    let env = env.clone();
    ctx.wait_until(async move {
        // After the response: the request's settings are gone, so this work reads its own.
        if let Err(e) = deliver(&Settings::new(&env), Some(&outbox_id)).await {
            super::log::error(&e);
        }
    });
}

/// Delivers pending email through the configured provider, or to the log without one.
pub async fn deliver(settings: &Settings<'_, Env>, only_id: Option<&str>) -> crate::Result<mail::DeliverySummary> {
    let db = database(settings.env())?;
    let config = settings.email()?;
    let now = WorkerClock.now_ms();
    match &config.api_key {
        Some(key) => {
            let mailer =
                ResendMailer { base_url: &config.api_base, api_key: key, from: &config.from, http: &FetchClient };
            mail::deliver_pending(&db, &mailer, now, only_id).await
        }
        None => mail::deliver_pending(&db, &LogMailer, now, only_id).await,
    }
}

/// Development without an email provider: the message goes to the wrangler log, link included.
struct LogMailer;

impl Mailer for LogMailer {
    async fn send(&self, email: &OutgoingEmail) -> crate::Result<()> {
        worker::console_log!(
            "EMAIL (no EMAIL_API_KEY set) to {}: {}\n{}",
            email.to_email,
            email.subject,
            email.body_text
        );
        Ok(())
    }
}
