//! The support desk through the real workers: priority from the plan (a Pro request alerts staff in
//! a fake Slack, a Free one does not), the staff reply reaching the user by email and in the thread,
//! the user's own threads only, Enterprise integration requests, links to the user's own things,
//! sanitized text, the rate limit, and an audit entry for each staff reply.

use fhir_iq_tests::{DEMO, FakeService, Options, Platform};
use serde_json::{Value, json};
use std::time::Duration;

const HOOK: &str = "/services/T0/B0/staff";

fn open(platform: &Platform, cookie: &str, body: &Value) -> fhir_iq_tests::Reply {
    platform.send_as(cookie, "POST", "/api/support/requests", Some(body))
}

fn mine(platform: &Platform, cookie: &str) -> Vec<Value> {
    let reply = platform.send_as(cookie, "GET", "/api/support/requests", None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["requests"].as_array().cloned().expect("a list")
}

#[test]
fn priority_requests_page_staff_and_a_reply_reaches_the_user_by_email_and_in_the_thread() {
    let slack = FakeService::start();
    let platform = Platform::start_with(Options::default().var("STAFF_SLACK_WEBHOOK_URL", &slack.url(HOOK)));
    let pro = platform.sign_in(DEMO[2].1, DEMO[2].2);
    let free = platform.sign_in(DEMO[0].1, DEMO[0].2);
    let enterprise = platform.sign_in(DEMO[3].1, DEMO[3].2);
    let admin = platform.sign_in(DEMO[4].1, DEMO[4].2);

    // Pro: priority, a first-response target, one Slack alert with the user's text escaped.
    let request = json!({"subject": "GitHub push fails", "category": "builder",
        "message": "Every push answers 403 <!channel> <script>alert(1)</script>"});
    let opened = open(&platform, &pro, &request);
    assert_eq!(opened.status, 201, "{}", opened.body);
    let opened = opened.json();
    assert_eq!((opened["priority"].clone(), opened["status"].clone()), (json!("priority"), json!("open")));
    assert_eq!(opened["firstResponseTarget"], "one business day");
    let id = opened["id"].as_str().expect("an id").to_owned();
    let posted = slack.wait_for(HOOK, 1, Duration::from_secs(10));
    let text = posted[0].json()["text"].as_str().unwrap_or_default().to_owned();
    assert!(text.contains("GitHub push fails") && text.contains(DEMO[2].1), "{text}");
    assert!(text.contains("&lt;!channel&gt;") && !text.contains("<!channel>"), "escaped for Slack: {text}");

    // Free: normal, no alert.
    let normal = open(
        &platform,
        &free,
        &json!({"subject": "Quiz score", "category": "course",
        "message": "My quiz score did not save yesterday."}),
    );
    assert_eq!((normal.status, normal.json()["priority"].clone()), (201, json!("normal")));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(slack.received(HOOK).len(), 1, "normal requests do not page staff");

    // Integration requests are Enterprise's; a link must be the user's own.
    let integration = json!({"subject": "Epic integration", "category": "integration",
        "message": "We need a backend-services client for Epic."});
    assert_eq!(open(&platform, &pro, &integration).status, 403);
    let filed = open(&platform, &enterprise, &integration);
    assert_eq!((filed.status, filed.json()["priority"].clone()), (201, json!("priority")));
    let linked = json!({"subject": "Order question", "category": "billing", "message": "About this order of mine.",
        "link": {"kind": "order", "id": "someone-elses-order"}});
    assert_eq!(open(&platform, &pro, &linked).status, 422);
    assert_eq!(open(&platform, &pro, &json!({"subject": "x"})).status, 400, "missing fields");
    assert_eq!(open(&platform, &pro, &json!({"subject": "Hi", "category": "other", "message": "short"})).status, 422);
    assert_eq!(platform.send("POST", "/api/support/requests", &[], Some(&request)).status, 401);

    // Staff: the inbox lists priority first, escaped; the reply is emailed, threaded and audited.
    let inbox = platform.send_as(&admin, "GET", "/admin/support", None);
    assert_eq!(inbox.status, 200);
    let position = |text: &str| inbox.body.find(text).unwrap_or_else(|| panic!("{text} in the inbox"));
    assert!(position("GitHub push fails") < position("Quiz score"), "priority first");
    assert!(!inbox.body.contains("<script>alert(1)") && inbox.body.contains("&#60;script&#62;"));
    assert_eq!(platform.send_as(&pro, "GET", "/admin/support", None).status, 403);
    let reply = json!({"message": "Reinstall the GitHub App on your organisation, then push again."});
    let path = format!("/api/admin/support/{id}/reply");
    assert_eq!(platform.send_as(&pro, "POST", &path, Some(&reply)).status, 403, "users cannot answer as staff");
    let answered = platform.send_as(&admin, "POST", &path, Some(&reply));
    assert_eq!(answered.status, 201, "{}", answered.body);
    let email = format!(
        "SELECT COUNT(*) AS n FROM email_outbox WHERE to_email = '{}' AND subject = 'Re: GitHub push fails'",
        DEMO[2].1
    );
    assert_eq!(platform.count(&email), 1, "the reply is emailed");
    // Without an email provider the platform writes each email to its log once delivered.
    let marker = format!("to {}: Re: GitHub push fails", DEMO[2].1);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !platform.log().split_once(&marker).is_some_and(|(_, body)| body.contains("Reinstall the GitHub App")) {
        assert!(std::time::Instant::now() < deadline, "the reply's email was not delivered:\n{}", platform.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    let threads = mine(&platform, &pro);
    let thread = threads.iter().find(|r| r["id"] == id.as_str()).expect("the request");
    assert_eq!(thread["status"], "answered");
    let authors: Vec<&str> =
        thread["messages"].as_array().expect("messages").iter().map(|m| m["author"].as_str().unwrap_or("")).collect();
    assert_eq!(authors, ["user", "staff"]);
    let audited = format!("SELECT COUNT(*) AS n FROM admin_audit WHERE action = 'support.reply' AND target = '{id}'");
    assert_eq!(platform.count(&audited), 1);

    // The user replies in turn (it waits on staff again); nobody else can.
    let follow_up = json!({"message": "That fixed it, thank you."});
    let messages = format!("/api/support/requests/{id}/messages");
    assert_eq!(platform.send_as(&free, "POST", &messages, Some(&follow_up)).status, 404);
    assert_eq!(platform.send_as(&pro, "POST", &messages, Some(&follow_up)).status, 201);
    assert_eq!(mine(&platform, &pro).iter().find(|r| r["id"] == id.as_str()).expect("it")["status"], "open");
    assert!(mine(&platform, &free).iter().all(|r| r["id"] != id.as_str()), "each user sees only their own");
}

#[test]
fn requests_are_rate_limited_per_user_even_in_parallel() {
    let platform = Platform::start_with(Options::default().var("RATE_LIMIT_SUPPORT", "3/3600"));
    let free = platform.sign_in(DEMO[0].1, DEMO[0].2);
    let request = json!({"subject": "Help", "category": "other", "message": "Please help me with FHIR."});
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let sent: Vec<_> = (0..6).map(|_| scope.spawn(|| open(&platform, &free, &request).status)).collect();
        sent.into_iter().map(|h| h.join().expect("sent")).collect()
    });
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 3, "{statuses:?}");
    assert_eq!(platform.count("SELECT COUNT(*) AS n FROM support_requests"), 3);
}
