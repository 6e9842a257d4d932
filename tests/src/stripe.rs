//! A fake of the Stripe API, stateful enough for checkout to run end to end: customers, Checkout
//! Sessions (with a hosted page that "pays" and redirects to the success URL), subscriptions in the
//! 2025-03-31.basil shape (`current_period_end` on the items), billing-portal sessions, idempotency
//! keys and Stripe's error format. Requests must carry the secret key and a `Stripe-Version`.
//! Money moves as in Stripe: a paid session has a PaymentIntent whose latest Charge carries the
//! receipt; refunds (`POST /v1/refunds`, or [`FakeStripe::refund`] as the dashboard would) update the
//! Charge; disputes and subscription-cycle invoices (with `payments` when expanded) are objects of
//! their own. `expand[]` is honoured for `latest_charge` and an invoice's `payments`.
//! Webhook signatures come from Stripe's own npm library ([`sign`]).

use crate::fake::{FakeResponse, FakeService, Recorded};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const SECRET_KEY: &str = "sk_test_fhiriq_fake";

#[derive(Default)]
struct State {
    next: u32,
    base: String,
    customers: HashMap<String, Value>,
    sessions: HashMap<String, Value>,
    subscriptions: HashMap<String, Value>,
    payment_intents: HashMap<String, Value>,
    charges: HashMap<String, Value>,
    refunds: HashMap<String, Value>,
    disputes: HashMap<String, Value>,
    invoices: HashMap<String, Value>,
    /// Idempotency-Key -> the first answer.
    idempotent: HashMap<String, Value>,
    /// The next this-many API calls answer 500.
    failures: u32,
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}_test{:04}", self.next)
    }

    /// A succeeded PaymentIntent and its Charge (with a receipt), as a payment leaves them.
    fn charge(&mut self, amount: i64, customer: &str, metadata: Value) -> (String, String) {
        let (pi, ch) = (self.id("pi"), self.id("ch"));
        let charge = json!({"id": ch, "object": "charge", "amount": amount, "amount_captured": amount,
            "amount_refunded": 0, "refunded": false, "captured": true, "paid": true, "status": "succeeded",
            "currency": "usd", "customer": customer, "payment_intent": pi, "metadata": metadata.clone(),
            "receipt_url": format!("{}/receipts/payment/{ch}", self.base), "disputed": false,
            "refunds": {"object": "list", "data": [], "has_more": false}, "created": now()});
        let intent = json!({"id": pi, "object": "payment_intent", "amount": amount, "amount_received": amount,
            "currency": "usd", "customer": customer, "status": "succeeded", "latest_charge": ch,
            "metadata": metadata, "created": now()});
        self.charges.insert(ch.clone(), charge);
        self.payment_intents.insert(pi.clone(), intent);
        (pi, ch)
    }

    /// Refunds `amount` (None: what is left) of charge `ch`, as `POST /v1/refunds` does.
    fn refund(&mut self, ch: &str, amount: Option<i64>) -> Result<Value, FakeResponse> {
        let Some(charge) = self.charges.get(ch).cloned() else {
            return Err(error(404, "invalid_request_error", &format!("No such charge: '{ch}'")));
        };
        let left = charge["amount"].as_i64().unwrap_or(0) - charge["amount_refunded"].as_i64().unwrap_or(0);
        let amount = amount.unwrap_or(left);
        if amount <= 0 || amount > left {
            return Err(error(400, "invalid_request_error", "Refund amount is greater than the unrefunded amount"));
        }
        let id = self.id("re");
        let refund = json!({"id": id, "object": "refund", "amount": amount, "charge": ch, "currency": "usd",
            "payment_intent": charge["payment_intent"], "status": "succeeded", "reason": null, "created": now()});
        let stored = self.charges.get_mut(ch).expect("checked above");
        let refunded = stored["amount_refunded"].as_i64().unwrap_or(0) + amount;
        stored["amount_refunded"] = json!(refunded);
        stored["refunded"] = json!(refunded == stored["amount"].as_i64().unwrap_or(0));
        if let Some(list) = stored.pointer_mut("/refunds/data").and_then(Value::as_array_mut) {
            list.push(refund.clone());
        }
        self.refunds.insert(id, refund.clone());
        Ok(refund)
    }
}

