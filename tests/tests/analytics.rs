//! Analytics through the platform: ingestion (validation, limits, DNT and GPC, bots, no IP stored),
//! rollups that equal the raw counts, funnels on a synthetic event set with known answers, reports
//! and CSV, and who may see what (an enterprise owner only their organisation; free users 403).

use fhir_iq_tests::{DEMO, Platform, Reply, now_ms, poll};
use serde_json::{Value, json};

const CHROME: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
const IP: &str = "198.51.100.77";

fn send(platform: &Platform, cookie: Option<&str>, extra: &[(&str, &str)], body: &Value) -> Reply {
    let mut headers = vec![("user-agent", CHROME), ("cf-connecting-ip", IP)];
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie));
    }
    headers.extend_from_slice(extra);
    platform.send("POST", "/api/events", &headers, Some(body))
}

fn page_view(session: &str, page: &str) -> Value {
    json!({"type": "page.view", "page": page, "sessionId": session})
}

#[test]
fn ingestion_validates_limits_and_respects_privacy() {
    let platform = Platform::start();
    let ok = send(&platform, None, &[], &json!({"events": [page_view("sess-0001", "/pricing?email=x@y.z")]}));
    assert_eq!(ok.status, 202, "{}", ok.body);
    assert_eq!(ok.json()["accepted"], 1);
    // Queued, then written by the queue's consumer a moment later.
    assert_eq!(platform.wait_for_count("SELECT COUNT(*) AS n FROM analytics_events", 1), 1);

    let bad_type = send(&platform, None, &[], &json!({"events": [{"type": "Page View", "sessionId": "sess-0001"}]}));
    assert_eq!(bad_type.status, 400);
    assert!(bad_type.json()["error"]["message"].as_str().unwrap_or_default().starts_with("events[0].type"));
    let too_many: Vec<Value> = (0..51).map(|_| page_view("sess-0001", "/")).collect();
    assert_eq!(send(&platform, None, &[], &json!({"events": too_many})).status, 413);
    let huge = json!({"events": [{"type": "x", "sessionId": "sess-0001", "properties": {"blob": "y".repeat(70_000)}}]});
    assert_eq!(send(&platform, None, &[], &huge).status, 413, "over 64 KiB");
    assert_eq!(send(&platform, None, &[], &json!({"nope": []})).status, 400);

    // Do Not Track and Global Privacy Control: accepted, nothing stored.
    let before = platform.count("SELECT COUNT(*) AS n FROM analytics_events");
    let dnt = send(&platform, None, &[("dnt", "1")], &json!({"events": [page_view("sess-dnt-1", "/")]}));
    assert_eq!((dnt.status, dnt.json()["dropped"].clone()), (202, json!("do-not-track")));
    let gpc = send(&platform, None, &[("sec-gpc", "1")], &json!({"events": [page_view("sess-gpc-1", "/")]}));
    assert_eq!(gpc.json()["dropped"], "do-not-track");
    let bot = platform.send(
        "POST",
        "/api/events",
        &[("user-agent", "Mozilla/5.0 (compatible; Googlebot/2.1)"), ("cf-connecting-ip", IP)],
        Some(&json!({"events": [page_view("sess-bot-1", "/")]})),
    );
    assert_eq!(bot.json()["dropped"], "bot");
    assert_eq!(
        platform.count("SELECT COUNT(*) AS n FROM analytics_events"),
        before,
        "nothing stored for DNT, GPC, bots"
    );

    // No raw IP anywhere; the page without its query.
    let rows = platform.query("SELECT * FROM analytics_events");
    let dump = serde_json::to_string(&rows).expect("json");
    assert!(!dump.contains(IP) && !dump.contains("198.51.100"), "{dump}");
    assert!(!dump.contains("email=") && dump.contains("\"/pricing\""));

    // The rate limit: 120 batches a minute from one address (the EVENTS_RATE_LIMIT binding). Counted
    // in fixed minutes, so a minute may turn during the loop: within two minutes' worth, a 429 comes.
    let mut accepted = 0;
    let limited = (0..250)
        .map(|i| send(&platform, None, &[], &json!({"events": [page_view(&format!("sess-rl-{i:04}"), "/")]})))
        .find(|reply| {
            accepted += usize::from(reply.status == 202);
            reply.status != 202
        })
        .expect("a 429 within 250 batches");
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert_eq!(limited.json()["error"]["code"], "rate_limited");
    assert!(accepted >= 100, "most of a minute's 120 were accepted first: {accepted}");
    // Another address is not limited by the first one's batches.
    let other = send(
        &platform,
        None,
        &[("cf-connecting-ip", "198.51.100.78")],
        &json!({"events": [page_view("sess-other-1", "/")]}),
    );
    assert_eq!(other.status, 202, "{}", other.body);
    // Every accepted batch reaches D1 through the queue: none is lost.
    let stored = platform.wait_for_count(
        "SELECT COUNT(*) AS n FROM analytics_events WHERE session_id LIKE 'sess-rl-%'",
        accepted as i64,
    );
    assert_eq!(stored, accepted as i64);
}

