//! The 5-minute monitor end to end: probes recorded in D1, exactly one Slack alert when an endpoint
//! fails and exactly one when it recovers (a fake Slack records them), and /status showing it all.

use fhir_iq_tests::{FakeService, Options, Platform};
use std::time::Duration;

const MONITOR: &str = "*/5 * * * *";
const CLEANUP: &str = "17 3 * * *";

#[test]
fn a_failing_endpoint_alerts_once_and_its_recovery_alerts_once() {
    let slack = FakeService::start();
    let upstream = FakeService::start();
    let platform = Platform::start_with(
        Options::default()
            .var("SLACK_WEBHOOK_URL", &slack.url("/services/T000/B000/XXXX"))
            .var("MONITOR_ENDPOINTS", &format!("/,/_functions/health,{}", upstream.url("/flaky"))),
    );
    let hook = "/services/T000/B000/XXXX";

    platform.fire_cron(MONITOR);
    assert_eq!(upstream.received("/flaky").len(), 1, "the monitor probed the endpoint");
    assert!(slack.received(hook).is_empty(), "healthy endpoints raise no alert");

    upstream.answer("/flaky", 500, "boom");
    for _ in 0..3 {
        platform.fire_cron(MONITOR);
    }
    let alerts = slack.received(hook);
    assert_eq!(alerts.len(), 1, "one alert for one outage, however many runs see it: {alerts:?}");
    let text = alerts[0].json()["text"].as_str().unwrap_or_default().to_owned();
    assert!(text.contains("/flaky is DOWN: HTTP 500"), "{text}");
    assert_eq!(alerts[0].header("content-type"), Some("application/json"));

    upstream.answer("/flaky", 200, "fine");
    platform.fire_cron(MONITOR);
    platform.fire_cron(MONITOR);
    let alerts = slack.received(hook);
    assert_eq!(alerts.len(), 2, "one recovery message: {alerts:?}");
    assert!(alerts[1].json()["text"].as_str().unwrap_or_default().contains("/flaky has RECOVERED"));

    let status = platform.get("/status");
    assert_eq!(status.status, 200);
    let html = status.body;
    assert!(html.contains(&upstream.url("/flaky")), "the endpoint is listed");
    assert!(html.contains("<span class=\"pill pill-up\">up</span>"), "its current state is shown");
    assert_eq!(html.matches("class=\"bar bar-down\"").count(), 3, "three failed probes are drawn");
    assert!(html.contains("50.00%"), "3 of the 6 probes of /flaky were down");
    assert!(html.contains("/flaky is DOWN: HTTP 500") && html.contains("/flaky has RECOVERED"), "alerts are listed");
}

#[test]
fn a_slow_endpoint_alerts_as_slow() {
    let slack = FakeService::start();
    let upstream = FakeService::start();
    upstream.answer_after("/sluggish", 200, "late", Duration::from_millis(700));
    let platform = Platform::start_with(
        Options::default()
            .var("SLACK_WEBHOOK_URL", &slack.url("/hook"))
            .var("MONITOR_SLOW_MS", "300")
            .var("MONITOR_ENDPOINTS", &upstream.url("/sluggish")),
    );
    platform.fire_cron(MONITOR);
    let alerts = slack.received("/hook");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].json()["text"].as_str().unwrap_or_default().contains("is SLOW"), "{:?}", alerts[0].body);
}

#[test]
fn the_status_page_says_so_before_the_first_run_and_cleanup_runs() {
    let platform = Platform::start();
    let status = platform.get("/status");
    assert_eq!(status.status, 200);
    assert!(status.body.contains("No checks recorded yet"));
    platform.fire_cron(CLEANUP);
    platform.fire_cron(MONITOR);
    let status = platform.get("/status");
    assert!(status.body.contains("All systems operational"), "{}", status.body);
    assert!(
        status.body.contains("/_functions/stripeWebhook/health"),
        "every function's health is monitored by default"
    );
}

