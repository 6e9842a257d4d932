//! The billing rows in D1, and the role a change leads to, computed before the change so the
//! `role_changes` entry goes into the same atomic batch as the change itself.

use super::subscription::Snapshot;
use crate::auth::{Role, store as accounts};
use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::Deserialize;

#[derive(Deserialize)]
struct One {
    value: Option<String>,
}

pub async fn customer_of(db: &impl Database, user_id: &str) -> Result<Option<String>> {
    let row: Option<One> = db
        .query_first(
            Statement::new("SELECT customer_id AS value FROM stripe_customers WHERE user_id = ?1").bind(user_id),
        )
        .await?;
    Ok(row.and_then(|r| r.value))
}

pub async fn user_of_customer(db: &impl Database, customer_id: &str) -> Result<Option<String>> {
    let row: Option<One> = db
        .query_first(
            Statement::new("SELECT user_id AS value FROM stripe_customers WHERE customer_id = ?1").bind(customer_id),
        )
        .await?;
    Ok(row.and_then(|r| r.value))
}

pub fn link_customer(user_id: &str, customer_id: &str, now: Millis) -> Statement {
    Statement::new("INSERT OR IGNORE INTO stripe_customers (user_id, customer_id, created_at) VALUES (?1, ?2, ?3)")
        .bind(user_id)
        .bind(customer_id)
        .bind(now)
}

pub async fn event_seen(db: &impl Database, event_id: &str) -> Result<bool> {
    let row: Option<One> =
        db.query_first(Statement::new("SELECT id AS value FROM stripe_events WHERE id = ?1").bind(event_id)).await?;
    Ok(row.is_some())
}

/// A plain INSERT: if a concurrent delivery of the same event got there first, the whole batch fails
/// on the primary key and nothing of it applies.
pub fn record_event(event_id: &str, event_type: &str, now: Millis) -> Statement {
    Statement::new("INSERT INTO stripe_events (id, type, processed_at) VALUES (?1, ?2, ?3)")
        .bind(event_id)
        .bind(event_type)
        .bind(now)
}

/// Whether an error is the batch losing that race.
pub fn is_duplicate_event(error: &Error) -> bool {
    crate::storage::is_unique_violation(error, "stripe_events", "id")
}

/// The subscription as Stripe says it is now: overwrites whatever we had.
pub fn write_subscription(snapshot: &Snapshot, user_id: &str, plan: Role, now: Millis) -> Vec<Statement> {
    vec![
        Statement::new(
            "INSERT INTO subscriptions (id, user_id, plan, status, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, plan = excluded.plan,
               status = excluded.status, updated_at = excluded.updated_at",
        )
        .bind(snapshot.id.as_str())
        .bind(user_id)
        .bind(plan.as_str())
        .bind(snapshot.status.as_str())
        .bind(now),
        Statement::new(
            "INSERT INTO stripe_subscriptions (id, user_id, customer_id, price_id, billing_interval, current_period_end,
               cancel_at_period_end, updated_at, quantity) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, customer_id = excluded.customer_id,
               price_id = excluded.price_id, billing_interval = excluded.billing_interval,
               current_period_end = excluded.current_period_end,
               cancel_at_period_end = excluded.cancel_at_period_end, updated_at = excluded.updated_at,
               quantity = excluded.quantity",
        )
        .bind(snapshot.id.as_str())
        .bind(user_id)
        .bind(snapshot.customer.as_str())
        .bind(snapshot.price_id.as_str())
        .bind(if snapshot.interval == "year" { "year" } else { "month" })
        .bind(snapshot.current_period_end.map(|s| s * 1_000))
        .bind(snapshot.cancel_at_period_end)
        .bind(now)
        .bind(snapshot.quantity),
        // The customer link, for a subscription created outside our checkout (the dashboard).
        link_customer(user_id, &snapshot.customer, now),
    ]
}

/// What the user's role will be once subscription `subscription_id` grants `grant` (None: grants
/// nothing) or, with `order_completes`, once an order completes.
pub async fn role_after(
    db: &impl Database,
    user_id: &str,
    subscription_id: &str,
    grant: Option<Role>,
    order_completes: bool,
) -> Result<Role> {
    accounts::role_with(db, user_id, subscription_id, grant, order_completes, "")
        .await?
        .ok_or_else(|| Error::NotFound(format!("no user {user_id}")))
}

