//! Plans and payments: the pricing page and the pages a checkout returns to (the billing API is the
//! `platformApi` function's). Thin adapters over `shared::billing`.

use shared::Error;
use shared::auth::Caller;
use shared::billing::catalog::unlocks;
use shared::billing::checkout::{self, Completed};
use shared::billing::{pricing, store};
use shared::settings::Settings;
use shared::time::Clock;
use shared::web::pages;
use shared::workers::billing::Billing;
use shared::workers::{self, WorkerClock, respond};
use worker::{Env, Request, Response};

/// `/pricing`: the catalog from configuration, the caller's plan highlighted.
pub async fn pricing_page(settings: &Settings<'_, Env>, caller: Option<&Caller>) -> worker::Result<Response> {
    let env = settings.env();
    let render = async {
        let catalog = settings.catalog()?;
        let (has_account, payment_needed) = match caller {
            Some(caller) => {
                let summary = store::summary(&workers::database(env)?, &caller.user_id).await?;
                (summary.has_billing_account, summary.payment_needed())
            }
            None => (false, false),
        };
        pages::pricing_page(&pricing::view(catalog, caller.map(|c| c.role), has_account, payment_needed))
    };
    // Personalised for members at the same URL visitors use: never served from a cache unchecked, or a
    // visitor's copy would show a member the wrong buttons after signing in.
    respond::html(render.await, "private, no-cache")
}

/// `/billing/success?session_id=`: applies the checkout now (the webhook may come later).
pub async fn success_page(
    request: &Request,
    settings: &Settings<'_, Env>,
    caller: Option<&Caller>,
) -> worker::Result<Response> {
    let render = async {
        let caller = caller.ok_or_else(|| Error::Unauthorized("Sign in to continue.".into()))?;
        let url = request.url().map_err(|e| Error::BadRequest(format!("bad URL: {e}")))?;
        let session_id = url
            .query_pairs()
            .find(|(k, _)| k == "session_id")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| Error::BadRequest("session_id is missing".into()))?;
        let billing = Billing::new(settings)?;
        let stripe = billing.stripe()?;
        let ctx = billing.ctx(&stripe, WorkerClock.now_ms());
        let links = [("Go to your account", "/account"), ("Ask the assistant", "/chat")];
        match checkout::complete(&ctx, caller, &session_id).await? {
            Completed::Subscription { plan, status, role } => {
                let name = plan.title();
                let features: Vec<String> =
                    if role == plan { unlocks(plan).into_iter().map(str::to_owned).collect() } else { Vec::new() };
                let lines = if role == plan {
                    vec![format!("You are on FHIR IQ {name}. Thank you!"), "A receipt is on its way by email.".into()]
                } else {
                    vec![format!(
                        "Your {name} subscription is {status}: it starts as soon as the payment goes through."
                    )]
                };
                pages::billing_page("Welcome", &format!("Welcome to {name}"), &lines, &features, &links)
            }
            Completed::Purchase { product } => pages::billing_page(
                "Thank you",
                "Thank you for your purchase",
                &[format!("{product} is on your account now."), "A receipt is on its way by email.".into()],
                &[],
                &links,
            ),
            Completed::Pending => pages::billing_page(
                "Almost there",
                "We are confirming your payment",
                &["Stripe has not confirmed the payment yet. This page will show your plan once it has.".into()],
                &[],
                &[("Check again", &format!("/billing/success?session_id={session_id}")), ("Your account", "/account")],
            ),
        }
    };
    respond::html(render.await, "private, no-store")
}

pub fn cancel_page() -> worker::Result<Response> {
    respond::html(
        pages::billing_page(
            "Checkout cancelled",
            "Checkout cancelled",
            &["Nothing was charged. Your plan has not changed.".into()],
            &[],
            &[("Back to plans", "/pricing"), ("Your account", "/account")],
        ),
        "no-store",
    )
}