/// The sessions the reporting scenario acts as.
struct Sessions {
    free: String,
    pro: String,
    /// The owner of the enterprise organisation demo-org.
    enterprise: String,
    admin: String,
}

#[test]
fn rollups_reports_funnels_and_who_sees_what() {
    let platform = Platform::start();
    let sessions = free_pro_enterprise_and_staff_users_sign_in(&platform);
    browsers_report_events_for_the_owner_a_pro_user_and_a_visitor(&platform, &sessions);
    let midnight = now_ms() - now_ms() % 86_400_000;
    a_synthetic_funnel_set_with_known_answers_is_stored(&platform, midnight);

    // Funnels are counted from their rollup, which the 5-minute cron keeps.
    platform.fire_cron("*/5 * * * *");
    staff_see_the_whole_funnel_and_the_owner_only_their_organisation(&platform, &sessions);
    the_funnel_exports_as_csv_and_an_unknown_funnel_is_not_found(&platform, &sessions.admin);
    // A second run recomputes the day rather than adding to it.
    platform.fire_cron("*/5 * * * *");
    the_daily_rollups_equal_the_raw_counts(&platform, midnight);

    free_and_pro_users_and_visitors_get_no_reports(&platform, &sessions);
    the_owner_sees_only_their_organisations_events_and_staff_see_all(&platform, &sessions);
    the_owner_gets_every_report_and_unknown_reports_or_dates_are_refused(&platform, &sessions);
    the_feature_usage_report_exports_as_csv(&platform, &sessions.admin);
    third_party_analytics_are_off_by_default(&platform);
    the_dashboard_is_for_enterprise_owners_and_staff(&platform, &sessions);
}

fn free_pro_enterprise_and_staff_users_sign_in(platform: &Platform) -> Sessions {
    let sign_in = |i: usize| platform.sign_in(DEMO[i].1, DEMO[i].2);
    Sessions {
        free: sign_in(0),
        pro: sign_in(2),
        enterprise: sign_in(3),
        admin: platform.sign_in("admin@demo.fhiriq.test", "fhiriq-demo-admin"),
    }
}

fn browsers_report_events_for_the_owner_a_pro_user_and_a_visitor(platform: &Platform, sessions: &Sessions) {
    let owner_batch = json!({"events": [page_view("sess-owner-1", "/pricing"), page_view("sess-owner-1", "/tools/builder"),
        {"type": "tool.opened", "page": "/tools/builder", "sessionId": "sess-owner-1"}]});
    assert_eq!(send(platform, Some(&sessions.enterprise), &[], &owner_batch).status, 202);
    let pro_batch = json!({"events": [page_view("sess-pro-0001", "/pricing"), page_view("sess-pro-0001", "/chat")]});
    assert_eq!(send(platform, Some(&sessions.pro), &[], &pro_batch).status, 202);
    assert_eq!(send(platform, None, &[], &json!({"events": [page_view("sess-anon-01", "/")]})).status, 202);
    let sessions = "SELECT COUNT(*) AS n FROM analytics_events WHERE session_id IN ('sess-owner-1', 'sess-pro-0001', 'sess-anon-01')";
    assert_eq!(platform.wait_for_count(sessions, 6), 6, "the queue's consumer wrote every event");
}

