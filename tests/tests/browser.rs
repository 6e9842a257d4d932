//! The browser test: real Chromium loads the pages with no console errors, no failed request and no
//! request leaving 127.0.0.1; an account is created, asks the assistant, upgrades through a fake
//! Stripe Checkout, and walks the FHIR Builder to a ZIP and a push to a fake GitHub; a student enrols,
//! completes a lesson and takes a quiz; the enterprise owner reads the analytics dashboard; with GA4
//! and PostHog configured, nothing of theirs loads before consent, and no analytics sees a reset token;
//! a support request is answered from the staff inbox and read in its thread; screenshots are kept in
//! target/artifacts.

use fhir_iq_tests::github::FakeGitHub;
use fhir_iq_tests::stripe::FakeStripe;
use fhir_iq_tests::{Options, Platform, root};
use std::process::Command;

#[test]
fn pages_load_cleanly_in_chromium() {
    // The knowledge base is loaded so the assistant has passages to cite.
    // A fake Stripe, so the upgrade flow can go through checkout and back.
    let stripe = FakeStripe::start();
    let fake_github = FakeGitHub::start();
    let platform = Platform::start_with(Options {
        knowledge: true,
        content: true,
        ..Options::default().stripe(&stripe, "whsec_browser").github_app(&fake_github)
    });
    platform.fire_cron("*/5 * * * *"); // so /status has a chart to draw
    let artifacts = root().join("target/artifacts");
    let output = Command::new("node")
        .arg("tests/browser/pages.mjs")
        .current_dir(root())
        .env("BASE_URL", &platform.base)
        .env("STRIPE_URL", stripe.url())
        .env("GITHUB_URL", fake_github.url())
        .env("ARTIFACT_DIR", &artifacts)
        // Where the platform prints its email (no provider configured): the verification link.
        .env("PLATFORM_LOG", platform.log_path())
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "browser test failed:\n{}\n{}\nstored browser events: {:?}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        platform.query("SELECT event_type, user_id, page FROM analytics_events ORDER BY id DESC LIMIT 8")
    );
    assert!(artifacts.join("home.png").exists(), "the screenshot is kept");
}

#[test]
fn third_party_analytics_wait_for_consent() {
    let platform = Platform::start_with(
        Options::default().var("GA4_MEASUREMENT_ID", "G-CONSENT1").var("POSTHOG_KEY", "phc_consenttestprojectkey"),
    );
    let config = platform.get("/api/analytics/config").json();
    assert_eq!(config["ga4"], "G-CONSENT1");
    run_script("consent.mjs", &platform, &[]);
}

#[test]
fn signing_in_never_redirects_off_the_site() {
    let platform = Platform::start_with(Options { content: true, ..Options::default() });
    run_script(
        "redirect.mjs",
        &platform,
        &[("EMAIL", fhir_iq_tests::DEMO[1].1), ("PASSWORD", fhir_iq_tests::DEMO[1].2)],
    );
}

/// Issue 15, item 8: GA4, PostHog and the first-party events never see a secret query parameter, in
/// the page address or in the next page's referrer (tests/browser/analytics-secrets.mjs).
#[test]
fn third_party_analytics_never_see_a_reset_token() {
    let platform = Platform::start_with(
        Options::default().var("GA4_MEASUREMENT_ID", "G-SECRETS1").var("POSTHOG_KEY", "phc_secretstestprojectkey"),
    );
    run_script("analytics-secrets.mjs", &platform, &[]);
    platform.wait_for_count("SELECT COUNT(*) AS n FROM analytics_events WHERE page = '/reset'", 1);
    let stored = serde_json::to_string(&platform.query("SELECT page, referrer, properties FROM analytics_events"))
        .expect("json");
    assert!(stored.contains("/reset") && !stored.contains("5ec2e7c0ffee6f1c"), "{stored}");
}

/// Issue 19: a Pro member opens a request at /support, staff answer it from /admin/support, and the
/// member reads the answer and replies (tests/browser/support.mjs).
#[test]
fn a_support_request_is_answered_from_the_inbox_and_read_in_the_thread() {
    let platform = Platform::start();
    let artifacts = root().join("target/artifacts").to_string_lossy().into_owned();
    let demo = fhir_iq_tests::DEMO;
    run_script(
        "support.mjs",
        &platform,
        &[
            ("PRO_EMAIL", demo[2].1),
            ("PRO_PASSWORD", demo[2].2),
            ("ADMIN_EMAIL", demo[4].1),
            ("ADMIN_PASSWORD", demo[4].2),
            ("ARTIFACT_DIR", &artifacts),
        ],
    );
    let answered = "SELECT COUNT(*) AS n FROM support_messages WHERE author = 'staff'";
    assert_eq!(platform.count(answered), 1, "the staff answer was stored");
    assert_eq!(platform.count("SELECT COUNT(*) AS n FROM support_messages WHERE author = 'user'"), 2);
}

/// Runs `tests/browser/<script>` against `platform` with `env` on top of `BASE_URL`; fails the test
/// with the script's output when it fails.
fn run_script(script: &str, platform: &Platform, env: &[(&str, &str)]) {
    let output = Command::new("node")
        .arg(format!("tests/browser/{script}"))
        .current_dir(root())
        .env("BASE_URL", &platform.base)
        .envs(env.iter().copied())
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "{script} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