fn now() -> i64 {
    crate::now_seconds()
}

/// What the fake charges for a price, in cents (the catalog's defaults).
fn price_amount(price: &str) -> i64 {
    match price {
        "price_fhiriq_course_smart_on_fhir" => 9900,
        p if p.contains("enterprise") => 9900,
        p if p.contains("student") => 900,
        p if p.contains("annual") => 49000,
        _ => 4900,
    }
}

pub struct FakeStripe {
    pub service: FakeService,
    state: Arc<Mutex<State>>,
}

fn form(body: &str) -> HashMap<String, String> {
    form_urlencoded::parse(body.as_bytes()).into_owned().collect()
}

fn error(status: u16, kind: &str, message: &str) -> FakeResponse {
    FakeResponse::json(status, &json!({"error": {"type": kind, "message": message}}))
}

fn html(body: String) -> FakeResponse {
    FakeResponse { status: 200, body, headers: vec![("content-type".into(), "text/html; charset=utf-8".into())] }
}

/// A subscription as the 2025-03-31.basil API answers it.
pub fn subscription_object(
    id: &str,
    customer: &str,
    user_id: &str,
    price: &str,
    status: &str,
    period_end: i64,
) -> Value {
    let interval = if price.contains("annual") { "year" } else { "month" };
    json!({
        "id": id, "object": "subscription", "customer": customer, "status": status,
        "cancel_at_period_end": false, "metadata": {"user_id": user_id},
        "items": {"object": "list", "data": [{
            "id": format!("si_{id}"), "object": "subscription_item", "quantity": 1,
            "current_period_start": period_end - 30 * 86_400, "current_period_end": period_end,
            "price": {"id": price, "object": "price", "lookup_key": null, "recurring": {"interval": interval}}
        }]}
    })
}

impl FakeStripe {
    pub fn start() -> Self {
        let (service, state) = FakeService::start_stateful(|base| State { base, ..State::default() }, answer);
        Self { service, state }
    }

