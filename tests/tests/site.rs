//! The site worker: static pages, the 404 page, security headers on every response, and the routing
//! of /_functions/<name> to function workers.

use fhir_iq_tests::{DEMO, Platform, Reply};

fn assert_secured(path: &str, reply: &Reply) {
    let csp = reply.header("content-security-policy").unwrap_or_else(|| panic!("{path}: no CSP"));
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{path}");
    assert_eq!(reply.header("referrer-policy"), Some("strict-origin-when-cross-origin"), "{path}");
    assert!(reply.header("strict-transport-security").is_some_and(|v| v.contains("max-age=")), "{path}");
}

#[test]
fn pages_assets_and_errors_are_served_with_security_headers() {
    let platform = Platform::start();
    for (path, marker) in [("/", "Learn FHIR. Build on FHIR."), ("/about", "About FHIR IQ"), ("/pricing", "Enterprise")]
    {
        let reply = platform.get(path);
        assert_eq!(reply.status, 200, "{path}");
        assert!(reply.header("content-type").is_some_and(|v| v.starts_with("text/html")), "{path}");
        assert!(reply.body.contains(marker), "{path} lacks {marker:?}");
        assert_secured(path, &reply);
    }
    for (path, kind) in [
        ("/css/main.css", "text/css"),
        ("/fonts/inter-latin-400-normal.woff2", "font/woff2"),
        ("/favicon.svg", "image/svg+xml"),
    ] {
        let reply = platform.get(path);
        assert_eq!(reply.status, 200, "{path}");
        assert!(
            reply.header("content-type").is_some_and(|v| v.starts_with(kind)),
            "{path}: {:?}",
            reply.header("content-type")
        );
        assert_secured(path, &reply);
    }
    let missing = platform.get("/no/such/page");
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("We could not find that page"));
    assert_secured("/no/such/page", &missing);
}

#[test]
fn every_function_answers_liveness_and_unknown_functions_are_404() {
    let platform = Platform::start();
    for name in [
        "processAIQuery",
        "createVectorEmbedding",
        "stripeWebhook",
        "createGitHubRepo",
        "githubWebhook",
        "calendlyWebhook",
    ] {
        let live = platform.get(&format!("/_functions/{name}/health"));
        assert_eq!(live.status, 200, "{name}/health");
        assert_eq!(live.json()["function"], name);
        assert_secured(&format!("/_functions/{name}/health"), &live);
    }
    // Built but not configured here: a clear 503 in the standard shape, never a crash.
    let enterprise = platform.sign_in(DEMO[3].1, DEMO[3].2);
    let generation = platform.send_as(
        &enterprise,
        "POST",
        "/api/builder/generate",
        Some(&serde_json::json!({"useCase": "patient-portal", "implementation": {"language": "python"}})),
    );
    assert_eq!(generation.status, 201, "{}", generation.body);
    let body = serde_json::json!({"repoName": "x", "generationId": generation.json()["generationId"]});
    let unconfigured = platform.send_as(&enterprise, "POST", "/_functions/createGitHubRepo", Some(&body));
    assert_eq!(unconfigured.status, 503, "{}", unconfigured.body);
    assert!(unconfigured.json()["error"]["message"].as_str().is_some_and(|m| m.contains("GITHUB_APP_ID")));
    let unknown = platform.get("/_functions/doesNotExist");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"]["code"], "not_found");
}
