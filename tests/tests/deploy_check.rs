//! `make deploy-check` as one test: the deploy dry run of both environments and the deploy against a
//! fake account (tests/deploy/test_deploy.py). `make test` runs it inside its one test run, beside
//! the integration tests, instead of alone before them; the target stays the one definition of it.

use fhir_iq_tests::root;
use std::process::Command;

#[test]
fn make_deploy_check_passes() {
    let output = Command::new("make")
        .args(["--no-print-directory", "deploy-check"])
        .current_dir(root())
        // A fresh make, not a child of the make running the tests (its jobserver is not ours).
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .output()
        .expect("make runs");
    assert!(
        output.status.success(),
        "make deploy-check failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
