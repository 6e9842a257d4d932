//! What the billing code needs for one request: the database, Stripe's configuration, the plan
//! catalogue and the public origin, taken from the request's [`Settings`]. [`Billing::ctx`] is the one
//! place a `billing::webhook::Ctx` is put together (the Stripe webhook, Checkout, the success page
//! and course enrolment all use it).

use super::{D1, FetchClient, database};
use crate::billing::catalog::Catalog;
use crate::billing::stripe::{Stripe, StripeConfig};
use crate::billing::webhook::Ctx;
use crate::error::Result;
use crate::settings::Settings;
use crate::time::{Clock, Millis};
use worker::Env;

pub struct Billing<'s> {
    pub db: D1,
    pub stripe_config: &'s StripeConfig,
    pub catalog: &'s Catalog,
    pub site_url: &'s str,
}

impl<'s> Billing<'s> {
    /// The binding and configuration; Stripe's secret key may be missing (see [`Self::stripe`]).
    pub fn new(settings: &'s Settings<'_, Env>) -> Result<Self> {
        Ok(Self {
            db: database(settings.env())?,
            stripe_config: settings.stripe()?,
            catalog: settings.catalog()?,
            site_url: settings.site_url()?,
        })
    }

    /// The Stripe client, or 503 when `STRIPE_SECRET_KEY` is not configured.
    pub fn stripe(&self) -> Result<Stripe<'s, FetchClient>> {
        Stripe::new(&FetchClient, self.stripe_config)
    }

    /// The context of billing's operations at `now`.
    pub fn ctx<'a>(&'a self, stripe: &'a Stripe<'a, FetchClient>, now: Millis) -> Ctx<'a, D1, FetchClient> {
        Ctx { db: &self.db, stripe, catalog: self.catalog, now, site_url: self.site_url }
    }
}

/// Posts pending sales inquiries to Slack (`SALES_SLACK_WEBHOOK_URL`, else `SLACK_WEBHOOK_URL`): the
/// API after storing one, and the site's cron, so a failed notification is retried.
pub async fn notify_sales(settings: &Settings<'_, Env>) -> Result<usize> {
    let Some(webhook) = settings.sales_webhook()? else {
        return Ok(0);
    };
    let db = database(settings.env())?;
    crate::billing::sales::notify_pending(&db, &FetchClient, webhook.expose(), super::WorkerClock.now_ms()).await
}

/// Posts pending staff alerts (disputes, priority support) to Slack (`STAFF_SLACK_WEBHOOK_URL`, else
/// `SLACK_WEBHOOK_URL`): the worker that queued one, after answering, and the site's cron, so a
/// failed post is retried.
pub async fn notify_staff(settings: &Settings<'_, Env>) -> Result<usize> {
    let Some(webhook) = settings.staff_webhook()? else {
        return Ok(0);
    };
    let db = database(settings.env())?;
    crate::alerts::notify_pending(&db, &FetchClient, webhook.expose(), super::WorkerClock.now_ms()).await
}

/// [`notify_staff`] after the response, logging a failure (the cron retries it).
pub fn notify_staff_later(ctx: &worker::Context, env: &Env) {
    let env = env.clone();
    ctx.wait_until(async move {
        if let Err(e) = notify_staff(&Settings::new(&env)).await {
            super::log::warn("staff_alerts.notify_retry", &format!("Slack notification will be retried: {e}"));
        }
    });
}
