//! `GET /_functions/health` against real local D1 and KV under wrangler dev.

use fhir_iq_tests::{Options, Platform};

#[test]
fn health_is_ok_when_d1_and_kv_answer() {
    let platform = Platform::start();
    let reply = platform.get("/_functions/health");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["time"].as_str().is_some_and(|t| t.ends_with('Z') && t.len() == 24), "{body}");
    for check in ["d1", "kv"] {
        assert_eq!(body["checks"][check]["ok"], true, "{body}");
        assert!(body["checks"][check]["latency_ms"].is_u64(), "{body}");
    }
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

#[test]
fn health_is_down_with_503_when_d1_is_unusable() {
    // A D1 without the schema answers queries but cannot serve the platform.
    let platform = Platform::start_with(Options { schema: false, ..Options::default() });
    let reply = platform.get("/_functions/health");
    assert_eq!(reply.status, 503, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["status"], "down");
    assert_eq!(body["checks"]["d1"]["ok"], false);
    assert!(body["checks"]["d1"]["error"].as_str().is_some_and(|e| e.contains("schema_version")), "{body}");
    assert_eq!(body["checks"]["kv"]["ok"], true, "KV is independent of D1: {body}");
}

#[test]
fn health_rejects_other_methods_with_405() {
    let platform = Platform::start();
    let reply = platform.request("DELETE", "/_functions/health");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.json()["error"]["code"], "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
}
