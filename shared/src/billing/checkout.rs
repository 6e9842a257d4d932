//! Checkout, the success page, the customer portal and the account summary, for the signed-in user.
//!
//! Checkout creates (or reuses) the user's Stripe customer first, then a Checkout Session, each with
//! an idempotency key, so a double click or a retried request never makes a second customer or
//! session. A user who already has a subscription is sent to the portal instead of a second one.

use super::catalog::{Interval, Product};
use super::store;
use super::stripe::{id_of, path_id};
use super::subscription::{self, Standing};
use super::webhook::{self, Action, Ctx, Notice};
use crate::auth::{Caller, Role, store as accounts};
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::ids;
use crate::storage::Database;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `{plan, interval}` for a subscription, or `{product}` for a one-time purchase.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutInput {
    pub plan: Option<String>,
    pub interval: Option<String>,
    pub product: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Redirect {
    /// Where to send the browser: Stripe Checkout, or the billing portal.
    pub url: String,
    /// `checkout` or `portal` (the user already has a subscription).
    pub kind: &'static str,
    #[serde(rename = "sessionId", skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// A one-time checkout is open for 31 minutes (Stripe's minimum is 30): inside the seat hold of a
/// course purchase (`content::seats::HOLD_MS`), so a payment never lands after its hold lapsed.
pub const PURCHASE_OPEN_SECONDS: i64 = 31 * 60;

/// Idempotency keys repeat within a minute: a double click gets the same session back.
fn minute(now: i64) -> i64 {
    now / 60_000
}

pub async fn checkout<D: Database, H: HttpClient>(
    ctx: &Ctx<'_, D, H>,
    caller: &Caller,
    input: &CheckoutInput,
) -> Result<Redirect> {
    match (&input.plan, &input.product) {
        (Some(plan), None) => {
            let plan = Role::parse_plan(plan)?;
            let interval = Interval::parse(input.interval.as_deref().unwrap_or("monthly"))?;
            let price = ctx.catalog.price(plan, interval)?;
            let summary = store::summary(ctx.db, &caller.user_id).await?;
            let current = summary.subscription.filter(|s| subscription::standing(&s.status) != Standing::Ended);
            if current.is_some() {
                return portal(ctx, caller).await;
            }
            let customer = ensure_customer(ctx, caller).await?;
            let user = caller.user_id.as_str();
            let form = [
                ("mode", "subscription"),
                ("customer", customer.as_str()),
                ("line_items[0][price]", price.price_id.as_str()),
                ("line_items[0][quantity]", "1"),
                ("client_reference_id", user),
                ("metadata[user_id]", user),
                ("subscription_data[metadata][user_id]", user),
                ("allow_promotion_codes", "true"),
                ("success_url", &success_url(ctx.site_url)),
                ("cancel_url", &format!("{}/billing/cancel", ctx.site_url)),
            ];
            let key = format!("checkout-{user}-{}-{}", price.price_id, minute(ctx.now));
            let session = ctx.stripe.post("/v1/checkout/sessions", &form, &key).await?;
            started(ctx, user, serde_json::json!({"plan": plan.as_str(), "interval": interval.label()})).await?;
            redirect(&session)
        }
        (None, Some(product)) => {
            let product = ctx.catalog.product(product)?;
            purchase(ctx, caller, product).await
        }
        _ => Err(Error::BadRequest("Give either plan (and interval) or product.".into())),
    }
}

fn success_url(site_url: &str) -> String {
    // Stripe fills in {CHECKOUT_SESSION_ID}.
    format!("{site_url}/billing/success?session_id={{CHECKOUT_SESSION_ID}}")
}

fn redirect(session: &Value) -> Result<Redirect> {
    let url = session["url"].as_str().ok_or_else(|| Error::upstream("Stripe checkout", "the session has no url"))?;
    Ok(Redirect { url: url.to_owned(), kind: "checkout", session_id: session["id"].as_str().map(str::to_owned) })
}

/// A one-time purchase: a pending order whose id travels in the session and its payment intent.
async fn purchase<D: Database, H: HttpClient>(
    ctx: &Ctx<'_, D, H>,
    caller: &Caller,
    product: &Product,
) -> Result<Redirect> {
    let customer = ensure_customer(ctx, caller).await?;
    let order_id = ids::new_id()?;
    ctx.db.execute(store::create_order(&order_id, &caller.user_id, &product.id, ctx.now)).await?;
    let user = caller.user_id.as_str();
    let expires_at = (ctx.now / 1000 + PURCHASE_OPEN_SECONDS).to_string();
    let form = [
        ("mode", "payment"),
        ("expires_at", expires_at.as_str()),
        ("customer", customer.as_str()),
        ("line_items[0][price]", product.price_id.as_str()),
        ("line_items[0][quantity]", "1"),
        ("client_reference_id", user),
        ("metadata[user_id]", user),
        ("metadata[order_id]", order_id.as_str()),
        ("payment_intent_data[metadata][order_id]", order_id.as_str()),
        ("payment_intent_data[metadata][user_id]", user),
        ("success_url", &success_url(ctx.site_url)),
        ("cancel_url", &format!("{}/billing/cancel", ctx.site_url)),
    ];
    let session = ctx.stripe.post("/v1/checkout/sessions", &form, &format!("order-{order_id}")).await?;
    started(ctx, user, serde_json::json!({"product": product.id})).await?;
    redirect(&session)
}

/// The pricing funnel's middle step.
async fn started<D: Database, H>(ctx: &Ctx<'_, D, H>, user: &str, properties: Value) -> Result<()> {
    let kind = crate::events::EventType::parse("checkout.started")?;
    crate::events::log(ctx.db, Some(user), &kind, &properties, ctx.now).await
}

/// The user's Stripe customer, created (once) with their email and `metadata[user_id]`.
async fn ensure_customer<D: Database, H: HttpClient>(ctx: &Ctx<'_, D, H>, caller: &Caller) -> Result<String> {
    if let Some(customer) = store::customer_of(ctx.db, &caller.user_id).await? {
        return Ok(customer);
    }
    let form = [("email", caller.email.as_str()), ("metadata[user_id]", caller.user_id.as_str())];
    let created = ctx.stripe.post("/v1/customers", &form, &format!("customer-{}", caller.user_id)).await?;
    let customer = id_of(&created["id"]).ok_or_else(|| Error::upstream("Stripe customers", "no id"))?;
    ctx.db.execute(store::link_customer(&caller.user_id, customer, ctx.now)).await?;
    // Another request may have linked one first; the stored link wins.
    Ok(store::customer_of(ctx.db, &caller.user_id).await?.unwrap_or_else(|| customer.to_owned()))
}

/// A billing-portal session for the signed-in user, returning to the account page.
pub async fn portal<D: Database, H: HttpClient>(ctx: &Ctx<'_, D, H>, caller: &Caller) -> Result<Redirect> {
    let customer = store::customer_of(ctx.db, &caller.user_id)
        .await?
        .ok_or_else(|| Error::NotFound("There is no billing account yet: choose a plan first.".into()))?;
    let return_url = format!("{}/account", ctx.site_url);
    let form = [("customer", customer.as_str()), ("return_url", return_url.as_str())];
    let key = format!("portal-{}-{}", caller.user_id, minute(ctx.now));
    let session = ctx.stripe.post("/v1/billing_portal/sessions", &form, &key).await?;
    let url = session["url"].as_str().ok_or_else(|| Error::upstream("Stripe billing portal", "no url"))?;
    Ok(Redirect { url: url.to_owned(), kind: "portal", session_id: None })
}

/// What the success page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completed {
    /// The subscription is recorded; the user's role now.
    Subscription { plan: Role, status: String, role: Role },
    /// The one-time purchase is recorded.
    Purchase { product: String },
    /// Stripe has not finished (an asynchronous payment): the webhook will complete it.
    Pending,
}

/// The success page: reads the session back from Stripe and applies it at once, because users often
/// return before the webhook arrives. The session must belong to the signed-in user.
pub async fn complete<D: Database, H: HttpClient>(
    ctx: &Ctx<'_, D, H>,
    caller: &Caller,
    session_id: &str,
) -> Result<Completed> {
    let session = ctx.stripe.get(&format!("/v1/checkout/sessions/{}", path_id(session_id)?)).await?;
    let owner = session["client_reference_id"].as_str().or_else(|| session.pointer("/metadata/user_id")?.as_str());
    if owner != Some(caller.user_id.as_str()) {
        return Err(Error::Forbidden("This checkout belongs to another account.".into()));
    }
    if session["status"] != "complete" {
        return Ok(Completed::Pending);
    }
    match session["mode"].as_str() {
        Some("subscription") => {
            let id =
                id_of(&session["subscription"]).ok_or_else(|| Error::upstream("Stripe checkout", "no subscription"))?;
            webhook::apply_subscription(ctx, id, Notice::None, Vec::new()).await?;
            let me =
                accounts::caller(ctx.db, &caller.user_id).await?.ok_or_else(|| Error::internal("reload", "gone"))?;
            let summary = store::summary(ctx.db, &caller.user_id).await?;
            let view = summary.subscription.ok_or_else(|| Error::internal("reading the subscription", "missing"))?;
            Ok(Completed::Subscription { plan: Role::parse_plan(&view.plan)?, status: view.status, role: me.role })
        }
        Some("payment") if session["payment_status"] == "paid" => {
            let order_id = session
                .pointer("/metadata/order_id")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::upstream("Stripe checkout", "no order id"))?;
            let payment = super::store::Payment::from_checkout_session(&session);
            let action = webhook::complete_order(ctx, order_id, &payment, None).await?;
            debug_assert!(matches!(action, Action::Applied));
            let order = store::order(ctx.db, order_id).await?.ok_or_else(|| Error::internal("order", "gone"))?;
            let name = ctx.catalog.product(&order.product).map(|p| p.name.clone()).unwrap_or(order.product);
            Ok(Completed::Purchase { product: name })
        }
        _ => Ok(Completed::Pending),
    }
}
