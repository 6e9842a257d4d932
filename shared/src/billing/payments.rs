//! What was paid, refunded and disputed. Stripe stays the source of truth: each event that concerns
//! a payment (`invoice.paid`, `charge.refunded`, `charge.dispute.created`) is a trigger to re-fetch
//! the object it names and overwrite our record, in one batch with the event's id, so duplicates and
//! any delivery order converge like the subscription events do.
//!
//! - One-time purchases are `orders` (completed by the checkout events); their receipt is the
//!   Charge's `receipt_url`.
//! - Subscription payments are `subscription_payments`, one per paid invoice; their receipt is the
//!   invoice's `hosted_invoice_url`.
//! - A refund or dispute finds its payment by PaymentIntent id, which both kinds record.
//!
//! Amounts are integers in the currency's minor unit, as Stripe sends them.
//!
//! A refund or dispute whose payment is not recorded yet (its `invoice.paid` still being retried) is
//! acknowledged without effect: refunds and disputes come days after the payment in practice.

use super::context::Ctx;
use super::store;
use super::stripe::{Stripe, id_of, path_id};
use crate::alerts::{self, escape};
use crate::auth::store as accounts;
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::signing::Action;
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Stripe's zero-decimal currencies: their minor unit is the unit.
const ZERO_DECIMAL: &[&str] =
    &["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"];

/// `49.00 USD`, `500 JPY`: an amount for staff alerts and emails.
pub fn format_amount(amount: i64, currency: &str) -> String {
    let code = currency.to_ascii_uppercase();
    if ZERO_DECIMAL.contains(&currency.to_ascii_lowercase().as_str()) {
        format!("{amount} {code}")
    } else {
        format!("{}.{:02} {code}", amount / 100, (amount % 100).abs())
    }
}

/// A URL Stripe gave us for the user to open (a receipt): kept only if it is http(s).
fn link(value: &Value) -> Option<String> {
    value.as_str().filter(|u| u.starts_with("https://") || u.starts_with("http://")).map(str::to_owned)
}

fn currency(value: &Value) -> Option<String> {
    let currency = value.as_str()?.to_ascii_lowercase();
    (currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_lowercase())).then_some(currency)
}

/// A Charge as Stripe answers it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub id: String,
    pub payment_intent: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub amount_refunded: i64,
    /// Every cent went back (`refunded: true`).
    pub fully_refunded: bool,
    pub receipt_url: Option<String>,
}

impl Charge {
    pub fn read(charge: &Value) -> Result<Self> {
        let id = id_of(&charge["id"]).ok_or_else(|| Error::upstream("Stripe charge", "no id"))?;
        let amount = charge["amount"].as_i64().filter(|a| *a >= 0).unwrap_or(0);
        let amount_refunded = charge["amount_refunded"].as_i64().filter(|a| *a >= 0).unwrap_or(0);
        Ok(Self {
            id: id.to_owned(),
            payment_intent: id_of(&charge["payment_intent"]).map(str::to_owned),
            amount,
            currency: currency(&charge["currency"]).unwrap_or_else(|| "usd".into()),
            amount_refunded,
            fully_refunded: charge["refunded"].as_bool() == Some(true) || (amount > 0 && amount_refunded >= amount),
            receipt_url: link(&charge["receipt_url"]),
        })
    }
}

/// PaymentIntent `id` as Stripe has it now, with its latest Charge expanded (the receipt).
pub async fn fetch_intent<H: HttpClient>(stripe: &Stripe<'_, H>, payment_intent: &str) -> Result<Value> {
    stripe.get(&format!("/v1/payment_intents/{}?expand[]=latest_charge", path_id(payment_intent)?)).await
}

/// The receipt of a PaymentIntent fetched by [`fetch_intent`]: its latest Charge's `receipt_url`.
pub fn receipt(intent: &Value) -> Option<String> {
    link(intent.pointer("/latest_charge/receipt_url").unwrap_or(&Value::Null))
}

