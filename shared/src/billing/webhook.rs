//! `POST /_functions/stripeWebhook`. Each event is verified, then treated as a trigger: subscription
//! events re-fetch the subscription from Stripe and overwrite our rows, so duplicates and any delivery
//! order end in Stripe's current state. The event id is recorded in the same atomic batch as the
//! effects that must not repeat (an order completed, an email queued, a role change logged). A
//! transient failure (Stripe or D1 unavailable) is an error the worker answers with 5xx, before
//! anything is written, so Stripe's retry applies it whole.

use super::payments;
use super::signature;
use super::store;
use super::stripe::{id_of, path_id};
use super::subscription::{self, Standing};
use crate::auth::store as accounts;
use crate::config::Secret;
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::mail;
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::Serialize;
use serde_json::Value;

pub use super::context::Ctx;

pub use crate::signing::Action;

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub received: bool,
    pub event: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub action: Action,
}

/// A notice to queue with a subscription change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    None,
    /// checkout.session.completed: the plan is active.
    Welcome,
    /// invoice.payment_failed.
    PaymentFailed,
}

/// Verifies and applies one delivery.
pub async fn handle<D: Database, H: HttpClient>(
    ctx: &Ctx<'_, D, H>,
    secret: Option<&Secret>,
    header: Option<&str>,
    body: &[u8],
) -> Result<Outcome> {
    verify(secret, header, body, ctx.now)?;
    apply(ctx, body).await
}

/// The signature check alone: a delivery that fails it is refused (400) before anything else,
/// including whether this server can reach Stripe at all.
pub fn verify(secret: Option<&Secret>, header: Option<&str>, body: &[u8], now: Millis) -> Result<()> {
    let secret = secret.ok_or_else(|| crate::signing::not_configured("Stripe", "STRIPE_WEBHOOK_SECRET"))?;
    signature::verify(header, body, secret, now / 1_000)
}

/// Applies a delivery whose signature [`verify`] accepted.
pub async fn apply<D: Database, H: HttpClient>(ctx: &Ctx<'_, D, H>, body: &[u8]) -> Result<Outcome> {
    let event: Value =
        serde_json::from_slice(body).map_err(|e| Error::BadRequest(format!("The event is not JSON: {e}")))?;
    let id = event["id"].as_str().ok_or_else(|| Error::BadRequest("The event has no id.".into()))?;
    let event_type = event["type"].as_str().ok_or_else(|| Error::BadRequest("The event has no type.".into()))?;
    let object = event.pointer("/data/object").filter(|o| o.is_object());
    let object = object.ok_or_else(|| Error::BadRequest("The event has no data.object.".into()))?;
    let outcome = |action| Outcome { received: true, event: id.to_owned(), event_type: event_type.to_owned(), action };
    if store::event_seen(ctx.db, id).await? {
        return Ok(outcome(Action::Duplicate));
    }
    let record = store::record_event(id, event_type, ctx.now);
    let applied = match event_type {
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted"
        | "customer.subscription.paused"
        | "customer.subscription.resumed" => {
            let subscription = id_of(&object["id"]).ok_or_else(|| Error::BadRequest("no subscription id".into()))?;
            apply_subscription(ctx, subscription, Notice::None, vec![record]).await
        }
        "checkout.session.completed" => checkout_completed(ctx, object, record).await,
        "invoice.payment_failed" => match subscription::invoice_subscription(object) {
            Some(subscription) => apply_subscription(ctx, subscription, Notice::PaymentFailed, vec![record]).await,
            // A one-off invoice: nothing to do with plans.
            None => ignore(ctx, record).await,
        },
        // A subscription payment: the plan re-fetched, and the invoice as Stripe has it now recorded.
        "invoice.paid" => match subscription::invoice_subscription(object) {
            Some(subscription) => {
                let invoice_id = id_of(&object["id"]).ok_or_else(|| Error::BadRequest("no invoice id".into()))?;
                let invoice = payments::fetch_invoice(ctx.stripe, invoice_id).await?;
                let payment = payments::invoice_payment(&invoice, ctx.now);
                apply_subscription(ctx, subscription, Notice::None, payment.into_iter().chain([record]).collect()).await
            }
            None => ignore(ctx, record).await,
        },
        "charge.refunded" => {
            let charge = id_of(&object["id"]).ok_or_else(|| Error::BadRequest("no charge id".into()))?;
            payments::charge_refunded(ctx, charge, record).await
        }
        "charge.dispute.created" => {
            let dispute = id_of(&object["id"]).ok_or_else(|| Error::BadRequest("no dispute id".into()))?;
            payments::dispute_created(ctx, dispute, record).await
        }
        "charge.dispute.closed" => {
            let dispute = id_of(&object["id"]).ok_or_else(|| Error::BadRequest("no dispute id".into()))?;
            payments::dispute_closed(ctx, dispute, record).await
        }
        "payment_intent.succeeded" => match object.pointer("/metadata/order_id").and_then(Value::as_str) {
            Some(order_id) => {
                complete_order(ctx, order_id, &store::Payment::from_payment_intent(object), Some(record)).await
            }
            None => ignore(ctx, record).await,
        },
        _ => Ok(Action::Ignored),
    };
    match applied {
        Ok(action) => Ok(outcome(action)),
        // A concurrent delivery of the same event won the race: its batch applied, ours did not.
        Err(e) if store::is_duplicate_event(&e) => Ok(outcome(Action::Duplicate)),
        Err(e) => Err(e),
    }
}