/// What the user's role will be once completed order `order_id` is refunded.
pub async fn role_after_refund(db: &impl Database, user_id: &str, order_id: &str) -> Result<Role> {
    accounts::role_with(db, user_id, "", None, false, order_id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no user {user_id}")))
}

/// The `role_changes` entry, when the role changes.
pub fn role_change(user_id: &str, (before, after): (Role, Role), reason: &str, now: Millis) -> Option<Statement> {
    (before != after).then(|| accounts::log_role_change(user_id, before, after, reason, now))
}

pub fn create_order(order_id: &str, user_id: &str, product: &str, now: Millis) -> Statement {
    Statement::new("INSERT INTO orders (id, user_id, product, status, created_at) VALUES (?1, ?2, ?3, 'pending', ?4)")
        .bind(order_id)
        .bind(user_id)
        .bind(product)
        .bind(now)
}

#[derive(Debug, Clone, Deserialize)]
pub struct OrderRow {
    pub id: String,
    pub user_id: String,
    pub product: String,
    pub status: String,
}

pub async fn order(db: &impl Database, order_id: &str) -> Result<Option<OrderRow>> {
    db.query_first(Statement::new("SELECT id, user_id, product, status FROM orders WHERE id = ?1").bind(order_id)).await
}

/// Completing an order, once: the confirmation email and the role change are written only while the
/// order is still pending, and before the update that completes it, all in one batch. Whichever
/// event (checkout.session.completed, payment_intent.succeeded) arrives first does it; the other
/// changes nothing.
pub fn complete_order(
    order: &OrderRow,
    payment: &Payment,
    email: (&str, &str, &str),
    roles: (Role, Role),
    now: Millis,
) -> Result<Vec<Statement>> {
    let (to, subject, body) = email;
    let mut statements = vec![
        Statement::new(
            "INSERT INTO email_outbox (id, to_email, subject, body_text, created_at)
             SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM orders WHERE id = ?6 AND status = 'pending')",
        )
        .bind(crate::ids::new_id()?)
        .bind(to)
        .bind(subject)
        .bind(body)
        .bind(now)
        .bind(order.id.as_str()),
    ];
    if roles.0 != roles.1 {
        statements.push(
            Statement::new(
                "INSERT INTO role_changes (user_id, from_role, to_role, reason, created_at)
                 SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM orders WHERE id = ?6 AND status = 'pending')",
            )
            .bind(order.user_id.as_str())
            .bind(roles.0.as_str())
            .bind(roles.1.as_str())
            .bind(format!("order {} completed", order.id))
            .bind(now)
            .bind(order.id.as_str()),
        );
    }
    statements.push(
        Statement::new(
            "UPDATE orders SET status = 'completed', amount = ?2, currency = ?3, stripe_payment_intent = ?4,
               receipt_url = ?5
             WHERE id = ?1 AND status = 'pending'",
        )
        .bind(order.id.as_str())
        .bind(payment.amount)
        .bind(payment.currency.clone())
        .bind(payment.payment_intent.clone())
        .bind(payment.receipt_url.clone()),
    );
    Ok(statements)
}

/// What Stripe says was paid for an order: from a Checkout Session (`amount_total`, `currency`,
/// `payment_intent`) or a PaymentIntent (`amount_received`, `currency`, its own `id`). Amounts are in
/// the currency's minor unit, as Stripe sends them; what is missing stays NULL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payment {
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub payment_intent: Option<String>,
    /// The Charge's receipt page, once fetched.
    pub receipt_url: Option<String>,
}

impl Payment {
    pub fn from_checkout_session(session: &serde_json::Value) -> Self {
        Self::read(session, "amount_total", super::stripe::id_of(&session["payment_intent"]))
    }

    pub fn from_payment_intent(intent: &serde_json::Value) -> Self {
        Self::read(intent, "amount_received", super::stripe::id_of(&intent["id"]))
    }

    fn read(object: &serde_json::Value, amount: &str, payment_intent: Option<&str>) -> Self {
        let currency = object["currency"].as_str().map(str::to_ascii_lowercase);
        Self {
            amount: object[amount].as_i64().filter(|a| *a >= 0),
            // ISO 4217: three letters; anything else is not stored.
            currency: currency.filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_lowercase())),
            payment_intent: payment_intent.map(str::to_owned),
            receipt_url: None,
        }
    }
}

/// The account page's view of billing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Summary {
    /// The newest Stripe subscription, if any.
    pub subscription: Option<SubscriptionView>,
    /// Whether a billing portal can be opened (the user has a Stripe customer).
    #[serde(rename = "hasBillingAccount")]
    pub has_billing_account: bool,
}

impl Summary {
    /// The subscription is waiting on a failed payment (every page shows a banner).
    pub fn payment_needed(&self) -> bool {
        self.subscription.as_ref().is_some_and(|s| s.payment_needed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct SubscriptionView {
    pub id: String,
    pub plan: String,
    pub status: String,
    pub interval: String,
    /// ms since the epoch.
    #[serde(rename = "renewsAt")]
    pub renews_at: Option<i64>,
    #[serde(rename = "cancelAtPeriodEnd")]
    pub cancel_at_period_end: bool,
    /// past_due, incomplete, unpaid, paused: show "payment needed" with a portal link.
    #[serde(rename = "paymentNeeded")]
    pub payment_needed: bool,
}

#[derive(Deserialize)]
struct SubscriptionRow {
    id: String,
    plan: String,
    status: String,
    billing_interval: String,
    current_period_end: Option<i64>,
    cancel_at_period_end: i64,
}

/// Subscriptions that still matter come first: paid, then payment needed, then ended; newest first.
const SUMMARY_SQL: &str = "
SELECT s.id, s.plan, s.status, d.billing_interval, d.current_period_end, d.cancel_at_period_end
FROM subscriptions s JOIN stripe_subscriptions d ON d.id = s.id
WHERE s.user_id = ?1
ORDER BY CASE WHEN s.status IN ('active', 'trialing') THEN 0
              WHEN s.status IN ('canceled', 'incomplete_expired') THEN 2 ELSE 1 END, s.updated_at DESC
LIMIT 1";

pub async fn summary(db: &impl Database, user_id: &str) -> Result<Summary> {
    let row: Option<SubscriptionRow> = db.query_first(Statement::new(SUMMARY_SQL).bind(user_id)).await?;
    Ok(Summary {
        subscription: row.map(|r| SubscriptionView {
            payment_needed: super::subscription::standing(&r.status) == super::subscription::Standing::PaymentNeeded,
            id: r.id,
            plan: r.plan,
            status: r.status,
            interval: r.billing_interval,
            renews_at: r.current_period_end,
            cancel_at_period_end: r.cancel_at_period_end == 1,
        }),
        has_billing_account: customer_of(db, user_id).await?.is_some(),
    })
}
