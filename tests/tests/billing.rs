//! Plans and payments through the platform, against a fake of the Stripe API, with webhook
//! signatures made by Stripe's own npm library: checkout (customer first, idempotency keys, the
//! success page granting the plan at once), the portal, a webhook that converges under duplicates,
//! disorder and Stripe outages, and the money trail: amounts and receipts, refunds, subscription
//! payments, disputes that alert staff, and each user's payment history.

use fhir_iq_tests::stripe::{self, FakeStripe};
use fhir_iq_tests::{Options, Platform, Reply, now_seconds};
use serde_json::{Value, json};

const WHSEC: &str = "whsec_fhiriq_integration_test_secret";
const PRO_MONTHLY: &str = "price_fhiriq_pro_monthly";

struct Setup {
    stripe: FakeStripe,
    platform: Platform,
}

fn setup() -> Setup {
    setup_with(&[])
}

fn setup_with(vars: &[(&str, &str)]) -> Setup {
    setup_options(Options::default(), vars)
}

fn setup_options(options: Options, vars: &[(&str, &str)]) -> Setup {
    let stripe = FakeStripe::start();
    let mut options = options.stripe(&stripe, WHSEC);
    for (name, value) in vars {
        options = options.var(name, value);
    }
    Setup { stripe, platform: Platform::start_with(options) }
}