/// Invoice `id` as Stripe has it now, with its payments (API 2025-03-31.basil moved the
/// PaymentIntent from `invoice.payment_intent` to `invoice.payments`, which must be expanded).
pub async fn fetch_invoice<H: HttpClient>(stripe: &Stripe<'_, H>, id: &str) -> Result<Value> {
    stripe.get(&format!("/v1/invoices/{}?expand[]=payments", path_id(id)?)).await
}

/// A paid invoice's PaymentIntent: the first paid entry of `payments` (basil and later), else the
/// older top-level `payment_intent`.
fn invoice_payment_intent(invoice: &Value) -> Option<&str> {
    let payments = invoice.pointer("/payments/data").and_then(Value::as_array);
    let basil = payments.into_iter().flatten().find_map(|p| {
        let paid = p["status"].as_str().is_none_or(|s| s == "paid");
        paid.then(|| p.pointer("/payment/payment_intent").and_then(id_of)).flatten()
    });
    basil.or_else(|| id_of(&invoice["payment_intent"]))
}

/// The row for a paid subscription invoice, or None when the invoice is not one (unpaid, or no
/// subscription). Its user and plan are the subscription's, as written earlier in the same batch;
/// an invoice of a subscription we do not know writes nothing.
pub fn invoice_payment(invoice: &Value, now: Millis) -> Option<Statement> {
    let id = id_of(&invoice["id"])?;
    let subscription = super::subscription::invoice_subscription(invoice)?;
    if invoice["status"].as_str().is_some_and(|s| s != "paid") {
        return None;
    }
    let amount = invoice["amount_paid"].as_i64().filter(|a| *a >= 0)?;
    let currency = currency(&invoice["currency"])?;
    // The plan period: the first line's (basil), else the invoice's own, in seconds.
    let line = invoice.pointer("/lines/data/0/period");
    let period = |field: &str| {
        line.and_then(|p| p[field].as_i64()).or_else(|| invoice[format!("period_{field}")].as_i64()).map(|s| s * 1_000)
    };
    let paid_at =
        invoice.pointer("/status_transitions/paid_at").and_then(Value::as_i64).map(|s| s * 1_000).unwrap_or(now);
    Some(
        Statement::new(
            "INSERT INTO subscription_payments (id, user_id, subscription_id, plan, amount, currency, payment_intent,
               receipt_url, period_start, period_end, paid_at, updated_at)
             SELECT ?1, s.user_id, s.id, s.plan, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 FROM subscriptions s WHERE s.id = ?2
             ON CONFLICT (id) DO UPDATE SET amount = excluded.amount, currency = excluded.currency,
               payment_intent = excluded.payment_intent, receipt_url = excluded.receipt_url,
               period_start = excluded.period_start, period_end = excluded.period_end,
               paid_at = excluded.paid_at, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(subscription)
        .bind(amount)
        .bind(currency)
        .bind(invoice_payment_intent(invoice))
        .bind(link(&invoice["hosted_invoice_url"]))
        .bind(period("start"))
        .bind(period("end"))
        .bind(paid_at)
        .bind(now),
    )
}

/// Whose payment a PaymentIntent was.
#[derive(Debug, Clone, Deserialize)]
struct Paid {
    /// `order` or `subscription`.
    kind: String,
    id: String,
    user_id: String,
    product: String,
    status: String,
    amount: Option<i64>,
    currency: Option<String>,
}

async fn paid_by(db: &impl Database, payment_intent: &str) -> Result<Option<Paid>> {
    db.query_first(
        Statement::new(
            "SELECT 'order' AS kind, id, user_id, product, status, amount, currency
               FROM orders WHERE stripe_payment_intent = ?1
             UNION ALL
             SELECT 'subscription', id, user_id, plan, 'paid', amount, currency
               FROM subscription_payments WHERE payment_intent = ?1
             LIMIT 1",
        )
        .bind(payment_intent),
    )
    .await
}