/// Written straight into the raw tables, one minute after `midnight` (UTC), so the answers are known
/// (builder page, generated, pushed; within 24 hours): u-full completes; u-order pushes before
/// generating (2 steps); u-late generates 30 hours later (1 step); u-retry completes from a later
/// visit; the enterprise owner opens the builder and generates, but does not push.
fn a_synthetic_funnel_set_with_known_answers_is_stored(platform: &Platform, midnight: i64) {
    let t = midnight + 60_000;
    let h = 3_600_000;
    let mut rows = Vec::new();
    let mut add = |user: &str, kind: &str, page: Option<&str>, at: i64| {
        let page = page.map_or("NULL".to_owned(), |p| format!("'{p}'"));
        rows.push(format!("('{kind}', '{{}}', {page}, 'syn-{user}', 'v-{user}', '{user}', {at})"));
    };
    let b = Some("/tools/fhir-builder");
    add("u-full", "page.view", b, t);
    add("u-full", "builder.generated", None, t + h);
    add("u-full", "github.pushed", None, t + 2 * h);
    add("u-order", "page.view", b, t);
    add("u-order", "github.pushed", None, t + h);
    add("u-order", "builder.generated", None, t + 2 * h);
    add("u-late", "page.view", b, t - 2 * 86_400_000);
    add("u-late", "builder.generated", None, t - 2 * 86_400_000 + 30 * h);
    add("u-retry", "page.view", b, t - 2 * 86_400_000);
    add("u-retry", "page.view", b, t);
    add("u-retry", "builder.generated", None, t + h);
    add("u-retry", "github.pushed", None, t + 2 * h);
    let owner = platform.user_id(DEMO[3].1);
    add(&owner, "page.view", b, t);
    add(&owner, "builder.generated", None, t + h);
    platform.query(&format!(
        "INSERT INTO analytics_events (event_type, properties, page, session_id, visitor, user_id, created_at) VALUES {}",
        rows.join(", ")
    ));
}

/// The builder-to-github funnel over the last three days, with `extra` query parameters.
fn builder_funnel(platform: &Platform, cookie: &str, extra: &str) -> Reply {
    let (start, end) = (fhir_iq_tests::days_ago(3), fhir_iq_tests::today());
    platform.send_as(
        cookie,
        "GET",
        &format!("/api/analytics/funnels/builder-to-github?start={start}&end={end}{extra}"),
        None,
    )
}

fn staff_see_the_whole_funnel_and_the_owner_only_their_organisation(platform: &Platform, sessions: &Sessions) {
    let funnel_counts = |cookie: &str| {
        let funnel = builder_funnel(platform, cookie, "").json();
        let counts: Vec<i64> =
            funnel["steps"].as_array().expect("steps").iter().map(|s| s["count"].as_i64().unwrap_or(-1)).collect();
        (counts, funnel)
    };
    let (counts, funnel) = funnel_counts(&sessions.admin);
    assert_eq!(counts, [5, 4, 2], "{funnel}");
    let (counts, funnel) = funnel_counts(&sessions.enterprise);
    assert_eq!(counts, [1, 1, 0], "the owner sees only their organisation's people: {funnel}");
    let listed = platform.send_as(&sessions.enterprise, "GET", "/api/analytics/funnels", None).json();
    assert!(listed.as_array().is_some_and(|f| f.len() >= 3));
}

fn the_funnel_exports_as_csv_and_an_unknown_funnel_is_not_found(platform: &Platform, admin: &str) {
    let csv = builder_funnel(platform, admin, "&format=csv");
    assert!(csv.header("content-disposition").is_some_and(|d| d.contains("fhiriq-funnel-builder-to-github-")));
    assert!(
        csv.body.starts_with("step,event,page,people,conversion_from_previous,conversion_from_start\r\n")
            && csv.body.contains("\r\n3,github.pushed,,2,0.5000,0.4000\r\n"),
        "{}",
        csv.body
    );
    assert_eq!(platform.send_as(admin, "GET", "/api/analytics/funnels/nope", None).status, 404);
}

