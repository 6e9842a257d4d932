//! Issue 15, item 11: identity between workers. Function workers used to take the caller from
//! `x-fhiriq-*` headers on trust; now the site signs the caller (HMAC-SHA256 with INTERNAL_SIGNING_KEY
//! over the caller, method, path and a timestamp, `shared::auth::internal`) and each function checks
//! the signature and its age, then authorizes the caller against its route as the site does (issue
//! 16). These tests attack a function worker started on its own, as anything that reached it without
//! the site would, and check production's session cookie name. A deliberate panic shows in the log.

use fhir_iq_tests::{DEMO, LoneFunction, Options, Platform, Reply, now_seconds};
use shared::auth::Caller;
use shared::auth::Role;
use shared::auth::internal::{self, DEVELOPMENT_KEY, SigningKeys, Target};

const ASK: &str = "/_functions/processAIQuery";
/// A key of the length production requires, for the tests that run as production.
const PRODUCTION_KEY: &str = "test-internal-signing-key-0123456789abcdef";

/// The headers the site would send for `caller` on `method path`, signed with `key` at `at`.
fn signed(key: &str, method: &str, path: &str, caller: &Caller, at: i64) -> Vec<(&'static str, String)> {
    SigningKeys::new(key, None).sign(Target { method, path_and_query: path }, Some(caller), at)
}

fn caller(role: Role, admin: bool) -> Caller {
    Caller {
        user_id: "u-anyone".into(),
        email: "anyone@example.com".into(),
        role,
        admin,
        org_id: None,
        org_owner: false,
        verified: true,
    }
}

fn as_refs<'a>(headers: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    headers.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

fn assert_refused(reply: &Reply, attack: &str) {
    assert_eq!(reply.status, 401, "{attack}: {}", reply.body);
    assert_eq!(reply.json()["error"]["code"], "unauthorized", "{attack}");
}