    /// The API base URL (`STRIPE_API_BASE`).
    pub fn url(&self) -> String {
        self.service.url("")
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("fake Stripe state"))
    }

    /// Puts a subscription into Stripe (or changes it), as the dashboard or a billing event would.
    pub fn set_subscription(&self, id: &str, customer: &str, user_id: &str, price: &str, status: &str) {
        let period_end = 1_900_000_000;
        self.with(|s| {
            s.subscriptions.insert(id.into(), subscription_object(id, customer, user_id, price, status, period_end))
        });
    }

    pub fn subscription(&self, id: &str) -> Option<Value> {
        self.with(|s| s.subscriptions.get(id).cloned())
    }

    /// The next `n` API calls answer 500 (Stripe having a bad minute).
    pub fn fail_next(&self, n: u32) {
        self.with(|s| s.failures = n);
    }

    pub fn received(&self, path: &str) -> Vec<Recorded> {
        self.service.received(path)
    }

    /// Every API request (under /v1/), oldest first.
    pub fn api_requests(&self) -> Vec<Recorded> {
        let mut all = Vec::new();
        for path in self.with(|s| {
            let mut paths: Vec<String> =
                vec!["/v1/customers".into(), "/v1/checkout/sessions".into(), "/v1/billing_portal/sessions".into()];
            paths.extend(s.sessions.keys().map(|id| format!("/v1/checkout/sessions/{id}")));
            paths.extend(s.subscriptions.keys().map(|id| format!("/v1/subscriptions/{id}")));
            paths
        }) {
            all.extend(self.service.received(&path));
        }
        all
    }

    /// Pays Checkout Session `id` as the hosted page would, answering the subscription's id (or
    /// None for a one-time payment).
    pub fn pay(&self, id: &str) -> Option<String> {
        self.with(|s| complete(s, id))
    }

    /// Checkout Session `id` as the API (and its events) show it.
    pub fn session(&self, id: &str) -> Option<Value> {
        let mut session = self.with(|s| s.sessions.get(id).cloned())?;
        session.as_object_mut()?.remove("payment_intent_metadata");
        Some(session)
    }

    /// A refund made in the dashboard: `amount` cents of charge `charge` (None: all that is left).
    pub fn refund(&self, charge: &str, amount: Option<i64>) -> Value {
        self.with(|s| s.refund(charge, amount)).unwrap_or_else(|e| panic!("the fake refused the refund: {}", e.body))
    }

    /// The buyer's bank disputes charge `charge`: answers the dispute (du_...).
    pub fn dispute(&self, charge: &str, reason: &str) -> Value {
        self.with(|s| {
            let stored = s.charges.get(charge).cloned().expect("a charge to dispute");
            let id = s.id("du");
            let dispute = json!({"id": id, "object": "dispute", "amount": stored["amount"], "currency": "usd",
                "charge": charge, "payment_intent": stored["payment_intent"], "reason": reason,
                "status": "needs_response", "is_charge_refundable": false, "created": now(),
                "evidence_details": {"due_by": now() + 7 * 86_400, "has_evidence": false, "past_due": false,
                    "submission_count": 0}});
            s.charges.get_mut(charge).expect("checked")["disputed"] = json!(true);
            s.disputes.insert(id, dispute.clone());
            dispute
        })
    }

    /// Subscription `id` renews: a paid `subscription_cycle` invoice (2025-03-31.basil shape) with
    /// its PaymentIntent and Charge. Answers the invoice.
    pub fn renew(&self, subscription: &str) -> Value {
        self.with(|s| {
            let sub = s.subscriptions.get(subscription).cloned().expect("a subscription to renew");
            let price = sub.pointer("/items/data/0/price/id").and_then(Value::as_str).unwrap_or_default().to_owned();
            let customer = sub["customer"].as_str().unwrap_or_default().to_owned();
            let amount = price_amount(&price);
            let start = sub.pointer("/items/data/0/current_period_end").and_then(Value::as_i64).unwrap_or(now());
            let end = start + if price.contains("annual") { 365 } else { 30 } * 86_400;
            let (pi, _) = s.charge(amount, &customer, json!({}));
            let id = s.id("in");
            let invoice = json!({"id": id, "object": "invoice", "customer": customer, "status": "paid",
                "billing_reason": "subscription_cycle", "collection_method": "charge_automatically",
                "amount_due": amount, "amount_paid": amount, "amount_remaining": 0, "total": amount,
                "currency": "usd", "number": format!("FHIRIQ-{:04}", s.next), "created": now(),
                "period_start": start, "period_end": end,
                "hosted_invoice_url": format!("{}/invoices/{id}", s.base),
                "invoice_pdf": format!("{}/invoices/{id}/pdf", s.base),
                "status_transitions": {"finalized_at": now(), "paid_at": now()},
                "parent": {"type": "subscription_details", "quote_details": null,
                    "subscription_details": {"subscription": subscription, "metadata": sub["metadata"]}},
                "lines": {"object": "list", "has_more": false, "data": [{"id": format!("il_{id}"),
                    "object": "line_item", "amount": amount, "currency": "usd", "period": {"start": start, "end": end},
                    "pricing": {"type": "price_details", "price_details": {"price": price}}}]},
                "payments_data": [{"id": format!("inpay_{id}"), "object": "invoice_payment", "invoice": id,
                    "is_default": true, "status": "paid", "amount_paid": amount,
                    "payment": {"type": "payment_intent", "payment_intent": pi}}]});
            // The subscription moves on to its next period.
            if let Some(item) = s.subscriptions.get_mut(subscription).and_then(|v| v.pointer_mut("/items/data/0")) {
                item["current_period_start"] = json!(start);
                item["current_period_end"] = json!(end);
            }
            s.invoices.insert(id, invoice.clone());
            public_invoice(&invoice, false)
        })
    }

    /// The Charge of a one-time Checkout Session once paid.
    pub fn charge_of_session(&self, session: &str) -> Option<String> {
        self.with(|s| {
            let pi = s.sessions.get(session)?["payment_intent"].as_str()?.to_owned();
            s.payment_intents.get(&pi)?["latest_charge"].as_str().map(str::to_owned)
        })
    }

    /// The Charge that paid invoice `id`.
    pub fn charge_of_invoice(&self, invoice: &str) -> Option<String> {
        self.with(|s| {
            let pi = s.invoices.get(invoice)?.pointer("/payments_data/0/payment/payment_intent")?.as_str()?.to_owned();
            s.payment_intents.get(&pi)?["latest_charge"].as_str().map(str::to_owned)
        })
    }
}