fn the_daily_rollups_equal_the_raw_counts(platform: &Platform, midnight: i64) {
    let today = fhir_iq_tests::today();
    let (start, end) = (midnight, midnight + 86_400_000);
    let raw = platform
        .count(&format!("SELECT COUNT(*) AS n FROM analytics_all WHERE created_at >= {start} AND created_at < {end}"));
    let rolled = platform.count(&format!(
        "SELECT events AS n FROM analytics_daily WHERE scope = '*' AND event_type = '*' AND day = '{today}'"
    ));
    assert_eq!(rolled, raw);
    let per_type = platform.query(&format!(
        "SELECT d.event_type, d.events AS rolled, (SELECT COUNT(*) FROM analytics_all a WHERE a.event_type = d.event_type
           AND a.created_at >= {start} AND a.created_at < {end}) AS raw FROM analytics_daily d WHERE d.scope = '*' AND d.day = '{today}' AND d.event_type <> '*'"
    ));
    assert!(!per_type.is_empty());
    for row in &per_type {
        assert_eq!(row["rolled"], row["raw"], "{row}");
    }
}

/// Today's report `name`, as the holder of `cookie` asks for it.
fn report(platform: &Platform, cookie: &str, name: &str) -> Reply {
    let today = fhir_iq_tests::today();
    platform.send_as(cookie, "GET", &format!("/api/analytics/reports/{name}?start={today}&end={today}"), None)
}

fn free_and_pro_users_and_visitors_get_no_reports(platform: &Platform, sessions: &Sessions) {
    assert_eq!(report(platform, &sessions.free, "user-engagement").status, 403);
    assert_eq!(report(platform, &sessions.pro, "user-engagement").status, 403);
    assert_eq!(platform.get("/api/analytics/reports/user-engagement").status, 401);
}

fn the_owner_sees_only_their_organisations_events_and_staff_see_all(platform: &Platform, sessions: &Sessions) {
    let org = report(platform, &sessions.enterprise, "feature-usage").json();
    let platform_wide = report(platform, &sessions.admin, "feature-usage").json();
    let events_of = |body: &Value, kind: &str| {
        body["features"]
            .as_array()
            .and_then(|f| f.iter().find(|x| x["type"] == kind))
            .map_or(0, |x| x["events"].as_i64().unwrap_or(0))
    };
    assert_eq!(events_of(&org, "page.view"), 3, "only the organisation's own views: {org}");
    assert_eq!(events_of(&org, "tool.opened"), 1);
    assert_eq!(events_of(&org, "github.pushed"), 0, "other people's events are not the organisation's");
    assert_eq!(events_of(&platform_wide, "page.view"), 2 + 2 + 1 + 4, "{platform_wide}");
}

fn the_owner_gets_every_report_and_unknown_reports_or_dates_are_refused(platform: &Platform, sessions: &Sessions) {
    let engagement = report(platform, &sessions.enterprise, "user-engagement").json();
    assert_eq!(engagement["days"][0]["activeUsers"], 1, "{engagement}");
    for name in ["ai-usage", "course-progress", "tool-usage"] {
        assert_eq!(report(platform, &sessions.enterprise, name).status, 200, "{name}");
    }
    assert_eq!(report(platform, &sessions.admin, "nope").status, 404);
    let bad_range =
        platform.send_as(&sessions.admin, "GET", "/api/analytics/reports/user-engagement?start=2026-02-30", None);
    assert_eq!(bad_range.status, 400);
}

fn the_feature_usage_report_exports_as_csv(platform: &Platform, admin: &str) {
    let today = fhir_iq_tests::today();
    let csv = platform.send_as(
        admin,
        "GET",
        &format!("/api/analytics/reports/feature-usage?start={today}&end={today}&format=csv"),
        None,
    );
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").is_some_and(|t| t.starts_with("text/csv")));
    assert!(csv.header("content-disposition").is_some_and(|d| d.contains("attachment")));
    assert!(
        csv.body.starts_with("event_type,events,user_days\r\n") && csv.body.contains("github.pushed,3,"),
        "{}",
        csv.body
    );
}