/// `charge.refunded`: re-fetches the Charge and records what has been refunded. A one-time purchase
/// refunded in full becomes `refunded`: its course seat is released and the role recomputed (the
/// change logged), once, in one batch with the event's id. A partial refund records the amount.
pub async fn charge_refunded<D: Database, H: HttpClient>(
    ctx: &Ctx<'_, D, H>,
    charge_id: &str,
    record: Statement,
) -> Result<Action> {
    let charge = Charge::read(&ctx.stripe.get(&format!("/v1/charges/{}", path_id(charge_id)?)).await?)?;
    let Some(intent) = charge.payment_intent.as_deref() else {
        return ignore(ctx.db, record).await;
    };
    let Some(paid) = paid_by(ctx.db, intent).await? else {
        return ignore(ctx.db, record).await;
    };
    let mut statements = Vec::new();
    if paid.kind == "subscription" {
        statements.push(
            Statement::new("UPDATE subscription_payments SET refunded_amount = ?2, updated_at = ?3 WHERE id = ?1")
                .bind(paid.id.as_str())
                .bind(charge.amount_refunded)
                .bind(ctx.now),
        );
    } else if charge.fully_refunded && paid.status == "completed" {
        statements.extend(refund_order(ctx, &paid, &charge).await?);
    } else {
        statements.push(
            Statement::new(
                "UPDATE orders SET refunded_amount = ?2, receipt_url = COALESCE(?3, receipt_url) WHERE id = ?1",
            )
            .bind(paid.id.as_str())
            .bind(charge.amount_refunded)
            .bind(charge.receipt_url.clone()),
        );
    }
    statements.push(record);
    ctx.db.batch(statements).await?;
    Ok(Action::Applied)
}

/// The statements of a full refund of a completed order. Each checks the order is still completed
/// and the last one refunds it, so a second refund event (another id) changes nothing.
async fn refund_order<D: Database, H>(ctx: &Ctx<'_, D, H>, order: &Paid, charge: &Charge) -> Result<Vec<Statement>> {
    let mut statements = Vec::new();
    if let Some(user) = accounts::caller(ctx.db, &order.user_id).await? {
        let after = store::role_after_refund(ctx.db, &user.user_id, &order.id).await?;
        if after != user.role {
            statements.push(
                Statement::new(
                    "INSERT INTO role_changes (user_id, from_role, to_role, reason, created_at)
                     SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM orders WHERE id = ?6 AND status = 'completed')",
                )
                .bind(user.user_id.as_str())
                .bind(user.role.as_str())
                .bind(after.as_str())
                .bind(format!("order {} refunded", order.id))
                .bind(ctx.now)
                .bind(order.id.as_str()),
            );
        }
    }
    // The course seat the purchase paid for (active or waitlisted) is released.
    statements.push(
        Statement::new(
            "DELETE FROM enrollments WHERE user_id = ?1 AND order_id = ?2
               AND EXISTS (SELECT 1 FROM orders WHERE id = ?2 AND status = 'completed')",
        )
        .bind(order.user_id.as_str())
        .bind(order.id.as_str()),
    );
    statements.push(
        Statement::new(
            "UPDATE orders SET status = 'refunded', refunded_amount = ?2, refunded_at = ?3,
               receipt_url = COALESCE(?4, receipt_url)
             WHERE id = ?1 AND status = 'completed'",
        )
        .bind(order.id.as_str())
        .bind(charge.amount_refunded)
        .bind(ctx.now)
        .bind(charge.receipt_url.clone()),
    );
    Ok(statements)
}