#[test]
fn a_failing_job_does_not_skip_the_others_and_status_shows_each_outcome() {
    // Not a site path nor a URL: the monitor job fails on its configuration.
    let platform = Platform::start_with(Options::default().var("MONITOR_ENDPOINTS", "example.com"));
    platform.fire_cron(MONITOR);

    let runs = platform.query("SELECT job, ok, message FROM job_runs ORDER BY job");
    let outcome = |job: &str| {
        let run = runs.iter().find(|r| r["job"] == job).unwrap_or_else(|| panic!("{job} did not run: {runs:?}"));
        (run["ok"].as_i64().unwrap_or(-1), run["message"].as_str().unwrap_or_default().to_owned())
    };
    let (ok, message) = outcome("monitor");
    assert_eq!(ok, 0, "{message}");
    assert!(message.contains("MONITOR_ENDPOINTS"), "the failure names the variable: {message}");
    for job in ["sales-notification", "staff-alerts", "email-delivery", "analytics-rollup"] {
        assert_eq!(outcome(job).0, 1, "{job} ran despite the monitor failing: {}", outcome(job).1);
    }
    assert_eq!(runs.len(), 5, "only the 5-minute jobs: {runs:?}");

    let lines = platform.wait_for_log_events(|l| l.iter().filter(|v| v["event"] == "cron.job").count() == 5);
    let jobs: Vec<&serde_json::Value> = lines.iter().filter(|v| v["event"] == "cron.job").collect();
    assert_eq!(jobs.len(), 5, "one log line per job: {jobs:?}");
    let monitor = jobs.iter().find(|v| v["job"] == "monitor").expect("the monitor's line");
    assert_eq!((monitor["ok"].as_bool(), monitor["level"].as_str()), (Some(false), Some("error")));
    assert_eq!(monitor["code"], "configuration_error");
    assert!(monitor["request_id"].as_str().is_some_and(|id| !id.is_empty()));

    let status = platform.get("/status");
    assert_eq!(status.status, 200);
    assert!(status.body.contains("Scheduled jobs"), "{}", status.body);
    assert!(status.body.contains(r#"<h2 id="job-monitor">Endpoint monitor</h2>"#));
    assert!(status.body.contains(r#"<span class="pill pill-down">failed</span>"#));
    assert_eq!(status.body.matches(r#"<span class="pill pill-up">ok</span>"#).count(), 4, "the other four ran");
    assert!(status.body.contains("No backup has been taken yet."));
}

#[test]
fn the_daily_jobs_back_up_to_r2_and_delete_the_superseded_page_cache() {
    let platform = Platform::start();
    assert_eq!(platform.get("/blog").header("x-cache"), Some("MISS"));
    assert_eq!(platform.get("/blog").header("x-cache"), Some("HIT"), "the page is cached in KV");
    // A content change: the cached page belongs to a superseded generation now.
    platform.query("UPDATE content_meta SET generation = generation + 1 WHERE id = 1");

    platform.fire_cron(CLEANUP);

    let runs = platform.query("SELECT job, ok, message FROM job_runs ORDER BY job");
    assert_eq!(runs.len(), 5, "{runs:?}");
    assert!(runs.iter().all(|r| r["ok"] == 1), "every daily job succeeded: {runs:?}");
    let message = |job: &str| {
        runs.iter().find(|r| r["job"] == job).and_then(|r| r["message"].as_str()).unwrap_or_default().to_owned()
    };
    assert!(message("cache-cleanup").starts_with("deleted 1 cached pages"), "{}", message("cache-cleanup"));
    assert_eq!(platform.get("/blog").header("x-cache"), Some("MISS"), "the new generation renders afresh");

    let today = fhir_iq_tests::today();
    let backups = platform.query("SELECT object_key, bytes, row_count, migration FROM backups ORDER BY object_key");
    let keys: Vec<&str> = backups.iter().filter_map(|b| b["object_key"].as_str()).collect();
    assert_eq!(keys, [format!("daily/{today}.sql"), format!("monthly/{}.sql", &today[..7])], "{backups:?}");
    assert_eq!(backups[0]["migration"], shared::backup::LATEST_MIGRATION, "the level d1_migrations records");
    assert!(backups[0]["row_count"].as_i64().unwrap_or(0) >= 5, "the demo accounts at least: {backups:?}");

    // The object itself, in the local R2 that wrangler dev persists.
    let object = r2_objects(&platform.persist_dir().join("v3/r2"))
        .into_iter()
        .find(|text| text.starts_with("-- fhir-iq r2 backup: "))
        .expect("the backup is stored in the local R2");
    let header = object.lines().next().unwrap_or_default();
    assert!(header.starts_with(&format!(
        "-- fhir-iq r2 backup: migration {}; tables: organisations,users,",
        shared::backup::LATEST_MIGRATION
    )));
    assert_eq!(object.len() as i64, backups[0]["bytes"].as_i64().unwrap_or(0));
    assert!(object.contains("INSERT INTO \"users\" (") && object.contains("'admin@demo.fhiriq.test'"));
    assert!(!object.contains("INSERT INTO \"sessions\""), "sessions are not backed up");

    let status = platform.get("/status").body;
    assert!(status.contains(&format!("<code>daily/{today}.sql</code> in R2")), "{status}");
    assert!(status.contains(r#"<span class="pill pill-up">current</span>"#));
    assert!(status.contains(">just now</time>"), "the backup's age");
}

/// Every file under the local R2 directory that reads as text.
fn r2_objects(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(r2_objects(&path));
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            out.push(text);
        }
    }
    out
}

#[test]
fn each_request_logs_one_json_line_without_query_strings_cookies_or_emails() {
    let platform = Platform::start();
    let (_, email, password) = fhir_iq_tests::DEMO[0];
    let cookie = platform.sign_in(email, password);
    let token = cookie.split('=').nth(1).unwrap_or_default().to_owned();
    platform.send_as(&cookie, "GET", "/search?q=john.doe%40example.org+smith", None);
    platform.send_as(&cookie, "GET", "/api/auth/me", None);
    platform.get("/_functions/stripeWebhook/health");
    // No Stripe key here: checkout answers 503, and the error is logged in the request's name.
    let body = serde_json::json!({"plan": "pro", "interval": "monthly"});
    assert_eq!(platform.send_as(&cookie, "POST", "/api/billing/checkout", Some(&body)).status, 503);

    let requests = |lines: &[serde_json::Value]| -> Vec<serde_json::Value> {
        lines.iter().filter(|v| v["event"] == "request").cloned().collect()
    };
    let lines = platform.wait_for_log_events(|l| {
        requests(l).iter().any(|v| v["worker"] == "stripeWebhook")
            && requests(l).iter().any(|v| v["route"] == "/search")
            && l.iter().any(|v| v["event"] == "error")
            // The error is logged inside the request, its request line after it: wait for both.
            && requests(l).iter().any(|v| v["route"] == "/api/billing/checkout")
    });
    let error = lines.iter().find(|v| v["event"] == "error").expect("the checkout's error line");
    assert_eq!((error["code"].as_str(), error["status"].as_i64()), (Some("unavailable"), Some(503)));
    let requests = requests(&lines);
    // The site's line, and the line of the worker that rendered the page (both without the query).
    let search = requests
        .iter()
        .find(|v| v["route"] == "/search" && v["worker"] == "site")
        .expect("the search's line, its query left out");
    assert!(requests.iter().any(|v| v["route"] == "/search" && v["worker"] == "renderPages"), "{requests:?}");
    let fields: Vec<&str> = search.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(fields, ["duration_ms", "event", "level", "method", "request_id", "route", "status", "worker"]);
    assert_eq!((search["worker"].as_str(), search["method"].as_str()), (Some("site"), Some("GET")));
    assert!(search["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    let me = requests.iter().find(|v| v["route"] == "/api/auth/me").expect("the account's line");
    assert_eq!(me["status"], 200);
    let signin = requests.iter().find(|v| v["route"] == "/api/auth/signin").expect("the sign-in's line");
    assert_eq!((signin["method"].as_str(), signin["status"].as_i64()), (Some("POST"), Some(200)));
    let checkout = requests.iter().find(|v| v["route"] == "/api/billing/checkout").expect("the checkout's line");
    assert_eq!((checkout["status"].as_i64(), checkout["level"].as_str()), (Some(503), Some("error")));
    assert_eq!(error["request_id"], checkout["request_id"], "the error carries its request's id");
    let function = requests.iter().find(|v| v["worker"] == "stripeWebhook").expect("the function's own line");
    assert_eq!(function["route"], "/_functions/stripeWebhook/health");

    for line in &lines {
        let text = line.to_string();
        for secret in [token.as_str(), email, password, "john", "example.org", "fhiriq_session"] {
            assert!(!text.contains(secret), "{secret:?} was logged: {text}");
        }
        assert!(!line["route"].as_str().unwrap_or_default().contains('?'), "{text}");
    }
}
