//! Accounts end to end through wrangler dev: sign-up, sign-in, sessions and their expiry and
//! revocation, cookie flags, every bad input, cross-site refusal, rate limits, password reset by
//! email (a fake provider speaking Resend's API), staff plan changes and organisations.

use fhir_iq_tests::{DEMO, FakeService, Options, Platform, Reply, session_cookie};
use serde_json::{Value, json};
use std::time::Duration;

const PASSWORD: &str = "violet otter reads FHIR bundles";

fn signup(platform: &Platform, email: &str, password: &str) -> Reply {
    platform.post_json("/api/auth/signup", &json!({"email": email, "password": password}))
}

fn me(platform: &Platform, cookie: &str) -> Reply {
    platform.send_as(cookie, "GET", "/api/auth/me", None)
}

#[test]
fn sign_up_sign_out_and_sign_in_with_a_secure_session_cookie() {
    let platform = Platform::start();
    let created = signup(&platform, "Ada@Example.org", PASSWORD);
    assert_eq!(created.status, 201, "{}", created.body);
    let set_cookie = created.header("set-cookie").expect("a session cookie").to_owned();
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(flag), "{set_cookie} lacks {flag}");
    }
    let cookie = session_cookie(&created).expect("cookie");
    let body = me(&platform, &cookie).json();
    assert_eq!(body["email"], "ada@example.org", "normalised to lower case");
    assert_eq!(body["role"], "free");
    assert_eq!(body["admin"], false);
    assert_eq!(body["permissions"], json!(["view_public_content", "access_basic_chatbot", "view_tools_catalog"]));

    let duplicate = signup(&platform, "ada@example.org", PASSWORD);
    assert_eq!(duplicate.status, 409);
    assert_eq!(duplicate.json()["error"]["code"], "conflict");

    let out = platform.send_as(&cookie, "POST", "/api/auth/signout", None);
    assert_eq!(out.status, 200);
    assert!(out.header("set-cookie").is_some_and(|c| c.contains("Max-Age=0")), "the cookie is cleared");
    assert_eq!(me(&platform, &cookie).status, 401, "the session is revoked on the server, not just forgotten");
    assert_eq!(platform.get("/api/auth/state").json()["signedIn"], false);

    let again = platform.sign_in("ADA@example.org", PASSWORD);
    assert_eq!(me(&platform, &again).status, 200);
    assert_eq!(platform.send_as(&again, "GET", "/api/auth/state", None).json()["signedIn"], true);
    let account = platform.send_as(&again, "GET", "/account", None);
    assert_eq!(account.status, 200);
    let anonymous = platform.get("/account");
    assert_eq!((anonymous.status, anonymous.header("location")), (303, Some("/signin?next=/account")));
}

#[test]
fn wrong_credentials_get_one_generic_answer() {
    let platform = Platform::start();
    let wrong =
        platform.post_json("/api/auth/signin", &json!({"email": DEMO[0].1, "password": "not the right password"}));
    let unknown = platform.post_json("/api/auth/signin", &json!({"email": "nobody@example.org", "password": PASSWORD}));
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(wrong.json()["error"], unknown.json()["error"], "the answer does not tell which was wrong");
}

