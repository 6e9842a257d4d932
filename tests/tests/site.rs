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
        ("/fonts/inter-latin-wght-normal.woff2", "font/woff2"),
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

/// The fingerprinted URLs a page links to (`/assets/...`), in the order they appear.
fn fingerprinted_links(html: &str) -> Vec<String> {
    html.split(['"', '\'']).filter(|part| part.starts_with("/assets/")).map(str::to_owned).collect()
}

#[test]
fn static_files_are_served_without_the_worker_and_fingerprinted_ones_cached_for_a_year() {
    let platform = Platform::start();
    let home = platform.get("/");
    let links = fingerprinted_links(&home.body);
    for kind in ["/assets/css/main.", "/assets/js/app.", "/assets/fonts/inter-", "/assets/favicon."] {
        assert!(links.iter().any(|l| l.starts_with(kind)), "the home page links to {kind}*: {links:?}");
    }
    assert!(!home.body.contains("\"/css/main.css\""), "pages link only to fingerprinted files");
    // HTML is revalidated on every visit; a fingerprinted file is never revalidated.
    assert!(
        home.header("cache-control").is_none_or(|c| !c.contains("immutable")),
        "{:?}",
        home.header("cache-control")
    );
    for link in &links {
        let reply = platform.get(link);
        assert_eq!(reply.status, 200, "{link}");
        assert_eq!(reply.header("cache-control"), Some("public, max-age=31536000, immutable"), "{link}");
        assert_secured(link, &reply);
    }
    // The stylesheet's own references are fingerprinted too.
    let css = links.iter().find(|l| l.starts_with("/assets/css/main.")).expect("a stylesheet");
    let stylesheet = platform.get(css).body;
    assert!(stylesheet.contains("url(\"/assets/fonts/inter-"), "{}", &stylesheet[..300.min(stylesheet.len())]);
    // The unversioned source stays available, revalidated.
    let source = platform.get("/css/main.css");
    assert_eq!(source.status, 200);
    assert!(
        source.header("cache-control").is_some_and(|c| c.contains("max-age=0")),
        "{:?}",
        source.header("cache-control")
    );
    // A static folder's miss is the 404 page with a 404 status; the headers file itself is not served.
    for missing in ["/assets/css/main.0000000000.css", "/css/missing.css", "/_headers"] {
        let reply = platform.get(missing);
        assert_eq!(reply.status, 404, "{missing}");
        assert!(reply.body.contains("We could not find that page"), "{missing}");
        assert_secured(missing, &reply);
    }
    // None of those static requests started the site worker: it logged the pages, not the files.
    platform.get("/about");
    let events = platform.wait_for_log_events(|l| l.iter().any(|v| v["route"] == "/about"));
    let routes: Vec<&str> =
        events.iter().filter(|v| v["event"] == "request").filter_map(|v| v["route"].as_str()).collect();
    assert!(routes.contains(&"/about") && routes.contains(&"/"), "the pages were logged: {routes:?}");
    for file in links.iter().map(String::as_str).chain(["/css/main.css", "/css/missing.css"]) {
        assert!(!routes.contains(&file), "{file} started the worker: {routes:?}");
    }
}

#[test]
fn a_signed_in_visitors_pages_name_them_without_an_api_call() {
    let platform = Platform::start();
    let anonymous = platform.get("/about");
    assert!(anonymous.body.contains(r#"<a href="/signin" id="nav-account""#));
    // A browser keys its copy of every page by the cookie: signing in never shows the signed-out copy.
    assert_eq!(anonymous.header("vary"), Some("cookie"));
    assert_eq!(platform.get("/blog").header("vary"), Some("cookie"), "a content page cached for minutes too");
    assert!(!anonymous.body.contains("fhiriq-analytics"), "no analytics configuration unless an operator sets one");
    let cookie = platform.sign_in(DEMO[2].1, DEMO[2].2);
    // A static page, a rendered one and a cached content page: each names the visitor, privately.
    for path in ["/about", "/pricing", "/courses", "/status"] {
        let page = platform.send_as(&cookie, "GET", path, None);
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.body.contains(&format!(
                r#"<a href="/account" id="nav-account" class="button button-small" title="{}""#,
                DEMO[2].1
            )),
            "{path}"
        );
        assert!(!page.body.contains(r#"href="/signin" id="nav-account""#), "{path}");
        // Private once it names the visitor; a page never to be stored (/status) stays so.
        let expected = if path == "/status" { "private, no-store" } else { "private, no-cache" };
        assert_eq!(page.header("cache-control"), Some(expected), "{path}");
        assert!(page.header("etag").is_none(), "{path}: a personalized page has no shared validator");
        assert_secured(path, &page);
    }
    // A browser that kept the signed-out copy asks "modified since?": it gets the personalized page.
    let etag = anonymous.header("etag").expect("a static page has an ETag").to_owned();
    let revalidated =
        platform.send("GET", "/about", &[("cookie", cookie.as_str()), ("if-none-match", etag.as_str())], None);
    assert_eq!(revalidated.status, 200);
    assert!(revalidated.body.contains(">Account</a>"));

    // When D1 cannot say who the visitor is, a public page is still served (as to a visitor), while
    // a page that needs the caller answers the error.
    platform.query("ALTER TABLE sessions RENAME TO sessions_away");
    let public = platform.send_as(&cookie, "GET", "/about", None);
    let account = platform.send_as(&cookie, "GET", "/account", None);
    platform.query("ALTER TABLE sessions_away RENAME TO sessions");
    assert_eq!(public.status, 200, "{}", public.body);
    assert!(public.body.contains(r#"href="/signin" id="nav-account""#));
    assert!(account.status >= 500, "{}: {}", account.status, account.body);
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