/// Records an event we acknowledge but do not act on.
async fn ignore<D: Database, H>(ctx: &Ctx<'_, D, H>, record: Statement) -> Result<Action> {
    ctx.db.batch(vec![record]).await?;
    Ok(Action::Ignored)
}

async fn checkout_completed<D: Database, H: HttpClient>(
    ctx: &Ctx<'_, D, H>,
    session: &Value,
    record: Statement,
) -> Result<Action> {
    match session["mode"].as_str() {
        Some("subscription") => match id_of(&session["subscription"]) {
            Some(subscription) => apply_subscription(ctx, subscription, Notice::Welcome, vec![record]).await,
            None => ignore(ctx, record).await,
        },
        // Paid now (card): complete the order. Paid later (bank debit): payment_intent.succeeded will.
        Some("payment") if session["payment_status"] == "paid" => {
            match session.pointer("/metadata/order_id").and_then(Value::as_str) {
                // A session without its PaymentIntent is read again from Stripe.
                Some(order_id) if id_of(&session["payment_intent"]).is_none() => {
                    let id = id_of(&session["id"]).ok_or_else(|| Error::BadRequest("no session id".into()))?;
                    let fetched = ctx.stripe.get(&format!("/v1/checkout/sessions/{}", path_id(id)?)).await?;
                    complete_order(ctx, order_id, &store::Payment::from_checkout_session(&fetched), Some(record)).await
                }
                Some(order_id) => {
                    complete_order(ctx, order_id, &store::Payment::from_checkout_session(session), Some(record)).await
                }
                None => ignore(ctx, record).await,
            }
        }
        _ => ignore(ctx, record).await,
    }
}