#[test]
fn a_function_worker_reached_directly_answers_only_requests_the_site_signed() {
    let lone = LoneFunction::start("processAIQuery", &[]);
    let attacker = caller(Role::Enterprise, true);
    let post = |headers: &[(&'static str, String)]| lone.send("POST", ASK, &as_refs(headers), Some("not json"));

    // Liveness too: a function answers nothing the site did not send.
    assert_refused(&lone.send("GET", "/_functions/processAIQuery/health", &[], None), "unsigned liveness");
    // The attack before the fix: claim any user, plan and staff flag in a header.
    let forged = vec![(internal::CALLER, internal::encode(&attacker))];
    assert_refused(&post(&forged), "forged identity headers without a signature");
    let now = now_seconds();
    let other_key = "an-attackers-guess-at-the-key-0123456789abcdef";
    assert_refused(&post(&signed(other_key, "POST", ASK, &attacker, now)), "signed with another key");
    assert_refused(&post(&signed(DEVELOPMENT_KEY, "POST", ASK, &attacker, now - 120)), "a stale signature");
    assert_refused(&post(&signed(DEVELOPMENT_KEY, "POST", ASK, &attacker, now + 120)), "a signature from the future");
    let elsewhere = signed(DEVELOPMENT_KEY, "POST", "/_functions/createGitHubRepo", &attacker, now);
    assert_refused(&post(&elsewhere), "a signature replayed to another path");
    let as_free = caller(Role::Free, false);
    let mut promoted = signed(DEVELOPMENT_KEY, "POST", ASK, &as_free, now);
    let enterprise = internal::encode(&caller(Role::Enterprise, false));
    promoted.iter_mut().filter(|(n, _)| *n == internal::CALLER).for_each(|(_, v)| *v = enterprise.clone());
    assert_refused(&post(&promoted), "a signed free caller's role changed to enterprise");

    // The control: the same request signed as the site signs it (the development key, as `make dev`
    // runs) passes the check and fails only on its body.
    let genuine = post(&signed(DEVELOPMENT_KEY, "POST", ASK, &as_free, now));
    assert_eq!(genuine.status, 400, "{}", genuine.body);
    assert_eq!(genuine.json()["error"]["code"], "bad_request");
    let anonymous = SigningKeys::new(DEVELOPMENT_KEY, None).sign(
        Target { method: "GET", path_and_query: "/_functions/processAIQuery/health" },
        None,
        now,
    );
    let live = lone.send("GET", "/_functions/processAIQuery/health", &as_refs(&anonymous), None);
    assert_eq!(live.status, 200, "{}", live.body);
}

#[test]
fn a_function_authorizes_the_signed_caller_against_its_own_route() {
    let lone = LoneFunction::start("createVectorEmbedding", &[]);
    let path = "/_functions/createVectorEmbedding";
    let post =
        |headers: &[(&'static str, String)]| lone.send("POST", path, &as_refs(headers), Some(r#"{"items": []}"#));
    let now = now_seconds();
    let member = caller(Role::Enterprise, false);
    let reply = post(&signed(DEVELOPMENT_KEY, "POST", path, &member, now));
    assert_eq!(reply.status, 403, "a signed non-staff caller: {}", reply.body);
    assert_eq!(reply.json()["error"]["code"], "forbidden");
    let anonymous =
        SigningKeys::new(DEVELOPMENT_KEY, None).sign(Target { method: "POST", path_and_query: path }, None, now);
    let reply = post(&anonymous);
    assert_eq!(reply.status, 401, "a signed-out caller: {}", reply.body);
    // Staff pass the check and reach the handler, which refuses the empty list of items.
    let reply = post(&signed(DEVELOPMENT_KEY, "POST", path, &caller(Role::Free, true), now));
    assert_eq!(reply.status, 400, "staff are authorized and reach the handler: {}", reply.body);
    assert!(reply.body.contains("items is empty"), "{}", reply.body);
}

#[test]
fn a_panic_in_a_worker_logs_its_message_and_location_and_the_next_request_is_served() {
    let lone = LoneFunction::start("githubWebhook", &[("PANIC_PROBE", "1")]);
    let now = now_seconds();
    let probe = "/_functions/githubWebhook/panic";
    let headers =
        SigningKeys::new(DEVELOPMENT_KEY, None).sign(Target { method: "GET", path_and_query: probe }, None, now);
    let reply = lone.send("GET", probe, &as_refs(&headers), None);
    assert!(reply.status >= 500 || reply.status == 0, "a panic is never a success: {} {}", reply.status, reply.body);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let logged = loop {
        let log = lone.log();
        if log.contains("the deliberate panic of githubWebhook's probe") || std::time::Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(logged.contains("the deliberate panic of githubWebhook's probe"), "the message is logged:\n{logged}");
    assert!(logged.contains("function.rs:"), "the location (file:line) is logged:\n{logged}");
    // The isolate recovers: the next signed request is answered.
    let health = "/_functions/githubWebhook/health";
    let headers = SigningKeys::new(DEVELOPMENT_KEY, None).sign(
        Target { method: "GET", path_and_query: health },
        None,
        now_seconds(),
    );
    let live = lone.send("GET", health, &as_refs(&headers), None);
    assert_eq!(live.status, 200, "{}", live.body);
}

#[test]
fn in_production_a_missing_signing_key_is_a_clear_503_never_an_unsigned_call() {
    let platform = Platform::start_with(Options::default().var("ENVIRONMENT", "production"));
    let reply = platform.get("/_functions/health");
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.json()["error"]["code"], "unavailable");
    let message = reply.json()["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("INTERNAL_SIGNING_KEY"), "{message}");
}

#[test]
fn in_production_the_session_cookie_is_host_prefixed_and_the_plain_name_signs_no_one_in() {
    let platform = Platform::start_with(
        Options::default().var("ENVIRONMENT", "production").var("INTERNAL_SIGNING_KEY", PRODUCTION_KEY),
    );
    // Every worker shares the configured key: the site's signed calls are answered.
    let health = platform.get("/_functions/stripeWebhook/health");
    assert_eq!(health.status, 200, "{}", health.body);

    let (_, email, password) = DEMO[2];
    let origin = platform.base.clone();
    let reply = platform.send(
        "POST",
        "/api/auth/signin",
        &[("origin", &origin)],
        Some(&serde_json::json!({"email": email, "password": password})),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let set_cookie = reply.header("set-cookie").unwrap_or_default().to_owned();
    let pair = set_cookie.split(';').next().unwrap_or_default().trim().to_owned();
    assert!(pair.starts_with("__Host-fhiriq_session="), "{set_cookie}");
    // What browsers require before they keep a __Host- cookie.
    assert!(set_cookie.contains("; Secure") && set_cookie.contains("; Path=/;"), "{set_cookie}");
    assert!(!set_cookie.to_ascii_lowercase().contains("domain="), "{set_cookie}");

    let me = platform.send("GET", "/api/auth/me", &[("cookie", &pair)], None);
    assert_eq!(me.status, 200, "{}", me.body);
    // The same token under the plain name, as a cookie tossed from a sibling subdomain or plain http
    // would arrive: production does not read it.
    let token = pair.trim_start_matches("__Host-fhiriq_session=");
    let tossed = platform.send("GET", "/api/auth/me", &[("cookie", &format!("fhiriq_session={token}"))], None);
    assert_eq!(tossed.status, 401, "{}", tossed.body);
}

/// No function worker has a public address of its own in any environment: no `workers.dev` URL, no
/// preview URLs, no route. Only the site's service bindings reach them (the signature is the second
/// lock; this is the first).
#[test]
fn no_function_worker_has_a_public_address_in_any_environment() {
    let functions = fhir_iq_tests::root().join("functions");
    let mut checked = 0;
    for entry in std::fs::read_dir(&functions).expect("functions/").filter_map(|e| e.ok()) {
        let path = entry.path().join("wrangler.toml");
        if entry.file_name() == "site" || !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("reads the config");
        let config: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let envs = config.get("env").and_then(|e| e.as_table()).cloned().unwrap_or_default();
        let mut sections = vec![("top level".to_owned(), config.clone())];
        for name in ["staging", "production"] {
            let section = envs.get(name).and_then(|s| s.as_table()).cloned();
            sections.push((name.to_owned(), section.unwrap_or_else(|| panic!("{}: no [env.{name}]", path.display()))));
        }
        for (name, section) in sections {
            let where_ = format!("{} ({name})", path.display());
            assert_eq!(section.get("workers_dev").and_then(|v| v.as_bool()), Some(false), "{where_}: workers_dev");
            assert_eq!(section.get("preview_urls").and_then(|v| v.as_bool()), Some(false), "{where_}: preview_urls");
            assert!(section.get("routes").is_none() && section.get("route").is_none(), "{where_}: a route");
            checked += 1;
        }
    }
    assert_eq!(checked, 10 * 3, "ten function workers, three environments each");
}
