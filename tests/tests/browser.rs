//! The browser test: real Chromium loads the pages with no console errors, no failed request and no
//! request leaving 127.0.0.1; screenshots are kept in target/artifacts.

use fhir_iq_tests::{Options, Platform, root};
use std::process::Command;

#[test]
fn pages_load_cleanly_in_chromium() {
    // The knowledge base is loaded so the assistant has passages to cite.
    let platform = Platform::start_with(Options { knowledge: true, ..Options::default() });
    platform.fire_cron("*/5 * * * *"); // so /status has a chart to draw
    let artifacts = root().join("target/artifacts");
    let output = Command::new("node")
        .arg("tests/browser/pages.mjs")
        .current_dir(root())
        .env("BASE_URL", &platform.base)
        .env("ARTIFACT_DIR", &artifacts)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(artifacts.join("home.png").exists(), "the screenshot is kept");
}