/// An invoice as the API answers it: `payments` only when expanded (an includable field in basil).
fn public_invoice(stored: &Value, with_payments: bool) -> Value {
    let mut invoice = stored.clone();
    let payments = invoice.as_object_mut().and_then(|o| o.remove("payments_data")).unwrap_or(json!([]));
    if with_payments {
        invoice["payments"] = json!({"object": "list", "data": payments, "has_more": false});
    }
    invoice
}

/// Marks a session paid; a subscription-mode session gets an active subscription.
fn complete(s: &mut State, id: &str) -> Option<String> {
    let session = s.sessions.get(id)?.clone();
    let mut subscription = None;
    if session["mode"] == "subscription" {
        let sub_id = s.id("sub");
        let user = session.pointer("/subscription_data/metadata/user_id").and_then(Value::as_str).unwrap_or_default();
        let price = session["line_item_price"].as_str().unwrap_or_default();
        let customer = session["customer"].as_str().unwrap_or_default();
        let object = subscription_object(&sub_id, customer, user, price, "active", 1_900_000_000);
        s.subscriptions.insert(sub_id.clone(), object);
        subscription = Some(sub_id);
    }
    let mut payment = None;
    if session["mode"] == "payment" && session["payment_intent"].is_null() {
        let price = session["line_item_price"].as_str().unwrap_or_default();
        let customer = session["customer"].as_str().unwrap_or_default();
        let amount = price_amount(price);
        payment = Some((s.charge(amount, customer, session["payment_intent_metadata"].clone()).0, amount));
    }
    let stored = s.sessions.get_mut(id)?;
    stored["status"] = json!("complete");
    stored["payment_status"] = json!("paid");
    stored["subscription"] = json!(subscription);
    if let Some((pi, amount)) = payment {
        stored["payment_intent"] = json!(pi);
        stored["amount_total"] = json!(amount);
        stored["amount_subtotal"] = json!(amount);
        stored["currency"] = json!("usd");
    }
    subscription
}