/// `charge.dispute.created`: re-fetches the dispute, flags the payment it is about and queues an
/// alert for staff (they answer it in Stripe's dashboard before its evidence deadline), all in one
/// batch with the event's id. Access is left as it is: a dispute is not yet lost.
pub async fn dispute_created<D: Database, H: HttpClient>(
    ctx: &Ctx<'_, D, H>,
    dispute_id: &str,
    record: Statement,
) -> Result<Action> {
    let dispute = ctx.stripe.get(&format!("/v1/disputes/{}", path_id(dispute_id)?)).await?;
    let id = id_of(&dispute["id"]).unwrap_or(dispute_id);
    let reason = dispute["reason"].as_str().unwrap_or("general");
    let amount = dispute["amount"].as_i64().unwrap_or(0);
    let money = format_amount(amount, &currency(&dispute["currency"]).unwrap_or_else(|| "usd".into()));
    let intent = match id_of(&dispute["payment_intent"]) {
        Some(intent) => Some(intent.to_owned()),
        // Older disputes name only the charge.
        None => match id_of(&dispute["charge"]) {
            Some(charge) => {
                Charge::read(&ctx.stripe.get(&format!("/v1/charges/{}", path_id(charge)?)).await?)?.payment_intent
            }
            None => None,
        },
    };
    let paid = match intent.as_deref() {
        Some(intent) => paid_by(ctx.db, intent).await?,
        None => None,
    };
    let mut statements = Vec::new();
    let about = match &paid {
        Some(paid) => {
            let table = if paid.kind == "order" { "orders" } else { "subscription_payments" };
            let sql = if table == "orders" {
                "UPDATE orders SET dispute_id = ?2, dispute_reason = ?3, disputed_at = ?4 WHERE id = ?1"
            } else {
                "UPDATE subscription_payments SET dispute_id = ?2, dispute_reason = ?3, disputed_at = ?4, updated_at = ?4
                 WHERE id = ?1"
            };
            statements.push(Statement::new(sql).bind(paid.id.as_str()).bind(id).bind(reason).bind(ctx.now));
            let email = accounts::caller(ctx.db, &paid.user_id).await?.map(|c| c.email).unwrap_or_default();
            let paid_money =
                paid.amount.map(|a| format_amount(a, paid.currency.as_deref().unwrap_or("usd"))).unwrap_or_default();
            format!(
                "{} `{}` ({}, {paid_money}) by {}",
                if paid.kind == "order" { "order" } else { "subscription payment" },
                escape(&paid.id),
                escape(&paid.product),
                escape(&email)
            )
        }
        None => "a payment FHIR IQ has no record of".to_owned(),
    };
    let text = format!(
        ":warning: Stripe dispute `{}` for {money} ({}) on {about}. Respond in the Stripe dashboard before the \
         evidence deadline: {}/admin/orders",
        escape(id),
        escape(reason),
        ctx.site_url
    );
    statements.push(alerts::enqueue(alerts::Kind::Dispute, &text, ctx.now)?);
    statements.push(record);
    ctx.db.batch(statements).await?;
    Ok(Action::Applied)
}

/// `charge.dispute.closed`: re-fetches the dispute. Lost: the money went back to the buyer, so a
/// one-time purchase is treated as refunded in full (seat released, role recomputed, logged) and a
/// subscription payment records the amount as refunded (the plan follows the subscription's own
/// events). Won: the payment's flag is cleared (its dispute id and reason stay as history).
pub async fn dispute_closed<D: Database, H: HttpClient>(
    ctx: &Ctx<'_, D, H>,
    dispute_id: &str,
    record: Statement,
) -> Result<Action> {
    let dispute = ctx.stripe.get(&format!("/v1/disputes/{}", path_id(dispute_id)?)).await?;
    let paid = match id_of(&dispute["payment_intent"]) {
        Some(intent) => paid_by(ctx.db, intent).await?,
        None => None,
    };
    let (Some(paid), Some(status)) = (paid, dispute["status"].as_str()) else {
        return ignore(ctx.db, record).await;
    };
    let amount = dispute["amount"].as_i64().filter(|a| *a >= 0).unwrap_or(0);
    let mut statements = Vec::new();
    match (status, paid.kind.as_str()) {
        ("lost", "order") if paid.status == "completed" => {
            let charge = Charge {
                id: id_of(&dispute["charge"]).unwrap_or_default().to_owned(),
                payment_intent: None,
                amount,
                currency: paid.currency.clone().unwrap_or_else(|| "usd".into()),
                amount_refunded: paid.amount.unwrap_or(amount),
                fully_refunded: true,
                receipt_url: None,
            };
            statements.extend(refund_order(ctx, &paid, &charge).await?);
        }
        ("lost", "subscription") => statements.push(
            Statement::new("UPDATE subscription_payments SET refunded_amount = amount, updated_at = ?2 WHERE id = ?1")
                .bind(paid.id.as_str())
                .bind(ctx.now),
        ),
        ("won", kind) => statements.push(
            Statement::new(if kind == "order" {
                "UPDATE orders SET disputed_at = NULL WHERE id = ?1"
            } else {
                "UPDATE subscription_payments SET disputed_at = NULL WHERE id = ?1"
            })
            .bind(paid.id.as_str()),
        ),
        _ => {}
    }
    statements.push(record);
    ctx.db.batch(statements).await?;
    Ok(Action::Applied)
}

