//! Plans and payments in the site worker: the pricing page, the pages a checkout returns to, and the
//! billing API. Thin adapters over `shared::billing`.

use crate::api::{ApiRequest, json};
use shared::auth::{Caller, rate_limit};
use shared::billing::catalog::unlocks;
use shared::billing::checkout::{self, CheckoutInput, Completed};
use shared::billing::sales::{self, Inquiry};
use shared::billing::{pricing, store};
use shared::settings::Settings;
use shared::storage::Database;
use shared::time::Clock;
use shared::web::pages;
use shared::web::routes::BillingApi;
use shared::workers::billing::Billing;
use shared::workers::{self, FetchClient, WorkerClock, respond};
use shared::{Error, Result};
use worker::{Context, Env, Request, Response};

/// The billing API's dispatcher.
pub async fn api(api: BillingApi, call: &mut ApiRequest<'_>) -> Result<Response> {
    let env = call.settings.env();
    match api {
        BillingApi::Plans => json(&plans(call.settings)?, 200),
        BillingApi::Summary => json(&summary(env, call.signed_in()?).await?, 200),
        BillingApi::Checkout => {
            let input: CheckoutInput = call.json().await?;
            json(&redirect(call.settings, call.signed_in()?, Some(&input)).await?, 200)
        }
        BillingApi::Portal => json(&redirect(call.settings, call.signed_in()?, None).await?, 200),
        BillingApi::ContactSales => {
            let input: sales::InquiryInput = call.json().await?;
            let inquiry = Inquiry::parse(input)?;
            let ip = call.header("cf-connecting-ip").unwrap_or_else(|| "unknown".into());
            json(&contact_sales(call.settings, call.ctx, call.caller.as_ref(), &ip, &inquiry).await?, 201)
        }
    }
}

fn html(result: Result<String>, cache: &str) -> worker::Result<Response> {
    match result {
        Ok(html) => {
            let mut response = Response::from_html(html)?;
            response.headers_mut().set("cache-control", cache)?;
            Ok(response)
        }
        Err(e) => respond::error(&e),
    }
}

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
    html(render.await, "private, no-cache")
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
    html(render.await, "private, no-store")
}

pub fn cancel_page() -> worker::Result<Response> {
    html(
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

/// `GET /api/billing/plans`.
fn plans(settings: &Settings<'_, Env>) -> Result<serde_json::Value> {
    let catalog = settings.catalog()?;
    Ok(serde_json::json!({
        "currency": catalog.currency,
        "plans": catalog.prices,
        "products": catalog.products,
    }))
}

/// `GET /api/billing`.
async fn summary(env: &Env, caller: &Caller) -> Result<store::Summary> {
    store::summary(&workers::database(env)?, &caller.user_id).await
}

/// `POST /api/billing/checkout` and `/portal`.
async fn redirect(
    settings: &Settings<'_, Env>,
    caller: &Caller,
    input: Option<&CheckoutInput>,
) -> Result<checkout::Redirect> {
    let billing = Billing::new(settings)?;
    let stripe = billing.stripe()?;
    let ctx = billing.ctx(&stripe, WorkerClock.now_ms());
    match input {
        Some(input) => checkout::checkout(&ctx, caller, input).await,
        None => checkout::portal(&ctx, caller).await,
    }
}

/// `POST /api/billing/contact-sales`: stored, then Slack told after the response.
async fn contact_sales(
    settings: &Settings<'_, Env>,
    ctx: Option<&Context>,
    caller: Option<&Caller>,
    ip: &str,
    inquiry: &Inquiry,
) -> Result<serde_json::Value> {
    let env = settings.env();
    let db = workers::database(env)?;
    let now = WorkerClock.now_ms();
    rate_limit::hit(&db, &rate_limit::key("sales", ip), *settings.sales_limit()?, now).await?;
    let (id, insert) = sales::insert(inquiry, caller.map(|c| c.user_id.as_str()), now)?;
    db.execute(insert).await?;
    if let Some(ctx) = ctx {
        let env = env.clone();
        ctx.wait_until(async move {
            if let Err(e) = notify_sales(&Settings::new(&env)).await {
                shared::workers::log::warn("sales.notify_retry", &format!("Slack notification will be retried: {e}"));
            }
        });
    }
    Ok(serde_json::json!({"received": true, "id": id}))
}

/// Posts pending inquiries to Slack (`SALES_SLACK_WEBHOOK_URL`, else `SLACK_WEBHOOK_URL`); the monitor
/// cron calls it too, so a failed notification is retried.
pub async fn notify_sales(settings: &Settings<'_, Env>) -> Result<usize> {
    let Some(webhook) = settings.sales_webhook()? else {
        return Ok(0);
    };
    let db = workers::database(settings.env())?;
    sales::notify_pending(&db, &FetchClient, webhook.expose(), WorkerClock.now_ms()).await
}
