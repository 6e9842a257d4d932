//! A fake of the Stripe API, stateful enough for checkout to run end to end: customers, Checkout
//! Sessions (with a hosted page that "pays" and redirects to the success URL), subscriptions in the
//! 2025-03-31.basil shape (`current_period_end` on the items), billing-portal sessions, idempotency
//! keys and Stripe's error format. Requests must carry the secret key and a `Stripe-Version`.
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
    let stored = s.sessions.get_mut(id)?;
    stored["status"] = json!("complete");
    stored["payment_status"] = json!("paid");
    stored["subscription"] = json!(subscription);
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
                let session = json!({"id": id, "object": "checkout.session", "mode": fields.get("mode"),
                    "customer": customer, "client_reference_id": fields.get("client_reference_id"),
                    "metadata": metadata, "status": "open", "payment_status": "unpaid", "subscription": null,
                    "subscription_data": {"metadata": {"user_id": fields.get("subscription_data[metadata][user_id]")}},
                    "line_item_price": price, "success_url": fields.get("success_url"),
                    "cancel_url": fields.get("cancel_url"), "url": format!("{}/pay/{id}", s.base)});
                s.sessions.insert(id, session.clone());
                session
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
    let found = if let Some(id) = path.strip_prefix("/v1/checkout/sessions/") {
        s.sessions.get(id).cloned().ok_or(("checkout.session", id))
    } else if let Some(id) = path.strip_prefix("/v1/subscriptions/") {
        s.subscriptions.get(id).cloned().ok_or(("subscription", id))
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