#[test]
fn bad_input_gets_the_right_status_and_the_standard_error_body() {
    let platform = Platform::start();
    let raw = |body: &str, content_type: &str| {
        let request = ureq::http::Request::builder()
            .method("POST")
            .uri(platform.url("/api/auth/signup"))
            .header("content-type", content_type)
            .body(body.to_owned())
            .expect("request");
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut response = agent.run(request).expect("answers");
        (response.status().as_u16(), response.body_mut().read_to_string().unwrap_or_default())
    };
    let cases: Vec<(u16, &str, (u16, String))> = vec![
        (400, "malformed JSON", raw("{\"email\": ", "application/json")),
        (400, "missing password", raw(r#"{"email":"a@example.org"}"#, "application/json")),
        (415, "a form post", raw("email=a%40example.org&password=x", "application/x-www-form-urlencoded")),
        (
            413,
            "a body over 64 KiB",
            raw(&format!(r#"{{"email":"{}","password":"x"}}"#, "a".repeat(70_000)), "application/json"),
        ),
    ];
    for (status, why, (got, body)) in cases {
        assert_eq!(got, status, "{why}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{why}: not JSON: {body}"));
        assert!(error["error"]["code"].is_string() && error["error"]["message"].is_string(), "{why}: {body}");
    }
    // Each breaks one rule and says which.
    let policy = [
        ("not-an-email", PASSWORD, "email address"),
        ("short@example.org", "too short", "at least 15"),
        ("common@example.org", "1qaz2wsx3edc4rfv", "commonly used"),
        ("grace.hopper@example.org", "grace.hopper rocks the navy", "email address"),
    ];
    for (email, password, message) in policy {
        let reply = signup(&platform, email, password);
        assert_eq!(reply.status, 422, "{email}/{password}: {}", reply.body);
        assert!(reply.json()["error"]["message"].as_str().unwrap_or_default().contains(message), "{}", reply.body);
    }
    let cross_site = platform.send(
        "POST",
        "/api/auth/signin",
        &[("origin", "https://evil.example")],
        Some(&json!({"email": DEMO[0].1, "password": DEMO[0].2})),
    );
    assert_eq!(cross_site.status, 403, "a cross-site sign-in is refused");
    assert!(cross_site.header("set-cookie").is_none());
    let same_site = platform.send(
        "POST",
        "/api/auth/signin",
        &[("origin", &platform.base)],
        Some(&json!({"email": DEMO[0].1, "password": DEMO[0].2})),
    );
    assert_eq!(same_site.status, 200, "our own origin passes: {}", same_site.body);
}

#[test]
fn sign_in_and_sign_up_are_rate_limited_with_retry_after() {
    let platform = Platform::start_with(
        Options::default().var("RATE_LIMIT_SIGNIN_ACCOUNT", "3/60").var("RATE_LIMIT_SIGNUP_IP", "2/60"),
    );
    for _ in 0..3 {
        let reply =
            platform.post_json("/api/auth/signin", &json!({"email": DEMO[1].1, "password": "wrong wrong wrong wrong"}));
        assert_eq!(reply.status, 401);
    }
    let limited = platform.post_json("/api/auth/signin", &json!({"email": DEMO[1].1, "password": DEMO[1].2}));
    assert_eq!(limited.status, 429, "even the right password waits: {}", limited.body);
    let retry: u64 = limited.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    let backoff = platform.post_json("/api/auth/signin", &json!({"email": DEMO[1].1, "password": DEMO[1].2}));
    let longer: u64 = backoff.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!(longer > retry, "each attempt while blocked waits longer: {retry} then {longer}");
    // Another account is not affected by this one's limit.
    platform.sign_in(DEMO[2].1, DEMO[2].2);

    assert_eq!(signup(&platform, "one@example.org", PASSWORD).status, 201);
    assert_eq!(signup(&platform, "two@example.org", PASSWORD).status, 201);
    assert_eq!(signup(&platform, "three@example.org", PASSWORD).status, 429);
}

#[test]
fn sessions_expire_when_idle_and_can_be_revoked_everywhere() {
    let platform = Platform::start_with(Options::default().var("SESSION_IDLE_SECONDS", "2"));
    let idle = platform.sign_in(DEMO[0].1, DEMO[0].2);
    assert_eq!(me(&platform, &idle).status, 200);
    std::thread::sleep(Duration::from_millis(3_200));
    assert_eq!(me(&platform, &idle).status, 401, "idle past SESSION_IDLE_SECONDS");

    let laptop = platform.sign_in(DEMO[0].1, DEMO[0].2);
    let phone = platform.sign_in(DEMO[0].1, DEMO[0].2);
    let sessions = platform.send_as(&laptop, "GET", "/api/auth/sessions", None).json();
    assert_eq!(sessions.as_array().map(Vec::len), Some(2), "{sessions}");
    assert_eq!(sessions.as_array().map(|s| s.iter().filter(|x| x["current"] == true).count()), Some(1));
    let everywhere = platform.send_as(&phone, "POST", "/api/auth/signout-everywhere", None);
    assert_eq!(everywhere.status, 200);
    assert_eq!(me(&platform, &laptop).status, 401);
    assert_eq!(me(&platform, &phone).status, 401);

    // A session nobody comes back to is deleted by the daily clean-up.
    platform.sign_in(DEMO[1].1, DEMO[1].2);
    assert_eq!(platform.query("SELECT COUNT(*) AS n FROM sessions")[0]["n"], 1);
    std::thread::sleep(Duration::from_millis(3_200));
    platform.fire_cron("17 3 * * *");
    assert_eq!(platform.query("SELECT COUNT(*) AS n FROM sessions")[0]["n"], 0);
}

#[test]
fn changing_the_password_signs_out_the_other_sessions() {
    let platform = Platform::start();
    let created = signup(&platform, "grace@example.org", PASSWORD);
    let here = session_cookie(&created).expect("cookie");
    let elsewhere = platform.sign_in("grace@example.org", PASSWORD);
    let wrong = platform.send_as(
        &here,
        "POST",
        "/api/auth/password",
        Some(&json!({"currentPassword": "not my password at all", "newPassword": "an entirely new passphrase"})),
    );
    assert_eq!(wrong.status, 403);
    let changed = platform.send_as(
        &here,
        "POST",
        "/api/auth/password",
        Some(&json!({"currentPassword": PASSWORD, "newPassword": "an entirely new passphrase"})),
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(me(&platform, &here).status, 200);
    assert_eq!(me(&platform, &elsewhere).status, 401);
    platform.sign_in("grace@example.org", "an entirely new passphrase");
}

fn link_token(email: &Value, key: &str) -> String {
    let text = email["text"].as_str().unwrap_or_default();
    text.split(&format!("{key}="))
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("a link with a token")
        .to_owned()
}

#[test]
fn a_password_reset_email_carries_a_single_use_link() {
    let provider = FakeService::email_provider("4ef9a417-02e9-4d39-ad75-9611e0fcc33c");
    let platform =
        Platform::start_with(Options::default().email(&provider).var("EMAIL_FROM", "FHIR IQ <no-reply@fhiriq.test>"));
    let old_session = platform.sign_in(DEMO[2].1, DEMO[2].2);
    let unknown = platform.post_json("/api/auth/reset-request", &json!({"email": "nobody@example.org"}));
    let known = platform.post_json("/api/auth/reset-request", &json!({"email": DEMO[2].1}));
    assert_eq!((unknown.status, known.status), (202, 202));
    assert_eq!(unknown.body, known.body, "the answer does not reveal whether the account exists");

    let sent = provider.wait_for("/emails", 1, Duration::from_secs(10));
    assert_eq!(sent.len(), 1, "one email, to the real account only");
    assert_eq!(sent[0].header("authorization"), Some("Bearer re_test_key"));
    let email = sent[0].json();
    assert_eq!(email["to"], json!([DEMO[2].1]));
    assert_eq!(email["from"], "FHIR IQ <no-reply@fhiriq.test>");
    let token = link_token(&email, "token");

    let weak = platform.post_json("/api/auth/reset", &json!({"token": token, "password": "short"}));
    assert_eq!(weak.status, 422);
    let reset =
        platform.post_json("/api/auth/reset", &json!({"token": token, "password": "a completely fresh passphrase"}));
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(me(&platform, &old_session).status, 401, "every session ends");
    let reused =
        platform.post_json("/api/auth/reset", &json!({"token": token, "password": "yet another new passphrase"}));
    assert_eq!(reused.status, 422, "single use");
    platform.sign_in(DEMO[2].1, "a completely fresh passphrase");
    let forged = platform
        .post_json("/api/auth/reset", &json!({"token": "0".repeat(64), "password": "a completely fresh passphrase"}));
    assert_eq!(forged.status, 422);
}

#[test]
fn staff_change_plans_and_the_role_follows() {
    let platform = Platform::start();
    let admin = platform.sign_in(DEMO[4].1, DEMO[4].2);
    let user = session_cookie(&signup(&platform, "lin@example.org", PASSWORD)).expect("cookie");
    let set = |plan: &str, status: &str| {
        platform.send_as(
            &admin,
            "POST",
            "/api/admin/subscriptions",
            Some(&json!({"email": "lin@example.org", "plan": plan, "status": status})),
        )
    };
    let granted = set("pro", "active");
    assert_eq!(granted.status, 200, "{}", granted.body);
    assert_eq!((granted.json()["previousRole"].clone(), granted.json()["role"].clone()), (json!("free"), json!("pro")));
    assert_eq!(me(&platform, &user).json()["role"], "pro", "the role is derived on each request");
    assert_eq!(set("pro", "past_due").json()["role"], "free", "no paid access while past due");
    assert_eq!(set("platinum", "active").status, 422);
    let not_staff = platform.send_as(
        &user,
        "POST",
        "/api/admin/subscriptions",
        Some(&json!({"email": "lin@example.org", "plan": "enterprise", "status": "active"})),
    );
    assert_eq!(not_staff.status, 403, "nobody grants themselves a plan");
    let order = platform.send_as(
        &admin,
        "POST",
        "/api/admin/orders",
        Some(&json!({"email": "lin@example.org", "product": "course:fhir-101", "status": "completed"})),
    );
    assert_eq!(order.json()["role"], "student", "a completed one-time purchase makes a student");
    let log = platform.query("SELECT from_role, to_role, reason FROM role_changes ORDER BY id");
    let steps: Vec<(String, String)> = log
        .iter()
        .map(|r| (r["from_role"].as_str().unwrap_or("").into(), r["to_role"].as_str().unwrap_or("").into()))
        .collect();
    let expected = [("free", "pro"), ("pro", "free"), ("free", "student")].map(|(a, b)| (a.to_owned(), b.to_owned()));
    assert_eq!(steps, expected, "every role change is logged");
    assert!(log[0]["reason"].as_str().unwrap_or_default().contains(DEMO[4].1), "with who did it");
    // Each staff action is in the audit log (the refused one is not), and /admin/audit shows it.
    let audit = platform.query("SELECT staff_email, action, target, detail FROM admin_audit ORDER BY id");
    let actions: Vec<&str> = audit.iter().map(|r| r["action"].as_str().unwrap_or_default()).collect();
    assert_eq!(actions, ["plan.set", "plan.set", "order.record"], "{audit:?}");
    assert_eq!(
        (audit[0]["staff_email"].clone(), audit[0]["target"].clone()),
        (json!(DEMO[4].1), json!("lin@example.org"))
    );
    assert_eq!(audit[1]["detail"], "pro past_due");
    let page = platform.send_as(&admin, "GET", "/admin/audit", None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<td>order.record</td><td>lin@example.org</td>"), "{}", page.body);
    assert_eq!(page.header("cache-control"), Some("private, no-store"), "staff pages are never stored");
    assert_eq!(platform.send_as(&user, "GET", "/admin/audit", None).status, 403);
}

#[test]
fn an_enterprise_owner_invites_lists_and_removes_members() {
    let provider = FakeService::start();
    let platform = Platform::start_with(Options::default().email(&provider));
    let owner = platform.sign_in(DEMO[3].1, DEMO[3].2);
    let pro = platform.sign_in(DEMO[2].1, DEMO[2].2);
    assert_eq!(
        platform.send_as(&pro, "POST", "/api/org/invitations", Some(&json!({"email": "x@example.org"}))).status,
        403,
        "bulk_user_management is enterprise only"
    );
    let invited = platform.send_as(&owner, "POST", "/api/org/invitations", Some(&json!({"email": "Dana@Example.org"})));
    assert_eq!(invited.status, 201, "{}", invited.body);
    let email = provider.wait_for("/emails", 1, Duration::from_secs(10));
    assert_eq!(email.len(), 1);
    let token = link_token(&email[0].json(), "invite");

    let dana = session_cookie(&signup(&platform, "dana@example.org", PASSWORD)).expect("cookie");
    let stranger = session_cookie(&signup(&platform, "eve@example.org", PASSWORD)).expect("cookie");
    // Each new account confirms its address through the link its sign-up emailed (issue 15, item 6).
    let emails = provider.wait_for("/emails", 3, Duration::from_secs(10));
    for address in ["dana@example.org", "eve@example.org"] {
        let email = emails
            .iter()
            .map(|e| e.json())
            .find(|e| e["to"] == json!([address]) && e["subject"].as_str().is_some_and(|s| s.starts_with("Confirm")))
            .expect("a verification email");
        let verified = platform.post_json("/api/auth/verify-email", &json!({"token": link_token(&email, "token")}));
        assert_eq!(verified.status, 200, "{}", verified.body);
    }
    let stolen = platform.send_as(&stranger, "POST", "/api/org/invitations/accept", Some(&json!({"token": token})));
    assert_eq!(stolen.status, 403, "only the invited email accepts");
    let accepted = platform.send_as(&dana, "POST", "/api/org/invitations/accept", Some(&json!({"token": token})));
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.json()["role"], "enterprise", "members inherit the organisation's plan");

    let org = platform.send_as(&owner, "GET", "/api/org", None).json();
    let members: Vec<&str> =
        org["members"].as_array().expect("members").iter().filter_map(|m| m["email"].as_str()).collect();
    assert_eq!(members, ["dana@example.org"]);
    assert_eq!(platform.send_as(&dana, "GET", "/api/org", None).status, 403, "members do not manage the organisation");
    let dana_id = org["members"][0]["userId"].as_str().expect("id").to_owned();
    let removed = platform.send_as(&owner, "DELETE", &format!("/api/org/members/{dana_id}"), None);
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(me(&platform, &dana).json()["role"], "free");
}

/// Issue 15, item 8: reset and invitation links are single-use secrets stored elsewhere only as
/// hashes; once their email is sent, `email_outbox` keeps who it went to, the subject and the status,
/// never the link.
#[test]
fn a_sent_reset_or_invitation_email_leaves_no_link_in_the_outbox() {
    let provider = FakeService::email_provider("0b7c3a1e-5d2f-4c1e-9a55-3f1f6a2b9c10");
    let platform = Platform::start_with(Options::default().email(&provider));
    assert_eq!(platform.post_json("/api/auth/reset-request", &json!({"email": DEMO[2].1})).status, 202);
    let owner = platform.sign_in(DEMO[3].1, DEMO[3].2);
    let invited = platform.send_as(&owner, "POST", "/api/org/invitations", Some(&json!({"email": "dana@example.org"})));
    assert_eq!(invited.status, 201, "{}", invited.body);
    let sent = provider.wait_for("/emails", 2, Duration::from_secs(10));
    assert_eq!(sent.len(), 2);
    let tokens: Vec<String> = sent
        .iter()
        .map(|email| {
            let email = email.json();
            let key = if email["text"].as_str().unwrap_or_default().contains("invite=") { "invite" } else { "token" };
            link_token(&email, key)
        })
        .collect();

    // Marked sent after the provider answered (in the background of the request).
    let sql = "SELECT to_email, subject, body_text, status FROM email_outbox ORDER BY to_email";
    let mut rows = platform.query(sql);
    for _ in 0..50 {
        if rows.len() == 2 && rows.iter().all(|r| r["status"] == "sent") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        rows = platform.query(sql);
    }
    let dump = serde_json::to_string(&rows).expect("json");
    for token in &tokens {
        assert!(token.len() >= 32 && !dump.contains(token.as_str()), "a link's token is still stored: {dump}");
    }
    assert!(!dump.contains("token=") && !dump.contains("invite="), "{dump}");
    let kept: Vec<(&str, &str)> =
        rows.iter().map(|r| (r["to_email"].as_str().unwrap_or(""), r["status"].as_str().unwrap_or(""))).collect();
    assert_eq!(kept, [("dana@example.org", "sent"), (DEMO[2].1, "sent")], "{dump}");
    assert!(rows.iter().all(|r| r["subject"].as_str().is_some_and(|s| !s.is_empty())));
}

#[test]
fn staff_find_disable_and_enable_an_account_and_every_action_is_audited() {
    let platform = Platform::start();
    let admin = platform.sign_in(DEMO[4].1, DEMO[4].2);
    let (user, user_id) = platform.member("grace_hopper@example.org");
    let admin_id = platform.user_id(DEMO[4].1);

    // The search finds the account (an underscore is a character, not a wildcard).
    let found = platform.send_as(&admin, "GET", "/admin/users?q=GRACE_HOP", None);
    assert_eq!(found.status, 200);
    assert!(found.body.contains("grace_hopper@example.org") && !found.body.contains(DEMO[0].1), "{}", found.body);
    assert_eq!(platform.send_as(&user, "GET", "/admin/users", None).status, 403);

    // Disabled: the open session stops counting at once and sign-in is refused.
    let act = |cookie: &str, id: &str, action: &str, body: Value| {
        platform.send_as(cookie, "POST", &format!("/api/admin/users/{id}/{action}"), Some(&body))
    };
    assert_eq!(act(&admin, &user_id, "disable", json!({"disabled": true})).status, 200);
    assert_eq!(me(&platform, &user).status, 401, "the session ended");
    let refused = platform.post_json(
        "/api/auth/signin",
        &json!({"email": "grace_hopper@example.org", "password": "a long enough passphrase 42"}),
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    let wrong = platform
        .post_json("/api/auth/signin", &json!({"email": "grace_hopper@example.org", "password": "nope nope nope"}));
    assert_eq!(wrong.status, 401, "a wrong password learns nothing of the account's state");
    assert!(platform.send_as(&admin, "GET", "/admin/users?q=grace", None).body.contains("disabled</span>"));

    // Staff cannot lock themselves out; users cannot act as staff.
    assert_eq!(act(&admin, &admin_id, "disable", json!({"disabled": true})).status, 409);
    assert_eq!(act(&admin, &admin_id, "staff", json!({"admin": false})).status, 409);
    assert_eq!(act(&admin, "no-such-user", "staff", json!({"admin": true})).status, 404);
    assert_eq!(act(&admin, &user_id, "disable", json!({"disabled": "yes"})).status, 400);

    // Enabled again: the password works.
    assert_eq!(act(&admin, &user_id, "disable", json!({"disabled": false})).status, 200);
    let back = platform.sign_in("grace_hopper@example.org", "a long enough passphrase 42");
    assert_eq!(me(&platform, &back).status, 200);
    assert_eq!(act(&admin, &user_id, "resend", json!({"kind": "reset"})).status, 200);
    assert_eq!(act(&admin, &user_id, "resend", json!({"kind": "verification"})).status, 409, "already verified");
    assert_eq!(act(&admin, &user_id, "staff", json!({"admin": true})).status, 200);
    assert_eq!(me(&platform, &back).json()["admin"], true);
    assert_eq!(act(&back, &admin_id, "staff", json!({"admin": false})).status, 200, "another staff member can");
    assert_eq!(me(&platform, &admin).json()["admin"], false);

    let actions: Vec<String> = platform
        .query("SELECT action FROM admin_audit ORDER BY id")
        .iter()
        .map(|r| r["action"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        actions,
        ["account.disable", "account.enable", "email.reset", "staff.grant", "staff.revoke"],
        "each action that changed something, once"
    );
    let reset = "SELECT COUNT(*) AS n FROM email_outbox WHERE to_email = 'grace_hopper@example.org' AND subject = 'Reset your FHIR IQ password'";
    assert_eq!(platform.count(reset), 1);
}