fn answer(state: &Mutex<State>, request: &Recorded) -> FakeResponse {
    let mut s = state.lock().expect("fake Stripe state");
    let path = request.path.split('?').next().unwrap_or_default().to_owned();
    if path == "/favicon.ico" {
        return FakeResponse { status: 404, body: String::new(), headers: Vec::new() };
    }
    // The hosted pages a browser visits.
    if let Some(id) = path.strip_prefix("/pay/") {
        let Some(session) = s.sessions.get(id).cloned() else {
            return error(404, "invalid_request_error", "no session");
        };
        if request.method == "POST" {
            complete(&mut s, id);
            let success = session["success_url"].as_str().unwrap_or_default().replace("{CHECKOUT_SESSION_ID}", id);
            return FakeResponse { status: 303, body: String::new(), headers: vec![("location".into(), success)] };
        }
        return html(format!(
            "<!doctype html><link rel=icon href=\"data:,\"><title>Fake Stripe Checkout</title><h1>Pay {}</h1>\
             <form method=post action=\"/pay/{id}\"><button type=submit>Pay</button></form>\
             <a href=\"{}\">Cancel</a>",
            session["line_item_price"].as_str().unwrap_or_default(),
            session["cancel_url"].as_str().unwrap_or_default()
        ));
    }
    if path.starts_with("/portal/") {
        return html(
            "<!doctype html><link rel=icon href=\"data:,\"><title>Fake billing portal</title><h1>Billing portal</h1>"
                .into(),
        );
    }
    // The API.
    if request.header("authorization") != Some(&format!("Bearer {SECRET_KEY}")) {
        return error(401, "invalid_request_error", "Invalid API Key provided");
    }
    if request.header("stripe-version").is_none() {
        return error(400, "invalid_request_error", "Pin a Stripe-Version (the fake insists)");
    }
    if s.failures > 0 {
        s.failures -= 1;
        return error(500, "api_error", "An unknown error occurred");
    }
    if request.method == "POST" {
        let Some(key) = request.header("idempotency-key").map(str::to_owned) else {
            return error(400, "invalid_request_error", "The fake requires an Idempotency-Key on every POST");
        };
        if let Some(first) = s.idempotent.get(&key) {
            return FakeResponse::json(200, first);
        }
        let fields = form(&request.body);
        let created = match path.as_str() {
            "/v1/customers" => {
                let id = s.id("cus");
                let customer = json!({"id": id, "object": "customer", "email": fields.get("email"),
                    "metadata": {"user_id": fields.get("metadata[user_id]")}});
                s.customers.insert(id, customer.clone());
                customer
            }
            "/v1/checkout/sessions" => {
                let customer = fields.get("customer").cloned().unwrap_or_default();
                if !s.customers.contains_key(&customer) {
                    return error(400, "invalid_request_error", &format!("No such customer: '{customer}'"));
                }
                let Some(price) = fields.get("line_items[0][price]").cloned() else {
                    return error(400, "invalid_request_error", "line_items is required");
                };
                if !fields.get("success_url").is_some_and(|u| u.contains("{CHECKOUT_SESSION_ID}")) {
                    return error(400, "invalid_request_error", "success_url should carry {CHECKOUT_SESSION_ID}");
                }
                let id = s.id("cs");
                let metadata: serde_json::Map<String, Value> = fields
                    .iter()
                    .filter_map(|(k, v)| Some((k.strip_prefix("metadata[")?.strip_suffix(']')?.to_owned(), json!(v))))
                    .collect();
                let intent_metadata: serde_json::Map<String, Value> = fields
                    .iter()
                    .filter_map(|(k, v)| {
                        Some((
                            k.strip_prefix("payment_intent_data[metadata][")?.strip_suffix(']')?.to_owned(),
                            json!(v),
                        ))
                    })
                    .collect();
                let session = json!({"id": id, "object": "checkout.session", "mode": fields.get("mode"),
                    "payment_intent": null, "payment_intent_metadata": intent_metadata,
                    "customer": customer, "client_reference_id": fields.get("client_reference_id"),
                    "metadata": metadata, "status": "open", "payment_status": "unpaid", "subscription": null,
                    "subscription_data": {"metadata": {"user_id": fields.get("subscription_data[metadata][user_id]")}},
                    "line_item_price": price, "success_url": fields.get("success_url"),
                    "cancel_url": fields.get("cancel_url"), "url": format!("{}/pay/{id}", s.base)});
                s.sessions.insert(id, session.clone());
                session
            }
            "/v1/refunds" => {
                let charge = match (fields.get("charge"), fields.get("payment_intent")) {
                    (Some(charge), _) => charge.clone(),
                    (None, Some(pi)) => match s.payment_intents.get(pi) {
                        Some(intent) => intent["latest_charge"].as_str().unwrap_or_default().to_owned(),
                        None => return error(404, "invalid_request_error", &format!("No such payment_intent: '{pi}'")),
                    },
                    (None, None) => return error(400, "invalid_request_error", "charge or payment_intent is required"),
                };
                let amount = match fields.get("amount").map(|a| a.parse::<i64>()) {
                    Some(Ok(amount)) => Some(amount),
                    Some(Err(_)) => return error(400, "invalid_request_error", "Invalid integer: amount"),
                    None => None,
                };
                match s.refund(&charge, amount) {
                    Ok(refund) => refund,
                    Err(refused) => return refused,
                }
            }
            "/v1/billing_portal/sessions" => {
                let id = s.id("bps");
                json!({"id": id, "object": "billing_portal.session", "customer": fields.get("customer"),
                       "return_url": fields.get("return_url"), "url": format!("{}/portal/{id}", s.base)})
            }
            _ => return error(404, "invalid_request_error", &format!("Unrecognized request URL (POST: {path})")),
        };
        s.idempotent.insert(key, created.clone());
        return FakeResponse::json(200, &created);
    }
    let expand: Vec<String> = form(request.path.split_once('?').map_or("", |(_, q)| q))
        .into_iter()
        .filter(|(k, _)| k == "expand[]")
        .map(|(_, v)| v)
        .collect();
    let expanded = |name: &str| expand.iter().any(|e| e == name);
    let found = if let Some(id) = path.strip_prefix("/v1/checkout/sessions/") {
        s.sessions
            .get(id)
            .cloned()
            .map(|mut session| {
                if let Some(o) = session.as_object_mut() {
                    o.remove("payment_intent_metadata");
                }
                session
            })
            .ok_or(("checkout.session", id))
    } else if let Some(id) = path.strip_prefix("/v1/subscriptions/") {
        s.subscriptions.get(id).cloned().ok_or(("subscription", id))
    } else if let Some(id) = path.strip_prefix("/v1/payment_intents/") {
        s.payment_intents
            .get(id)
            .cloned()
            .map(|mut intent| {
                if expanded("latest_charge") {
                    let charge = intent["latest_charge"].as_str().and_then(|c| s.charges.get(c)).cloned();
                    intent["latest_charge"] = charge.unwrap_or(Value::Null);
                }
                intent
            })
            .ok_or(("payment_intent", id))
    } else if let Some(id) = path.strip_prefix("/v1/charges/") {
        s.charges.get(id).cloned().ok_or(("charge", id))
    } else if let Some(id) = path.strip_prefix("/v1/disputes/") {
        s.disputes.get(id).cloned().ok_or(("dispute", id))
    } else if let Some(id) = path.strip_prefix("/v1/invoices/") {
        s.invoices.get(id).map(|i| public_invoice(i, expanded("payments"))).ok_or(("invoice", id))
    } else {
        return error(404, "invalid_request_error", &format!("Unrecognized request URL (GET: {path})"));
    };
    match found {
        Ok(object) => FakeResponse::json(200, &object),
        Err((kind, id)) => error(404, "invalid_request_error", &format!("No such {kind}: '{id}'")),
    }
}

/// A `Stripe-Signature` header from Stripe's own library (stripe-node's
/// `webhooks.generateTestHeaderString`), for `payload` signed with `secret` at `timestamp`.
pub fn sign(payload: &str, secret: &str, timestamp: i64) -> String {
    let script = "const Stripe = require('stripe'); \
        const stripe = new Stripe('sk_test_unused'); \
        process.stdout.write(stripe.webhooks.generateTestHeaderString({ \
          payload: process.env.PAYLOAD, secret: process.env.SECRET, timestamp: Number(process.env.TIMESTAMP) }));";
    let output = std::process::Command::new("node")
        .current_dir(crate::root())
        .args(["-e", script])
        .env("PAYLOAD", payload)
        .env("SECRET", secret)
        .env("TIMESTAMP", timestamp.to_string())
        .output()
        .expect("node runs");
    assert!(output.status.success(), "stripe-node signing failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("an ASCII header")
}