async fn ignore(db: &impl Database, record: Statement) -> Result<Action> {
    db.batch(vec![record]).await?;
    Ok(Action::Ignored)
}

/// One line of a user's payment history (`GET /api/billing/payments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    pub id: String,
    /// `subscription` or `one_time`.
    pub kind: String,
    /// The product's id (one-time) or the plan (subscription).
    pub product: String,
    pub amount: i64,
    pub currency: String,
    /// `paid`, `partially_refunded`, `refunded` or `disputed`.
    pub status: String,
    pub refunded_amount: i64,
    /// ms since the epoch.
    pub created_at: i64,
    /// The plan period a subscription payment paid for (ms), none for a one-time purchase.
    pub period_start: Option<i64>,
    pub period_end: Option<i64>,
    pub receipt_url: Option<String>,
}

/// The status a payment shows as, for the order row `o`: `pending` (staff only: a history leaves
/// pending orders out), `disputed`, `refunded`, `partially_refunded` or `paid`.
macro_rules! order_status {
    () => {
        "CASE WHEN o.status = 'pending' THEN 'pending' WHEN o.disputed_at IS NOT NULL THEN 'disputed'
              WHEN o.status = 'refunded' THEN 'refunded' WHEN o.refunded_amount > 0 THEN 'partially_refunded'
              ELSE 'paid' END"
    };
}

/// The same for the subscription payment row `p`, which is refunded once all of it is.
macro_rules! subscription_payment_status {
    () => {
        "CASE WHEN p.disputed_at IS NOT NULL THEN 'disputed' WHEN p.refunded_amount >= p.amount AND p.amount > 0
              THEN 'refunded' WHEN p.refunded_amount > 0 THEN 'partially_refunded' ELSE 'paid' END"
    };
}

/// The most a history lists (newest first).
pub const HISTORY_LIMIT: i64 = 200;

/// The user's payments, newest first: one-time purchases (completed or refunded; a pending order
/// is not a payment) and subscription payments.
pub async fn history(db: &impl Database, user_id: &str) -> Result<Vec<PaymentView>> {
    db.query(
        Statement::new(concat!(
            "SELECT o.id, 'one_time' AS kind, o.product, COALESCE(o.amount, 0) AS amount,
                    COALESCE(o.currency, 'usd') AS currency, ",
            order_status!(),
            " AS status, o.refunded_amount AS refundedAmount, o.created_at AS createdAt, NULL AS periodStart,
                    NULL AS periodEnd, o.receipt_url AS receiptUrl
               FROM orders o WHERE o.user_id = ?1 AND o.status IN ('completed', 'refunded')
             UNION ALL
             SELECT p.id, 'subscription', p.plan, p.amount, p.currency, ",
            subscription_payment_status!(),
            ", p.refunded_amount, p.paid_at, p.period_start, p.period_end, p.receipt_url
               FROM subscription_payments p WHERE p.user_id = ?1
             ORDER BY createdAt DESC, id LIMIT ?2",
        ))
        .bind(user_id)
        .bind(HISTORY_LIMIT),
    )
    .await
}

/// One payment in the staff list (`/admin/orders`): orders in every status, and subscription payments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffPayment {
    pub id: String,
    pub kind: String,
    pub email: String,
    pub product: String,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    /// `pending` (an order not paid yet), `paid`, `partially_refunded`, `refunded` or `disputed`.
    pub status: String,
    pub refunded_amount: i64,
    pub created_at: i64,
    pub payment_intent: Option<String>,
    pub dispute_reason: Option<String>,
}