fn payments(platform: &Platform, cookie: &str) -> Vec<Value> {
    let reply = platform.send_as(cookie, "GET", "/api/billing/payments", None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["payments"].as_array().cloned().expect("a list")
}

fn role(platform: &Platform, cookie: &str) -> String {
    platform.send_as(cookie, "GET", "/api/auth/me", None).json()["role"].as_str().unwrap_or_default().to_owned()
}

fn event(id: &str, kind: &str, object: Value) -> Value {
    json!({"id": id, "object": "event", "api_version": "2025-03-31.basil", "created": now_seconds(), "livemode": false,
           "type": kind, "data": {"object": object}, "pending_webhooks": 1,
           "request": {"id": null, "idempotency_key": null}})
}

/// Delivers `event` with `header` (as Stripe would: the exact bytes that were signed).
fn deliver_with(platform: &Platform, event: &Value, header: &str) -> Reply {
    platform.send("POST", "/_functions/stripeWebhook", &[("stripe-signature", header)], Some(event))
}

fn deliver(platform: &Platform, event: &Value) -> Reply {
    deliver_with(platform, event, &stripe::sign(&event.to_string(), WHSEC, now_seconds()))
}

#[test]
fn checkout_creates_the_customer_first_and_the_success_page_grants_the_plan_at_once() {
    let Setup { stripe, platform } = setup();
    let (cookie, user_id) = platform.member("ada@billing.test");

    // Pricing shows the configured prices and offers checkout to a member.
    let pricing = platform.send_as(&cookie, "GET", "/pricing", None);
    assert_eq!(pricing.status, 200);
    assert!(pricing.body.contains(r#"data-checkout="pro""#) && pricing.body.contains("$490<small>/year"));

    let checkout = |body: Value| platform.send_as(&cookie, "POST", "/api/billing/checkout", Some(&body));
    assert_eq!(checkout(json!({"plan": "platinum"})).status, 422);
    assert_eq!(checkout(json!({"plan": "pro", "interval": "weekly"})).status, 422);
    assert_eq!(checkout(json!({})).status, 400);
    let started = checkout(json!({"plan": "pro", "interval": "annual"}));
    assert_eq!(started.status, 200, "{}", started.body);
    let session_id = started.json()["sessionId"].as_str().expect("a session").to_owned();
    assert_eq!(started.json()["kind"], "checkout");
    assert!(started.json()["url"].as_str().is_some_and(|u| u.starts_with(&stripe.url())));

    // The customer came first, tagged with the user; the session names it and the annual price.
    let customers = stripe.received("/v1/customers");
    assert_eq!(customers.len(), 1);
    assert!(customers[0].body.contains(&format!("metadata%5Buser_id%5D={user_id}")), "{}", customers[0].body);
    let sessions = stripe.received("/v1/checkout/sessions");
    let form = &sessions[0].body;
    for expected in
        ["mode=subscription", "price_fhiriq_pro_annual", "customer=cus_", &format!("client_reference_id={user_id}")]
    {
        assert!(form.contains(expected), "{expected} in {form}");
    }
    for request in customers.iter().chain(&sessions) {
        assert!(request.header("idempotency-key").is_some_and(|k| !k.is_empty()));
        assert_eq!(request.header("stripe-version"), Some("2025-03-31.basil"));
    }
    // A double click reuses the customer and, within the minute, the same session.
    let again = checkout(json!({"plan": "pro", "interval": "annual"}));
    assert_eq!(again.json()["sessionId"].as_str(), Some(session_id.as_str()));
    assert_eq!(stripe.received("/v1/customers").len(), 1, "no second customer");

    // Paid; back before any webhook: the success page applies the subscription at once.
    stripe.pay(&session_id).expect("a subscription");
    let success = platform.send_as(&cookie, "GET", &format!("/billing/success?session_id={session_id}"), None);
    assert_eq!(success.status, 200, "{}", success.body);
    assert!(success.body.contains("Welcome to Pro"), "{}", success.body);
    assert_eq!(role(&platform, &cookie), "pro");
    let billing = platform.send_as(&cookie, "GET", "/api/billing", None).json();
    assert_eq!(billing["subscription"]["status"], "active");
    assert_eq!(billing["subscription"]["interval"], "year");
    assert_eq!(billing["subscription"]["renewsAt"], 1_900_000_000_000i64, "from the subscription item");
    assert_eq!(platform.count(&format!("SELECT COUNT(*) AS n FROM role_changes WHERE user_id = '{user_id}'")), 1);

    // Another account cannot claim this checkout.
    let (other, _) = platform.member("mallory@billing.test");
    let stolen = platform.send_as(&other, "GET", &format!("/billing/success?session_id={session_id}"), None);
    assert_eq!(stolen.status, 403);

    // With a subscription, "checkout" sends to the portal instead; the portal returns to the account.
    let second = checkout(json!({"plan": "enterprise", "interval": "monthly"}));
    assert_eq!(second.json()["kind"], "portal", "{}", second.body);
    let portal = platform.send_as(&cookie, "POST", "/api/billing/portal", None);
    assert_eq!(portal.status, 200);
    let portal_form = &stripe.received("/v1/billing_portal/sessions")[0].body;
    assert!(portal_form.contains("return_url=http%3A%2F%2F127.0.0.1"), "{portal_form}");
    assert_eq!(platform.send_as(&other, "POST", "/api/billing/portal", None).status, 404, "no billing account yet");
    assert_eq!(platform.post_json("/api/billing/checkout", &json!({"plan": "pro"})).status, 401);

    // The pricing page now marks Pro as the member's plan; the cancel page says nothing was charged.
    let pricing = platform.send_as(&cookie, "GET", "/pricing", None);
    assert!(pricing.body.contains("Your plan") && !pricing.body.contains(r#"data-checkout="pro""#));
    assert!(platform.get("/billing/cancel").body.contains("Nothing was charged"));
}

#[test]
fn webhook_signatures_are_checked_as_stripes_library_makes_them() {
    let Setup { stripe, platform } = setup();
    let (cookie, user_id) = platform.member("grace@billing.test");
    stripe.set_subscription("sub_sig", "cus_sig", &user_id, PRO_MONTHLY, "active");
    let created =
        event("evt_sig_1", "customer.subscription.created", json!({"id": "sub_sig", "object": "subscription"}));
    let body = created.to_string();

    let tampered = json!({"id": "evt_sig_1", "type": "customer.subscription.created", "data": {"object": {"id": "sub_sig"}}, "extra": 1});
    assert_eq!(
        deliver_with(&platform, &tampered, &stripe::sign(&body, WHSEC, now_seconds())).status,
        400,
        "tampered body"
    );
    assert_eq!(
        deliver_with(&platform, &created, &stripe::sign(&body, "whsec_wrong", now_seconds())).status,
        400,
        "wrong secret"
    );
    assert_eq!(
        deliver_with(&platform, &created, &stripe::sign(&body, WHSEC, now_seconds() - 301)).status,
        400,
        "stale"
    );
    assert_eq!(deliver_with(&platform, &created, "").status, 400, "no signature");
    assert_eq!(role(&platform, &cookie), "free", "refused deliveries change nothing");
    assert_eq!(platform.count("SELECT COUNT(*) AS n FROM stripe_events"), 0);
    assert!(stripe.received("/v1/subscriptions/sub_sig").is_empty(), "nor reach Stripe");

    // Several v1 values (a secret being rolled): one valid is enough.
    let valid = stripe::sign(&body, WHSEC, now_seconds());
    let (t, v1) = valid.split_once(',').expect("t=...,v1=...");
    let rolled = format!("{t},v1={},{v1},v0=deadbeef", "ab".repeat(32));
    let reply = deliver_with(&platform, &created, &rolled);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["action"], "applied");
    assert_eq!(role(&platform, &cookie), "pro");
    // Unknown event types are acknowledged and ignored.
    let other = deliver(&platform, &event("evt_sig_2", "customer.created", json!({"id": "cus_sig"})));
    assert_eq!((other.status, other.json()["action"].clone()), (200, json!("ignored")));
}

#[test]
fn events_converge_under_duplicates_and_any_delivery_order() {
    let Setup { stripe, platform } = setup();
    let (cookie, user_id) = platform.member("barbara@billing.test");
    let sub = json!({"id": "sub_order", "object": "subscription"});

    // `updated` arrives before `created`: each re-fetches, so the state is Stripe's either way.
    stripe.set_subscription("sub_order", "cus_order", &user_id, PRO_MONTHLY, "active");
    assert_eq!(deliver(&platform, &event("evt_o_2", "customer.subscription.updated", sub.clone())).status, 200);
    assert_eq!(deliver(&platform, &event("evt_o_1", "customer.subscription.created", sub.clone())).status, 200);
    assert_eq!(role(&platform, &cookie), "pro");
    let duplicate = deliver(&platform, &event("evt_o_1", "customer.subscription.created", sub.clone()));
    assert_eq!(duplicate.json()["action"], "duplicate");

    // past_due, then paid: the record stays without paid access, one email, a banner; paid restores.
    stripe.set_subscription("sub_order", "cus_order", &user_id, PRO_MONTHLY, "past_due");
    let failed = json!({"id": "in_1", "object": "invoice",
        "parent": {"type": "subscription_details", "subscription_details": {"subscription": "sub_order"}}});
    for _ in 0..2 {
        assert_eq!(deliver(&platform, &event("evt_o_3", "invoice.payment_failed", failed.clone())).status, 200);
    }
    assert_eq!(role(&platform, &cookie), "free");
    assert_eq!(platform.send_as(&cookie, "GET", "/api/auth/state", None).json()["paymentNeeded"], true);
    assert!(platform.send_as(&cookie, "GET", "/pricing", None).body.contains("did not go through"));
    let emails = "SELECT COUNT(*) AS n FROM email_outbox WHERE to_email = 'barbara@billing.test' AND subject LIKE '%payment failed%'";
    assert_eq!(platform.count(emails), 1, "a redelivered failure sends no second email");
    stripe.set_subscription("sub_order", "cus_order", &user_id, PRO_MONTHLY, "active");
    // An older API version's invoice: the subscription at the top level.
    let renewed = stripe.renew("sub_order");
    let paid = json!({"id": renewed["id"], "object": "invoice", "subscription": "sub_order"});
    assert_eq!(deliver(&platform, &event("evt_o_4", "invoice.paid", paid)).status, 200);
    assert_eq!(role(&platform, &cookie), "pro");
    assert_eq!(platform.send_as(&cookie, "GET", "/api/auth/state", None).json()["paymentNeeded"], false);

    // `deleted` delivered before a late `updated`: Stripe says canceled, so both leave the user free.
    stripe.set_subscription("sub_order", "cus_order", &user_id, PRO_MONTHLY, "canceled");
    deliver(&platform, &event("evt_o_6", "customer.subscription.deleted", sub.clone()));
    deliver(&platform, &event("evt_o_5", "customer.subscription.updated", sub.clone()));
    assert_eq!(role(&platform, &cookie), "free");
    let changes =
        platform.query(&format!("SELECT from_role, to_role FROM role_changes WHERE user_id = '{user_id}' ORDER BY id"));
    let changes: Vec<(String, String)> = changes
        .iter()
        .map(|c| (c["from_role"].as_str().unwrap_or_default().into(), c["to_role"].as_str().unwrap_or_default().into()))
        .collect();
    let expected = [("free", "pro"), ("pro", "free"), ("free", "pro"), ("pro", "free")];
    assert_eq!(changes, expected.map(|(a, b)| (a.to_owned(), b.to_owned())), "every change logged once");
}

#[test]
fn a_stripe_outage_answers_5xx_and_the_retry_applies_whole() {
    let Setup { stripe, platform } = setup();
    let (cookie, user_id) = platform.member("katherine@billing.test");
    stripe.set_subscription("sub_retry", "cus_retry", &user_id, PRO_MONTHLY, "active");
    let created = event("evt_r_1", "customer.subscription.created", json!({"id": "sub_retry"}));
    stripe.fail_next(1);
    let first = deliver(&platform, &created);
    assert!(first.status >= 500, "{} {}", first.status, first.body);
    assert_eq!(platform.count("SELECT COUNT(*) AS n FROM stripe_events"), 0, "nothing half-applied");
    assert_eq!(role(&platform, &cookie), "free");
    let retry = deliver(&platform, &created);
    assert_eq!((retry.status, retry.json()["action"].clone()), (200, json!("applied")));
    assert_eq!(role(&platform, &cookie), "pro");
}

#[test]
fn a_one_time_purchase_completes_once_however_often_it_is_announced() {
    let Setup { stripe, platform } = setup();
    let (cookie, user_id) = platform.member("hedy@billing.test");
    let started =
        platform.send_as(&cookie, "POST", "/api/billing/checkout", Some(&json!({"product": "course-smart-on-fhir"})));
    assert_eq!(started.status, 200, "{}", started.body);
    let session_id = started.json()["sessionId"].as_str().expect("a session").to_owned();
    assert!(stripe.received("/v1/checkout/sessions")[0].body.contains("mode=payment"));
    let orders = |status: &str| {
        let condition = if status.is_empty() { String::new() } else { format!(" AND status = '{status}'") };
        platform.count(&format!("SELECT COUNT(*) AS n FROM orders WHERE user_id = '{user_id}'{condition}"))
    };
    assert_eq!(orders("pending"), 1);
    assert_eq!(
        platform.send_as(&cookie, "POST", "/api/billing/checkout", Some(&json!({"product": "nope"}))).status,
        404
    );
    stripe.pay(&session_id);
    let order_id = platform.query(&format!("SELECT id FROM orders WHERE user_id = '{user_id}'"))[0]["id"]
        .as_str()
        .expect("order")
        .to_owned();
    let completed = json!({"id": session_id, "object": "checkout.session", "mode": "payment", "payment_status": "paid",
                           "metadata": {"order_id": order_id, "user_id": user_id}});
    let intent = json!({"id": "pi_1", "object": "payment_intent", "metadata": {"order_id": order_id}});
    for (id, kind, object) in [
        ("evt_p_1", "checkout.session.completed", &completed),
        ("evt_p_1", "checkout.session.completed", &completed),
        ("evt_p_2", "payment_intent.succeeded", &intent),
    ] {
        assert_eq!(deliver(&platform, &event(id, kind, object.clone())).status, 200);
    }
    // The success page after the webhook: still one order, one email.
    let success = platform.send_as(&cookie, "GET", &format!("/billing/success?session_id={session_id}"), None);
    assert!(success.body.contains("SMART on FHIR course"), "{}", success.body);
    assert_eq!(orders("completed"), 1);
    assert_eq!(orders(""), 1, "no second order");
    assert_eq!(platform.count("SELECT COUNT(*) AS n FROM email_outbox WHERE subject LIKE '%purchase%'"), 1);
    assert_eq!(role(&platform, &cookie), "student", "a completed purchase makes a student");
}

#[test]
fn enterprise_contact_sales_is_stored_then_sent_to_slack_escaped() {
    let slack = fhir_iq_tests::FakeService::start();
    let hook = slack.url("/services/T0/B0/sales");
    let Setup { stripe: _stripe, platform } = setup_with(&[("SALES_SLACK_WEBHOOK_URL", &hook)]);
    let inquiry = json!({"name": "Ada <!channel>", "email": "ada@hospital.test", "company": "St. Elsewhere", "seats": 40,
                         "message": "SMART backend services for 40 developers"});
    let reply = platform.post_json("/api/billing/contact-sales", &inquiry);
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(platform.count("SELECT COUNT(*) AS n FROM sales_inquiries WHERE seats = 40"), 1);
    let posted = slack.wait_for("/services/T0/B0/sales", 1, std::time::Duration::from_secs(10));
    assert_eq!(posted.len(), 1, "the team is told");
    let text = posted[0].json()["text"].as_str().unwrap_or_default().to_owned();
    assert!(
        text.contains("St. Elsewhere") && text.contains("&lt;!channel&gt;") && !text.contains("<!channel>"),
        "{text}"
    );
    let mut blank = inquiry.clone();
    blank["company"] = json!("");
    assert_eq!(platform.post_json("/api/billing/contact-sales", &blank).status, 422);
    assert_eq!(platform.post_json("/api/billing/contact-sales", &json!({"name": 1})).status, 400);
    // Staff read it at /admin/inquiries, escaped, with its Slack status.
    let admin = platform.sign_in(fhir_iq_tests::DEMO[4].1, fhir_iq_tests::DEMO[4].2);
    platform.wait_for_count("SELECT COUNT(*) AS n FROM sales_inquiries WHERE notified_at IS NOT NULL", 1);
    let page = platform.send_as(&admin, "GET", "/admin/inquiries", None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("St. Elsewhere") && page.body.contains("Ada &#60;!channel&#62;"), "{}", page.body);
    assert!(page.body.contains("posted to Slack"));
    let plans = platform.get("/api/billing/plans").json();
    assert_eq!(plans["plans"].as_array().map(Vec::len), Some(6));
}

#[test]
fn a_purchase_is_recorded_with_its_receipt_then_refunded_in_part_and_in_full() {
    let Setup { stripe, platform } = setup_options(Options { content: true, ..Options::default() }, &[]);
    let (cookie, user_id) = platform.member("lovelace@billing.test");
    let started =
        platform.send_as(&cookie, "POST", "/api/billing/checkout", Some(&json!({"product": "course-smart-on-fhir"})));
    assert_eq!(started.status, 200, "{}", started.body);
    let session_id = started.json()["sessionId"].as_str().expect("a session").to_owned();
    stripe.pay(&session_id);
    // The event carries the session as Stripe sends it: paid, with its PaymentIntent and amount.
    let session = stripe.session(&session_id).expect("the session");
    assert_eq!(deliver(&platform, &event("evt_buy_1", "checkout.session.completed", session)).status, 200);
    let charge = stripe.charge_of_session(&session_id).expect("paid by a charge");
    let order = |field: &str| {
        platform.query(&format!("SELECT {field} AS v FROM orders WHERE user_id = '{user_id}'"))[0]["v"].clone()
    };
    assert_eq!((order("status"), order("amount"), order("currency")), (json!("completed"), json!(9900), json!("usd")));
    let receipt = format!("{}/receipts/payment/{charge}", stripe.url());
    assert_eq!(order("receipt_url"), json!(receipt), "the charge's receipt, fetched from the PaymentIntent");
    let seat =
        format!("SELECT COUNT(*) AS n FROM enrollments WHERE user_id = '{user_id}' AND course_slug = 'smart-on-fhir'");
    assert_eq!(platform.count(&seat), 1, "the purchase holds a seat");
    assert_eq!(role(&platform, &cookie), "student");

    let listed = payments(&platform, &cookie);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["kind"], "one_time");
    assert_eq!(listed[0]["product"], "course-smart-on-fhir");
    assert_eq!((listed[0]["amount"].clone(), listed[0]["currency"].clone()), (json!(9900), json!("usd")));
    assert_eq!((listed[0]["status"].clone(), listed[0]["receiptUrl"].clone()), (json!("paid"), json!(receipt)));
    // Only the owner sees them.
    let (other, _) = platform.member("babbage@billing.test");
    assert!(payments(&platform, &other).is_empty());
    assert_eq!(platform.send("GET", "/api/billing/payments", &[], None).status, 401);

    // A partial refund from the dashboard: recorded, the purchase kept.
    stripe.refund(&charge, Some(1900));
    let refunded = |id: &str| event(id, "charge.refunded", json!({"id": charge, "object": "charge"}));
    assert_eq!(deliver(&platform, &refunded("evt_buy_2")).status, 200);
    assert_eq!((order("status"), order("refunded_amount")), (json!("completed"), json!(1900)));
    assert_eq!(payments(&platform, &cookie)[0]["status"], "partially_refunded");
    assert_eq!(role(&platform, &cookie), "student");

    // The rest refunded: the order is refunded, the seat released, the role back to free, logged once.
    stripe.refund(&charge, None);
    for id in ["evt_buy_3", "evt_buy_3", "evt_buy_4"] {
        assert_eq!(deliver(&platform, &refunded(id)).status, 200);
    }
    assert_eq!((order("status"), order("refunded_amount")), (json!("refunded"), json!(9900)));
    assert_eq!(platform.count(&seat), 0, "the seat is released");
    assert_eq!(role(&platform, &cookie), "free");
    let logged = format!(
        "SELECT COUNT(*) AS n FROM role_changes WHERE user_id = '{user_id}' AND from_role = 'student' AND to_role = 'free' AND reason LIKE '%refunded'"
    );
    assert_eq!(platform.count(&logged), 1);
    let listed = payments(&platform, &cookie);
    assert_eq!((listed[0]["status"].clone(), listed[0]["refundedAmount"].clone()), (json!("refunded"), json!(9900)));

    // Staff see it at /admin/orders, filtered, linked to Stripe's test dashboard.
    let admin = platform.sign_in(fhir_iq_tests::DEMO[4].1, fhir_iq_tests::DEMO[4].2);
    let page = platform.send_as(&admin, "GET", "/admin/orders?status=refunded&q=LOVELACE", None);
    assert_eq!(page.status, 200);
    let intent = order("stripe_payment_intent");
    let link = format!("https://dashboard.stripe.com/test/payments/{}", intent.as_str().expect("an intent"));
    assert!(page.body.contains(&link) && page.body.contains("99.00 USD"), "{}", page.body);
    let none = platform.send_as(&admin, "GET", "/admin/orders?status=disputed", None);
    assert!(!none.body.contains("lovelace@billing.test") && none.body.contains("Nothing matches."));
    assert_eq!(platform.send_as(&cookie, "GET", "/admin/orders", None).status, 403);
}

#[test]
fn a_renewal_is_recorded_from_invoice_paid_and_a_dispute_is_flagged_and_alerts_staff() {
    let slack = fhir_iq_tests::FakeService::start();
    let hook = slack.url("/services/T0/B0/staff");
    let Setup { stripe, platform } = setup_with(&[("STAFF_SLACK_WEBHOOK_URL", &hook)]);
    let (cookie, user_id) = platform.member("noether@billing.test");
    stripe.set_subscription("sub_renew", "cus_renew", &user_id, PRO_MONTHLY, "active");
    let sub = json!({"id": "sub_renew", "object": "subscription"});
    assert_eq!(deliver(&platform, &event("evt_ren_1", "customer.subscription.created", sub)).status, 200);
    assert!(payments(&platform, &cookie).is_empty(), "no invoice paid yet");

    // The monthly renewal: Stripe's event carries the invoice without its payments; the webhook
    // re-fetches it with them.
    let invoice = stripe.renew("sub_renew");
    let invoice_id = invoice["id"].as_str().expect("an invoice").to_owned();
    let paid = event("evt_ren_2", "invoice.paid", invoice.clone());
    for _ in 0..2 {
        assert_eq!(deliver(&platform, &paid).status, 200);
    }
    let fetched = stripe.received(&format!("/v1/invoices/{invoice_id}"));
    assert!(fetched.iter().any(|r| r.path.contains("expand%5B%5D=payments") || r.path.contains("expand[]=payments")));
    let listed = payments(&platform, &cookie);
    assert_eq!(listed.len(), 1, "recorded once: {listed:?}");
    let payment = &listed[0];
    assert_eq!((payment["kind"].clone(), payment["product"].clone()), (json!("subscription"), json!("pro")));
    assert_eq!((payment["amount"].clone(), payment["status"].clone()), (json!(4900), json!("paid")));
    assert_eq!(payment["receiptUrl"], json!(format!("{}/invoices/{invoice_id}", stripe.url())));
    assert_eq!(payment["periodEnd"], json!(invoice["period_end"].as_i64().expect("a period") * 1000));
    assert_eq!(role(&platform, &cookie), "pro");

    // The bank disputes the renewal's charge: the payment is flagged, staff are told once.
    let charge = stripe.charge_of_invoice(&invoice_id).expect("paid by a charge");
    let dispute = stripe.dispute(&charge, "fraudulent");
    let opened = event("evt_ren_3", "charge.dispute.created", dispute.clone());
    for _ in 0..2 {
        assert_eq!(deliver(&platform, &opened).status, 200);
    }
    assert_eq!(payments(&platform, &cookie)[0]["status"], "disputed");
    let dispute_id = dispute["id"].as_str().expect("an id");
    assert_eq!(
        platform.count(&format!("SELECT COUNT(*) AS n FROM subscription_payments WHERE dispute_id = '{dispute_id}'")),
        1
    );
    let posted = slack.wait_for("/services/T0/B0/staff", 1, std::time::Duration::from_secs(10));
    assert_eq!(posted.len(), 1, "one alert");
    let text = posted[0].json()["text"].as_str().unwrap_or_default().to_owned();
    for expected in [dispute_id, "49.00 USD", "fraudulent", "noether@billing.test", "/admin/orders"] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    platform.wait_for_count("SELECT COUNT(*) AS n FROM staff_alerts WHERE notified_at IS NOT NULL", 1);
    assert_eq!(role(&platform, &cookie), "pro", "access stays while the dispute is open");
}