/// Re-fetches subscription `id` from Stripe and overwrites our copy, with the role change (if any),
/// the notice (if any) and `extra` (the event record) in one batch. Also used by the checkout success
/// page, so a user who returns before the webhook already has the plan.
pub async fn apply_subscription<D: Database, H: HttpClient>(
    ctx: &Ctx<'_, D, H>,
    id: &str,
    notice: Notice,
    extra: Vec<Statement>,
) -> Result<Action> {
    let fetched = ctx.stripe.get(&format!("/v1/subscriptions/{}", path_id(id)?)).await?;
    let snapshot = subscription::read(&fetched)?;
    let user_id = match &snapshot.user_id {
        Some(user_id) => Some(user_id.clone()),
        None => store::user_of_customer(ctx.db, &snapshot.customer).await?,
    };
    let Some(user) = (match user_id {
        Some(user_id) => accounts::caller(ctx.db, &user_id).await?,
        None => None,
    }) else {
        // Not a FHIR IQ customer (or the account is gone): acknowledge without acting.
        if extra.is_empty() {
            return Err(Error::Forbidden("This subscription belongs to no FHIR IQ account.".into()));
        }
        ctx.db.batch(extra).await?;
        return Ok(Action::Ignored);
    };
    let price = ctx.catalog.plan_for(&snapshot.price_id, snapshot.lookup_key.as_deref()).ok_or_else(|| {
        // Configuration, not data: answered 5xx so Stripe retries once the price is configured.
        Error::Config(format!("Stripe price {} is in no plan: set STRIPE_PRICE_<PLAN>_<INTERVAL>", snapshot.price_id))
    })?;
    let standing = subscription::standing(&snapshot.status);
    let grant = (standing == Standing::Paid).then_some(price.plan);
    let roles = (user.role, store::role_after(ctx.db, &user.user_id, &snapshot.id, grant, false).await?);
    let mut statements = store::write_subscription(&snapshot, &user.user_id, price.plan, ctx.now);
    let reason = format!("stripe subscription {} {}", snapshot.id, snapshot.status);
    statements.extend(store::role_change(&user.user_id, roles, &reason, ctx.now));
    // The end of the pricing funnel: a paid plan starts (the role rises to it).
    if roles.1 > roles.0 && grant == Some(roles.1) {
        let kind = crate::events::EventType::parse("subscription.started")?;
        let properties = serde_json::json!({"plan": price.plan.as_str()});
        statements.push(crate::events::statement(Some(&user.user_id), &kind, &properties, ctx.now)?);
    }
    let plan = price.plan.title();
    let email = match notice {
        Notice::Welcome if standing == Standing::Paid => Some((
            format!("Your FHIR IQ {plan} plan is active"),
            format!(
                "Thank you for subscribing to FHIR IQ {} ({}).\n\nEverything it unlocks is available now: {}/account\n\n\
                 Manage billing, invoices and cancellation any time from your account page.",
                plan,
                price.interval.label(),
                ctx.site_url
            ),
        )),
        Notice::PaymentFailed => Some((
            "Your FHIR IQ payment failed".to_owned(),
            format!(
                "We could not take the payment for your FHIR IQ {} plan, so its paid features are paused.\n\n\
                 Update your payment method here and they come back at once: {}/account\n\n\
                 Stripe will also retry the payment over the next days.",
                plan, ctx.site_url
            ),
        )),
        _ => None,
    };
    if let Some((subject, body)) = email {
        statements.push(mail::enqueue(&user.email, &subject, &body, ctx.now)?.1);
    }
    statements.extend(extra);
    ctx.db.batch(statements).await?;
    Ok(Action::Applied)
}

