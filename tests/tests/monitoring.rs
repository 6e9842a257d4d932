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