/// Nothing configured and the default content security policy.
fn third_party_analytics_are_off_by_default(platform: &Platform) {
    let config = platform.get("/api/analytics/config").json();
    assert_eq!(config, json!({"ga4": null, "posthog": null}));
    let csp = platform.get("/").header("content-security-policy").unwrap_or_default().to_owned();
    assert!(csp.contains("script-src 'self';") && !csp.contains("google"), "{csp}");
}

fn the_dashboard_is_for_enterprise_owners_and_staff(platform: &Platform, sessions: &Sessions) {
    assert_eq!(platform.send_as(&sessions.enterprise, "GET", "/analytics", None).status, 200);
    assert!(platform.send_as(&sessions.admin, "GET", "/analytics", None).body.contains("Platform analytics"));
    assert_eq!(platform.send_as(&sessions.free, "GET", "/analytics", None).status, 403);
    assert_eq!(platform.get("/analytics").status, 303);
}

/// Issue 15, item 9: a browser may send only browser events. A hand-made batch of server events
/// (`checkout.started`, `subscription.started`) is refused whole and the funnel counts nothing.
#[test]
fn server_events_sent_by_a_browser_are_refused_and_never_counted() {
    let platform = Platform::start();
    let pro = platform.sign_in(DEMO[2].1, DEMO[2].2);
    let pricing = send(&platform, Some(&pro), &[], &json!({"events": [page_view("sess-forge-1", "/pricing")]}));
    assert_eq!(pricing.status, 202, "{}", pricing.body);
    for kind in ["checkout.started", "subscription.started"] {
        let forged =
            json!({"events": [page_view("sess-forge-1", "/pricing"), {"type": kind, "sessionId": "sess-forge-1"}]});
        let refused = send(&platform, Some(&pro), &[], &forged);
        assert_eq!(refused.status, 400, "{kind}: {}", refused.body);
        let message = refused.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.starts_with("events[1].type"), "{message}");
    }
    assert_eq!(platform.wait_for_count("SELECT COUNT(*) AS n FROM analytics_events", 1), 1, "the first page view");
    assert_eq!(platform.count("SELECT COUNT(*) AS n FROM analytics_events"), 1, "only the first page view");

    platform.fire_cron("*/5 * * * *");
    let admin = platform.sign_in(DEMO[4].1, DEMO[4].2);
    let today = &fhir_iq_tests::today();
    let path = format!("/api/analytics/funnels/pricing-to-subscription?start={today}&end={today}");
    let funnel = platform.send_as(&admin, "GET", &path, None).json();
    let counts: Vec<i64> =
        funnel["steps"].as_array().expect("steps").iter().map(|s| s["count"].as_i64().unwrap_or(-1)).collect();
    assert_eq!(counts, [1, 0, 0], "{funnel}");
}

/// Issue 15, item 8: the `token`, `invite`, `code` and `state` query parameters never reach the
/// first-party store, wherever a hand-made request puts them: page, referrer or properties.
#[test]
fn secret_query_parameters_are_never_stored() {
    let platform = Platform::start();
    let secret = "5ec2e7c0ffee6f1c5ec2e7c0ffee6f1c";
    let referrer = platform.url(&format!("/account?invite={secret}"));
    let events = json!({"events": [
        {"type": "page.view", "page": format!("/reset?token={secret}"), "referrer": referrer, "sessionId": "sess-secret-1"},
        {"type": "page.view", "page": format!("/reset%3Ftoken%3D{secret}"), "sessionId": "sess-secret-1"},
        {"type": "tool.opened", "page": "/signin", "sessionId": "sess-secret-1",
         "properties": {"href": format!("/signin?next=%2Faccount%3Finvite%3D{secret}"),
                        "callback": format!("/api/github/callback?code={secret}&state={secret}"), "token": secret}},
    ]});
    let stored = send(&platform, None, &[], &events);
    assert_eq!((stored.status, stored.json()["accepted"].clone()), (202, json!(3)), "{}", stored.body);
    assert_eq!(platform.wait_for_count("SELECT COUNT(*) AS n FROM analytics_events", 3), 3);
    let rows = platform.query("SELECT page, referrer, properties FROM analytics_events ORDER BY id");
    let dump = serde_json::to_string(&rows).expect("json");
    assert!(!dump.contains(secret), "{dump}");
    let pages: Vec<&str> = rows.iter().filter_map(|r| r["page"].as_str()).collect();
    assert_eq!(pages, ["/reset", "/reset", "/signin"]);
}

