//! The billing API: plans, the caller's summary, Checkout and the customer portal, and sales
//! inquiries. Thin adapters over `shared::billing`.

use shared::Result;
use shared::auth::{Caller, rate_limit};
use shared::billing::checkout::{self, CheckoutInput};
use shared::billing::payments;
use shared::billing::sales::{self, Inquiry};
use shared::billing::store;
use shared::settings::Settings;
use shared::storage::Database;
use shared::time::Clock;
use shared::web::routes::BillingApi;
use shared::workers::api::{ApiRequest, json};
use shared::workers::billing::{Billing, notify_sales};
use shared::workers::{self, WorkerClock};
use worker::{Context, Env, Response};

/// The billing API's dispatcher.
pub async fn api(api: BillingApi, call: &mut ApiRequest<'_>) -> Result<Response> {
    let env = call.settings.env();
    match api {
        BillingApi::Plans => json(&plans(call.settings)?, 200),
        BillingApi::Summary => json(&summary(env, call.signed_in()?).await?, 200),
        BillingApi::Payments => {
            let payments = payments::history(&workers::database(env)?, &call.signed_in()?.user_id).await?;
            json(&serde_json::json!({ "payments": payments }), 200)
        }
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
    ctx: &Context,
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
    let env = env.clone();
    ctx.wait_until(async move {
        if let Err(e) = notify_sales(&Settings::new(&env)).await {
            shared::workers::log::warn("sales.notify_retry", &format!("Slack notification will be retried: {e}"));
        }
    });
    Ok(serde_json::json!({"received": true, "id": id}))
}