/// What staff filter the list by; empty means any.
#[derive(Debug, Clone, Default)]
pub struct StaffFilter {
    pub kind: String,
    pub status: String,
    /// Part of the buyer's email.
    pub email: String,
}

/// Payments for staff, newest first, filtered (at most [`HISTORY_LIMIT`]).
pub async fn staff_list(db: &impl Database, filter: &StaffFilter) -> Result<Vec<StaffPayment>> {
    db.query(
        Statement::new(concat!(
            "SELECT * FROM (
               SELECT o.id, 'one_time' AS kind, u.email, o.product, o.amount, o.currency, ",
            order_status!(),
            " AS status, o.refunded_amount AS refundedAmount, o.created_at AS createdAt,
                      o.stripe_payment_intent AS paymentIntent, o.dispute_reason AS disputeReason
                 FROM orders o JOIN users u ON u.id = o.user_id
               UNION ALL
               SELECT p.id, 'subscription', u.email, p.plan, p.amount, p.currency, ",
            subscription_payment_status!(),
            ", p.refunded_amount, p.paid_at, p.payment_intent, p.dispute_reason
                 FROM subscription_payments p JOIN users u ON u.id = p.user_id)
             WHERE (?1 = '' OR kind = ?1) AND (?2 = '' OR status = ?2) AND instr(email, ?3) > 0
             ORDER BY createdAt DESC, id LIMIT ?4",
        ))
        .bind(filter.kind.as_str())
        .bind(filter.status.as_str())
        .bind(filter.email.trim().to_lowercase())
        .bind(HISTORY_LIMIT),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_are_read_in_the_minor_unit_of_their_currency() {
        assert_eq!(format_amount(4900, "usd"), "49.00 USD");
        assert_eq!(format_amount(1205, "EUR"), "12.05 EUR");
        assert_eq!(format_amount(500, "jpy"), "500 JPY");
    }

    #[test]
    fn a_charge_is_fully_refunded_by_its_flag_or_its_amounts() {
        let partial = json!({"id": "ch_1", "amount": 4900, "amount_refunded": 900, "refunded": false,
            "currency": "usd", "payment_intent": {"id": "pi_1"}, "receipt_url": "javascript:alert(1)"});
        let charge = Charge::read(&partial).expect("a charge");
        assert_eq!((charge.fully_refunded, charge.amount_refunded), (false, 900));
        assert_eq!(charge.payment_intent.as_deref(), Some("pi_1"));
        assert_eq!(charge.receipt_url, None, "only http(s) links are kept");
        let full = json!({"id": "ch_1", "amount": 4900, "amount_refunded": 4900, "currency": "usd"});
        assert!(Charge::read(&full).expect("a charge").fully_refunded);
        assert!(Charge::read(&json!({"amount": 1})).is_err(), "no id");
    }

    #[test]
    fn an_invoice_names_its_payment_intent_in_either_api_shape() {
        let basil = json!({"payments": {"data": [
            {"status": "canceled", "payment": {"type": "payment_intent", "payment_intent": "pi_old"}},
            {"status": "paid", "payment": {"type": "payment_intent", "payment_intent": {"id": "pi_new"}}}]}});
        assert_eq!(invoice_payment_intent(&basil), Some("pi_new"));
        assert_eq!(invoice_payment_intent(&json!({"payment_intent": "pi_legacy"})), Some("pi_legacy"));
        let unpaid = json!({"id": "in_1", "status": "open", "amount_paid": 0, "currency": "usd",
            "parent": {"subscription_details": {"subscription": "sub_1"}}});
        assert!(invoice_payment(&unpaid, 0).is_none(), "an open invoice is not a payment");
        let one_off = json!({"id": "in_2", "status": "paid", "amount_paid": 100, "currency": "usd"});
        assert!(invoice_payment(&one_off, 0).is_none(), "no subscription, no plan payment");
    }
}