/// The events queue between the request and D1: a batch the consumer cannot write is retried, not
/// lost; one that keeps failing is dead-lettered into R2, and staff replay it from there, once.
#[test]
fn a_failed_write_is_retried_then_dead_lettered_to_r2_and_replayed() {
    let platform = Platform::start();
    let count = |session: &str| format!("SELECT COUNT(*) AS n FROM analytics_events WHERE session_id = '{session}'");
    let failures = |lines: &[Value]| {
        lines
            .iter()
            .filter(|v| v["event"] == "queue.batch" && v["message"].as_str().is_some_and(|m| m.contains("failed")))
            .count()
    };

    // D1 refuses the write (the table is away): the request is still accepted at once.
    platform.query("ALTER TABLE analytics_events RENAME TO analytics_events_away");
    let sent = send(&platform, None, &[], &json!({"events": [page_view("sess-retry-1", "/")]}));
    assert_eq!((sent.status, sent.json()["accepted"].clone()), (202, json!(1)), "{}", sent.body);
    let lines = platform.wait_for_log_events(|l| failures(l) >= 1);
    assert!(failures(&lines) >= 1, "the consumer's failure is logged: {lines:?}");
    // Back before the retries run out: the retry writes it.
    platform.query("ALTER TABLE analytics_events_away RENAME TO analytics_events");
    assert_eq!(platform.wait_for_count(&count("sess-retry-1"), 1), 1, "retried and written");

    // Away for longer than every retry: the message goes to the dead-letter queue, then R2.
    platform.query("ALTER TABLE analytics_events RENAME TO analytics_events_away");
    let sent = send(
        &platform,
        None,
        &[],
        &json!({"events": [page_view("sess-dead-1", "/"), page_view("sess-dead-1", "/chat")]}),
    );
    assert_eq!(sent.status, 202);
    // Six attempts a second or more apart (functions/platformApi/wrangler.toml's development consumer), then the dead-letter
    // queue's batch: seconds, or a minute and more on a loaded machine.
    let dead_letter = |v: &Value| v["event"] == "queue.dead_letter";
    let lines = poll(std::time::Duration::from_secs(150), || platform.log_events(), |l| l.iter().any(dead_letter));
    let line =
        lines.iter().find(|v| dead_letter(v)).unwrap_or_else(|| panic!("no dead letter within 150 s: {lines:?}"));
    let kept = line["message"].as_str().unwrap_or_default().to_owned();
    assert!(kept.contains("dead-letters/events/"), "{kept}");
    platform.query("ALTER TABLE analytics_events_away RENAME TO analytics_events");
    assert_eq!(platform.count(&count("sess-dead-1")), 0, "not written yet");

    // Only staff (or the service token) replay; then the events are there, and only once.
    let free = platform.sign_in(DEMO[0].1, DEMO[0].2);
    assert_eq!(platform.send_as(&free, "POST", "/api/admin/analytics/replay", None).status, 403);
    let admin = platform.sign_in(DEMO[4].1, DEMO[4].2);
    let replayed = platform.send_as(&admin, "POST", "/api/admin/analytics/replay", None);
    assert_eq!(replayed.status, 200, "{}", replayed.body);
    assert_eq!((replayed.json()["messages"].clone(), replayed.json()["rows"].clone()), (json!(1), json!(2)));
    assert_eq!(platform.count(&count("sess-dead-1")), 2);
    let again = platform.send_as(&admin, "POST", "/api/admin/analytics/replay", None);
    assert_eq!(again.json()["messages"], 0, "{}", again.body);
    assert_eq!(platform.count(&count("sess-dead-1")), 2);
}