/// Completes one-time order `order_id` (once, however many events announce it), recording what was
/// paid and the receipt (the PaymentIntent's latest Charge, fetched while the order is pending).
pub async fn complete_order<D: Database, H: HttpClient>(
    ctx: &Ctx<'_, D, H>,
    order_id: &str,
    payment: &store::Payment,
    record: Option<Statement>,
) -> Result<Action> {
    let Some(order) = store::order(ctx.db, order_id).await? else {
        return match record {
            Some(record) => ignore(ctx, record).await,
            None => Err(Error::NotFound(format!("no order {order_id}"))),
        };
    };
    let Some(user) = accounts::caller(ctx.db, &order.user_id).await? else {
        return match record {
            Some(record) => ignore(ctx, record).await,
            None => Err(Error::NotFound("the order's account is gone".into())),
        };
    };
    // Stripe's word on what was paid, and the receipt: the PaymentIntent re-fetched while pending.
    let mut payment = payment.clone();
    if order.status == "pending"
        && let Some(intent) = payment.payment_intent.as_deref()
    {
        let fetched = payments::fetch_intent(ctx.stripe, intent).await?;
        let fresh = store::Payment::from_payment_intent(&fetched);
        payment.amount = fresh.amount.or(payment.amount);
        payment.currency = fresh.currency.or(payment.currency);
        payment.receipt_url = payments::receipt(&fetched);
    }
    let roles = (user.role, store::role_after(ctx.db, &user.user_id, "", None, true).await?);
    let name = ctx.catalog.product(&order.product).map(|p| p.name.clone()).unwrap_or_else(|_| order.product.clone());
    let subject = format!("Your FHIR IQ purchase: {name}");
    let body = format!(
        "Thank you for buying {name}. It is on your account now: {}/account\n\nOrder reference: {}",
        ctx.site_url, order.id
    );
    // A course's seat first: its statement checks the order is still pending, as the others do.
    let mut statements =
        vec![crate::content::seats::after_purchase(&order.user_id, &order.product, &order.id, ctx.now)];
    statements.extend(store::complete_order(&order, &payment, (&user.email, &subject, &body), roles, ctx.now)?);
    statements.extend(record);
    ctx.db.batch(statements).await?;
    Ok(Action::Applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::catalog::Catalog;
    use crate::billing::stripe::{Stripe, StripeConfig};
    use crate::http::testing::RecordingHttp;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;
    use hmac::{Hmac, KeyInit, Mac};
    use serde_json::json;

    const SECRET: &str = "whsec_unit";
    const NOW: Millis = 1_800_000_000_000;

    fn db() -> SqliteDb {
        let db = SqliteDb::with_schema();
        block_on(db.execute(Statement::new(
            "INSERT INTO users (id, email, password_hash, created_at, password_changed_at)
             VALUES ('u1', 'ada@example.org', 'x', 0, 0)",
        )))
        .expect("user");
        db
    }

    fn subscription(status: &str) -> String {
        json!({"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": status,
               "cancel_at_period_end": false, "metadata": {"user_id": "u1"},
               "items": {"data": [{"id": "si_1", "current_period_end": 1_802_592_000,
                   "price": {"id": "price_fhiriq_pro_monthly", "recurring": {"interval": "month"}}}]}})
        .to_string()
    }

    fn signed(event: &Value) -> (String, Vec<u8>) {
        let body = event.to_string().into_bytes();
        let t = NOW / 1_000;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
        mac.update(format!("{t}.").as_bytes());
        mac.update(&body);
        (format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes())), body)
    }

    fn deliver(db: &SqliteDb, http: &RecordingHttp, event: &Value) -> Result<Outcome> {
        let config = StripeConfig {
            api_base: "http://127.0.0.1:8".into(),
            secret_key: Some(Secret::new("sk_test")),
            webhook_secret: Some(Secret::new(SECRET)),
        };
        let stripe = Stripe::new(http, &config)?;
        let catalog = Catalog::from_env(&std::collections::HashMap::<&str, &str>::new())?;
        let ctx = Ctx { db, stripe: &stripe, catalog: &catalog, now: NOW, site_url: "https://fhiriq.test" };
        let (header, body) = signed(event);
        block_on(handle(&ctx, config.webhook_secret.as_ref(), Some(&header), &body))
    }

    fn event(id: &str, kind: &str, object: Value) -> Value {
        json!({"id": id, "object": "event", "type": kind, "data": {"object": object}})
    }

    use crate::testing::count;

    fn role(db: &SqliteDb) -> Role {
        block_on(accounts::caller(db, "u1")).expect("reads").expect("exists").role
    }

    use crate::auth::Role;

    #[test]
    fn a_subscription_event_refetches_and_overwrites_logging_the_role_change_once() {
        let db = db();
        let http = RecordingHttp::answering(200, &subscription("active"));
        let created = event("evt_1", "customer.subscription.created", json!({"id": "sub_1", "status": "incomplete"}));
        assert_eq!(deliver(&db, &http, &created).expect("applied").action, Action::Applied);
        assert_eq!(role(&db), Role::Pro, "Stripe's current state, not the event's stale copy");
        assert_eq!(http.sent.borrow()[0].url, "http://127.0.0.1:8/v1/subscriptions/sub_1");
        assert_eq!(deliver(&db, &http, &created).expect("again").action, Action::Duplicate);
        assert_eq!(http.sent.borrow().len(), 1, "a duplicate does not even call Stripe");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM role_changes"), 1);
        assert_eq!(count(&db, "SELECT current_period_end / 1000 AS n FROM stripe_subscriptions"), 1_802_592_000);
    }

    #[test]
    fn past_due_keeps_the_record_without_access_and_queues_one_payment_failed_email() {
        let db = db();
        let http = RecordingHttp::answering(200, &subscription("active"))
            .then(200, &subscription("past_due"))
            .then(200, &subscription("active"));
        deliver(&db, &http, &event("evt_1", "customer.subscription.created", json!({"id": "sub_1"}))).expect("ok");
        let invoice = json!({"id": "in_1", "parent": {"subscription_details": {"subscription": "sub_1"}}});
        deliver(&db, &http, &event("evt_2", "invoice.payment_failed", invoice.clone())).expect("ok");
        assert_eq!(role(&db), Role::Free);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM subscriptions WHERE status = 'past_due'"), 1);
        deliver(&db, &http, &event("evt_2", "invoice.payment_failed", invoice.clone())).expect("dup");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM email_outbox WHERE subject LIKE '%payment failed%'"), 1);
        deliver(&db, &http, &event("evt_3", "invoice.paid", json!({"id": "in_1", "subscription": "sub_1"})))
            .expect("ok");
        assert_eq!(role(&db), Role::Pro);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM role_changes"), 3, "free->pro, pro->free, free->pro");
    }

    #[test]
    fn a_stripe_outage_writes_nothing_so_the_retry_applies_whole() {
        let db = db();
        let http = RecordingHttp::answering(500, r#"{"error":{"type":"api_error","message":"boom"}}"#)
            .then(200, &subscription("active"));
        let created = event("evt_1", "customer.subscription.created", json!({"id": "sub_1"}));
        assert!(deliver(&db, &http, &created).expect_err("transient").status_code() >= 500);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM stripe_events"), 0);
        assert_eq!(deliver(&db, &http, &created).expect("retried").action, Action::Applied);
        assert_eq!(role(&db), Role::Pro);
    }

    #[test]
    fn an_order_completes_once_whichever_events_announce_it() {
        let db = db();
        block_on(db.execute(store::create_order("ord_1", "u1", "course-smart-on-fhir", 0))).expect("order");
        let intent_with_charge = json!({"id": "pi_1", "object": "payment_intent", "amount_received": 4900,
            "currency": "usd", "latest_charge": {"id": "ch_1", "receipt_url": "https://pay.stripe.com/receipts/ch_1"}});
        let http = RecordingHttp::answering(200, &intent_with_charge.to_string());
        let session = json!({"id": "cs_1", "mode": "payment", "payment_status": "paid", "amount_total": 4900,
            "currency": "usd", "payment_intent": "pi_1", "metadata": {"order_id": "ord_1"}});
        let intent =
            json!({"id": "pi_1", "amount_received": 4900, "currency": "usd", "metadata": {"order_id": "ord_1"}});
        for (id, kind, object) in [
            ("evt_a", "checkout.session.completed", &session),
            ("evt_a", "checkout.session.completed", &session),
            ("evt_b", "payment_intent.succeeded", &intent),
        ] {
            deliver(&db, &http, &event(id, kind, object.clone())).expect("acknowledged");
        }
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM orders WHERE status = 'completed'"), 1);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) AS n FROM orders WHERE amount = 4900 AND currency = 'usd' AND stripe_payment_intent = 'pi_1'"
            ),
            1,
            "the payment is recorded on the order"
        );
        assert_eq!(http.sent.borrow().len(), 1, "the receipt is fetched once, while the order is pending");
        assert_eq!(http.sent.borrow()[0].url, "http://127.0.0.1:8/v1/payment_intents/pi_1?expand[]=latest_charge");
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM orders WHERE receipt_url = 'https://pay.stripe.com/receipts/ch_1'"),
            1
        );
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM email_outbox"), 1, "one confirmation");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM role_changes WHERE to_role = 'student'"), 1);
        assert_eq!(role(&db), Role::Student);
    }

    #[test]
    fn a_payment_is_read_from_a_session_or_an_intent_and_nonsense_is_not_stored() {
        let expanded = json!({"amount_total": 1250, "currency": "EUR", "payment_intent": {"id": "pi_9"}});
        assert_eq!(
            store::Payment::from_checkout_session(&expanded),
            store::Payment {
                amount: Some(1250),
                currency: Some("eur".into()),
                payment_intent: Some("pi_9".into()),
                receipt_url: None
            }
        );
        let intent = json!({"id": "pi_2", "amount_received": 0, "currency": "jpy"});
        assert_eq!(store::Payment::from_payment_intent(&intent).amount, Some(0));
        let odd = json!({"amount_total": -5, "currency": "dollars", "payment_intent": null});
        assert_eq!(store::Payment::from_checkout_session(&odd), store::Payment::default());
    }

    /// A completed order `ord_1` paid by `pi_1` (49.00 USD), u1 a student because of it.
    fn completed_order(db: &SqliteDb) {
        block_on(db.execute(store::create_order("ord_1", "u1", "course-smart-on-fhir", 0))).expect("order");
        let http = RecordingHttp::answering(200, r#"{"id": "pi_1", "latest_charge": null}"#);
        let session = json!({"id": "cs_1", "mode": "payment", "payment_status": "paid", "amount_total": 4900,
            "currency": "usd", "payment_intent": "pi_1", "metadata": {"order_id": "ord_1"}});
        deliver(db, &http, &event("evt_paid", "checkout.session.completed", session)).expect("completed");
        assert_eq!(role(db), Role::Student);
    }

    fn charge(refunded: i64) -> String {
        json!({"id": "ch_1", "object": "charge", "amount": 4900, "amount_refunded": refunded,
               "refunded": refunded == 4900, "currency": "usd", "payment_intent": "pi_1",
               "receipt_url": "https://pay.stripe.com/receipts/ch_1"})
        .to_string()
    }

    #[test]
    fn a_partial_refund_is_recorded_and_a_full_one_refunds_the_order_once() {
        let db = db();
        completed_order(&db);
        let http = RecordingHttp::answering(200, &charge(900)).then(200, &charge(4900)).then(200, &charge(4900));
        let refunded = |id: &str| event(id, "charge.refunded", json!({"id": "ch_1", "object": "charge"}));
        assert_eq!(deliver(&db, &http, &refunded("evt_r1")).expect("partial").action, Action::Applied);
        assert_eq!(count(&db, "SELECT refunded_amount AS n FROM orders WHERE status = 'completed'"), 900);
        assert_eq!(role(&db), Role::Student, "a partial refund keeps the purchase");
        deliver(&db, &http, &refunded("evt_r2")).expect("full");
        deliver(&db, &http, &refunded("evt_r3")).expect("a later event for the same charge");
        assert_eq!(count(&db, "SELECT refunded_amount AS n FROM orders WHERE status = 'refunded'"), 4900);
        assert_eq!(role(&db), Role::Free, "the role follows the refund");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM role_changes WHERE to_role = 'free'"), 1, "logged once");
        assert_eq!(http.sent.borrow()[1].url, "http://127.0.0.1:8/v1/charges/ch_1", "re-fetched, not trusted");
    }

    #[test]
    fn a_dispute_flags_the_payment_and_queues_one_alert_for_staff() {
        let db = db();
        completed_order(&db);
        let dispute = json!({"id": "du_1", "object": "dispute", "amount": 4900, "currency": "usd",
            "charge": "ch_1", "payment_intent": "pi_1", "reason": "fraudulent", "status": "needs_response"});
        let http = RecordingHttp::answering(200, &dispute.to_string());
        let created = event("evt_d1", "charge.dispute.created", json!({"id": "du_1", "object": "dispute"}));
        deliver(&db, &http, &created).expect("applied");
        deliver(&db, &http, &created).expect("duplicate");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM orders WHERE dispute_id = 'du_1' AND disputed_at > 0"), 1);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM staff_alerts WHERE kind = 'dispute'"), 1);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) AS n FROM staff_alerts WHERE text LIKE '%49.00 USD (fraudulent)%ada@example.org%'"
            ),
            1
        );
        assert_eq!(role(&db), Role::Student, "access stays until the dispute is lost");
    }

    #[test]
    fn a_lost_dispute_takes_the_purchase_back_and_a_won_one_clears_the_flag() {
        let db = db();
        completed_order(&db);
        let dispute = |status: &str| {
            json!({"id": "du_1", "object": "dispute", "amount": 4900, "currency": "usd", "charge": "ch_1",
                   "payment_intent": "pi_1", "reason": "fraudulent", "status": status})
            .to_string()
        };
        let http = RecordingHttp::answering(200, &dispute("needs_response")).then(200, &dispute("won"));
        let opened = event("evt_d1", "charge.dispute.created", json!({"id": "du_1"}));
        deliver(&db, &http, &opened).expect("opened");
        deliver(&db, &http, &event("evt_d2", "charge.dispute.closed", json!({"id": "du_1"}))).expect("won");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM orders WHERE disputed_at IS NULL AND dispute_id = 'du_1'"), 1);
        assert_eq!(role(&db), Role::Student, "a won dispute keeps the purchase");
        let http = RecordingHttp::answering(200, &dispute("lost"));
        deliver(&db, &http, &event("evt_d3", "charge.dispute.closed", json!({"id": "du_1"}))).expect("lost");
        assert_eq!(count(&db, "SELECT refunded_amount AS n FROM orders WHERE status = 'refunded'"), 4900);
        assert_eq!(role(&db), Role::Free, "a lost dispute takes the purchase back");
    }

    #[test]
    fn a_paid_invoice_is_recorded_as_a_subscription_payment_once() {
        let db = db();
        let invoice = json!({"id": "in_1", "object": "invoice", "status": "paid", "amount_paid": 4900,
            "currency": "usd", "hosted_invoice_url": "https://invoice.stripe.com/i/in_1",
            "status_transitions": {"paid_at": 1_800_000_100},
            "lines": {"data": [{"period": {"start": 1_800_000_000, "end": 1_802_592_000}}]},
            "parent": {"subscription_details": {"subscription": "sub_1"}},
            "payments": {"data": [{"status": "paid", "payment": {"type": "payment_intent", "payment_intent": "pi_s1"}}]}});
        let http = RecordingHttp::answering(200, &invoice.to_string()).then(200, &subscription("active"));
        let paid = event("evt_i1", "invoice.paid", json!({"id": "in_1", "parent": invoice["parent"].clone()}));
        deliver(&db, &http, &paid).expect("applied");
        deliver(&db, &http, &paid).expect("duplicate");
        assert_eq!(http.sent.borrow()[0].url, "http://127.0.0.1:8/v1/invoices/in_1?expand[]=payments");
        let payments = block_on(payments::history(&db, "u1")).expect("history");
        assert_eq!(payments.len(), 1, "{payments:?}");
        let p = &payments[0];
        assert_eq!(
            (p.kind.as_str(), p.product.as_str(), p.amount, p.status.as_str()),
            ("subscription", "pro", 4900, "paid")
        );
        assert_eq!((p.created_at, p.period_end), (1_800_000_100_000, Some(1_802_592_000_000)));
        assert_eq!(p.receipt_url.as_deref(), Some("https://invoice.stripe.com/i/in_1"));
        assert!(block_on(payments::history(&db, "someone-else")).expect("history").is_empty());
    }

    #[test]
    fn unsigned_or_unknown_deliveries() {
        let db = db();
        let http = RecordingHttp::unreachable();
        let ignored = deliver(&db, &http, &event("evt_9", "customer.created", json!({"id": "cus_1"}))).expect("2xx");
        assert_eq!(ignored.action, Action::Ignored);
        let config = StripeConfig { api_base: "x".into(), secret_key: Some(Secret::new("sk")), webhook_secret: None };
        let stripe = Stripe::new(&http, &config).expect("configured");
        let catalog = Catalog::from_env(&std::collections::HashMap::<&str, &str>::new()).expect("catalog");
        let ctx = Ctx { db: &db, stripe: &stripe, catalog: &catalog, now: NOW, site_url: "" };
        let (_, body) = signed(&event("evt_8", "customer.subscription.created", json!({"id": "sub_1"})));
        let tampered = block_on(handle(&ctx, Some(&Secret::new(SECRET)), Some("t=1,v1=00"), &body));
        assert_eq!(tampered.expect_err("refused").status_code(), 400);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM stripe_events WHERE id = 'evt_8'"), 0);
    }
}
