//! Identity between workers. The site worker is the only public origin: it authenticates the caller
//! from the session cookie and passes the caller on to a function worker over a service binding, in
//! `x-fhiriq-*` headers: the same [`Caller`] the site authorized, so a function worker checks it with
//! the same `roles::authorize` and the route's declared access. A function worker must not take those
//! headers on trust (anything else that reaches it, a misconfigured route, another worker of the
//! account bound to it, could send them), so the site signs them: HMAC-SHA256, keyed with the per-environment secret `INTERNAL_SIGNING_KEY`,
//! over the caller, the method, the path with its query and a timestamp. The function checks the
//! signature in constant time and refuses it (401) when it fails or is older (or newer) than
//! [`FRESHNESS_SECONDS`].
//!
//! Every request the site forwards is signed, a signed-out caller's too (with no caller header), so
//! a function answers nothing that did not come from the site.
//!
//! Version 1 of the scheme (user id, role and staff flag in three headers) is still accepted, for
//! one release: a deploy updates the function workers before the site, and the old site keeps
//! signing v1 until it is replaced. A v1 caller is read with no email and as verified (the old site
//! had checked that already); nothing else is accepted without a v2 signature. Remove after the
//! release that introduced v2 is everywhere (docs/operations.md).
//!
//! Without the secret, production refuses to sign or verify (503, naming the secret). Development
//! (`ENVIRONMENT=development`, `make dev` and the tests) uses [`DEVELOPMENT_KEY`], a published
//! constant: every worker must agree on the key across isolates, so a random per-isolate key cannot
//! work, and a local platform has nothing to protect from its own developer. Production refuses that
//! constant even when it is set explicitly.
//!
//! What the signature does not cover, knowingly: the body (it streams through unread; an attacker
//! who could capture a signed request inside Cloudflare's service-binding transport could replay it
//! with another body to the same method and path within the window).

use crate::auth::{Caller, Role};
use crate::config::{EnvSource, Environment, Secret, environment, optional_secret};
use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The secret every worker shares: the site signs with it, the functions verify with it.
pub const KEY: &str = "INTERNAL_SIGNING_KEY";
/// During a rotation, the function workers also accept signatures made with this one (the old key).
pub const PREVIOUS_KEY: &str = "INTERNAL_SIGNING_KEY_PREVIOUS";
/// The key of development and the tests when `INTERNAL_SIGNING_KEY` is not set. Public by design:
/// refused in production.
pub const DEVELOPMENT_KEY: &str = "fhiriq-development-internal-signing-key-not-a-secret";
/// A configured key shorter than this is refused (`openssl rand -hex 32` gives 64 characters).
pub const MIN_KEY_CHARS: usize = 32;
/// How far a signature's timestamp may be from the function's clock, either way. Both workers run on
/// Cloudflare's synchronised clocks, and the site signs just before the call.
pub const FRESHNESS_SECONDS: i64 = 60;

/// Every header the site sets starts with this; the site drops any a client sent.
pub const HEADER_PREFIX: &str = "x-fhiriq-";
/// The caller: base64url (no padding) of the [`Caller`]'s JSON, absent for a signed-out caller.
pub const CALLER: &str = "x-fhiriq-caller";
/// Version 1's identity headers (accepted for one release; see the module).
pub const V1_USER_ID: &str = "x-fhiriq-user-id";
pub const V1_ROLE: &str = "x-fhiriq-role";
pub const V1_ADMIN: &str = "x-fhiriq-admin";
pub const TIMESTAMP: &str = "x-fhiriq-timestamp";
pub const SIGNATURE: &str = "x-fhiriq-signature";

/// What the request is: its method and its path with the query (`/_functions/x?a=1`).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
}

/// The `x-fhiriq-*` headers as they arrived, unparsed: the signature covers exactly these strings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Presented<'a> {
    pub caller: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
    /// Version 1's identity headers, read only when the signature is a v1 one.
    pub v1: V1<'a>,
}

/// Version 1's identity headers as they arrived.
#[derive(Debug, Clone, Copy, Default)]
pub struct V1<'a> {
    pub user_id: Option<&'a str>,
    pub role: Option<&'a str>,
    pub admin: Option<&'a str>,
}

/// The headers to set on a forwarded request: (name, value), the identity's (when signed in), the
/// timestamp and the signature.
pub type Headers = Vec<(&'static str, String)>;

/// The keys of this environment.
#[derive(Clone)]
pub struct SigningKeys {
    current: Secret,
    previous: Option<Secret>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKeys([redacted])")
    }
}

impl SigningKeys {
    /// `INTERNAL_SIGNING_KEY` (and `INTERNAL_SIGNING_KEY_PREVIOUS`), or in development without it the
    /// published development key. A missing or unusable key in production is a 503 naming the secret.
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        let production = environment(env)? == Environment::Production;
        let usable = |name: &str, key: Secret| -> Result<Secret> {
            if key.expose().trim().chars().count() < MIN_KEY_CHARS {
                return Err(Error::Unavailable(format!(
                    "Calls between workers are not configured: {name} must be at least {MIN_KEY_CHARS} characters."
                )));
            }
            if production && key.expose().trim() == DEVELOPMENT_KEY {
                return Err(Error::Unavailable(format!(
                    "Calls between workers are not configured: {name} is the published development key."
                )));
            }
            Ok(Secret::new(key.expose().trim()))
        };
        let current = match optional_secret(env, KEY) {
            Some(key) => usable(KEY, key)?,
            None if production => {
                return Err(Error::Unavailable(format!(
                    "Calls between workers are not configured: the secret {KEY} is not set."
                )));
            }
            None => Secret::new(DEVELOPMENT_KEY),
        };
        let previous = optional_secret(env, PREVIOUS_KEY).map(|key| usable(PREVIOUS_KEY, key)).transpose()?;
        Ok(Self { current, previous })
    }

    /// Keys given directly (tests, and a test client signing as the site would).
    pub fn new(current: &str, previous: Option<&str>) -> Self {
        Self { current: Secret::new(current), previous: previous.map(Secret::new) }
    }

    /// The headers that carry `caller` (or none: a signed-out caller) to a function worker, signed
    /// for `target` at `now_seconds`.
    pub fn sign(&self, target: Target<'_>, caller: Option<&Caller>, now_seconds: i64) -> Headers {
        let timestamp = now_seconds.to_string();
        let caller = caller.map(encode);
        let presented = Presented { caller: caller.as_deref(), timestamp: Some(&timestamp), ..Presented::default() };
        let signature = hex::encode(mac(&self.current, &canonical(target, &presented)).finalize().into_bytes());
        let mut headers = Headers::new();
        if let Some(caller) = caller {
            headers.push((CALLER, caller));
        }
        headers.push((TIMESTAMP, timestamp));
        headers.push((SIGNATURE, signature));
        headers
    }

    /// The caller the site signed for this request (`None`: a signed-out caller), or 401 when the
    /// signature is missing, does not match any key, or is outside the freshness window, or the
    /// signed caller is not one (an unknown role, no user id).
    pub fn verify(&self, target: Target<'_>, presented: &Presented<'_>, now_seconds: i64) -> Result<Option<Caller>> {
        let refuse = || Error::Unauthorized("This function answers only requests signed by the site.".into());
        let signature = presented.signature.and_then(|s| hex::decode(s.trim()).ok()).ok_or_else(refuse)?;
        let timestamp = presented.timestamp.and_then(|t| t.parse::<i64>().ok()).ok_or_else(refuse)?;
        // verify_slice compares in constant time.
        let genuine = |message: &[u8]| {
            std::iter::once(&self.current)
                .chain(self.previous.as_ref())
                .any(|key| mac(key, message).verify_slice(&signature).is_ok())
        };
        let version = if genuine(&canonical(target, presented)) {
            2
        } else if genuine(&canonical_v1(target, presented)) {
            1
        } else {
            return Err(refuse());
        };
        // Saturating: the timestamp is any i64 a caller wrote (only a genuine one gets this far).
        if now_seconds.saturating_sub(timestamp).saturating_abs() > FRESHNESS_SECONDS {
            return Err(refuse());
        }
        if version == 2 {
            return presented.caller.map(|text| decode(text).ok_or_else(refuse)).transpose();
        }
        // Version 1 does not sign the caller header: one next to a v1 signature is a forgery.
        match (presented.caller, presented.v1.user_id, presented.v1.role, presented.v1.admin) {
            (None, None, None, None) => Ok(None),
            (None, Some(user_id), Some(role), Some(admin)) if !user_id.is_empty() => {
                let role = Role::parse(role).ok_or_else(refuse)?;
                Ok(Some(Caller {
                    user_id: user_id.to_owned(),
                    email: String::new(),
                    role,
                    admin: admin == "1",
                    org_id: None,
                    org_owner: false,
                    verified: true,
                }))
            }
            _ => Err(refuse()),
        }
    }
}

/// The header value that carries `caller`.
pub fn encode(caller: &Caller) -> String {
    // Serializing a struct of strings, an enum and booleans cannot fail; were it to, the empty value
    // would be refused by the function, never read as someone.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(caller).unwrap_or_default())
}

/// The caller in a header value, when it is one: valid base64url of a `Caller`'s JSON with a user id.
fn decode(text: &str) -> Option<Caller> {
    let json = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
    serde_json::from_slice::<Caller>(&json).ok().filter(|caller| !caller.user_id.is_empty())
}

/// `/path?query` of a serialized absolute URL (`https://host/path?query`), what the signature covers.
/// Read from the string rather than parsed: the url crate's tables would add some 200 KB to every
/// function worker, and the WHATWG serialization both workers see always has a `/` after the host.
pub fn path_and_query(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    let from_path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    from_path.split('#').next().unwrap_or("/")
}

fn mac(key: &Secret, message: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac
}

/// The signed message: a version tag, then each field as `<length>:<value>` and a newline, so no two
/// different requests can give the same message. An absent caller header is distinct from an empty
/// one (`-`).
pub fn canonical(target: Target<'_>, presented: &Presented<'_>) -> Vec<u8> {
    let fields = [presented.timestamp, Some(target.method), Some(target.path_and_query), presented.caller];
    signed_message(b"fhiriq-internal-v2\n", &fields)
}

/// Version 1's signed message (the three identity headers in place of the caller).
fn canonical_v1(target: Target<'_>, presented: &Presented<'_>) -> Vec<u8> {
    let V1 { user_id, role, admin } = presented.v1;
    let fields = [presented.timestamp, Some(target.method), Some(target.path_and_query), user_id, role, admin];
    signed_message(b"fhiriq-internal-v1\n", &fields)
}

/// `tag`, then each field as `<length>:<value>\n`, or `-\n` when absent.
fn signed_message(tag: &[u8], fields: &[Option<&str>]) -> Vec<u8> {
    let mut message = tag.to_vec();
    for value in fields {
        match value {
            Some(value) => message.extend_from_slice(format!("{}:{value}\n", value.len()).as_bytes()),
            None => message.extend_from_slice(b"-\n"),
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const NOW: i64 = 1_790_000_000;
    const KEY_A: &str = "a-test-key-of-at-least-thirty-two-characters-0001";
    const KEY_B: &str = "another-test-key-of-thirty-two-characters-or-more-02";

    fn target(path: &str) -> Target<'_> {
        Target { method: "POST", path_and_query: path }
    }

    fn pro() -> Caller {
        Caller {
            user_id: "u-pro".into(),
            email: "pro@example.com".into(),
            role: Role::Pro,
            admin: false,
            org_id: None,
            org_owner: false,
            verified: true,
        }
    }

    fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
        headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    fn presented(headers: &Headers) -> Presented<'_> {
        Presented {
            caller: header(headers, CALLER),
            timestamp: header(headers, TIMESTAMP),
            signature: header(headers, SIGNATURE),
            v1: V1::default(),
        }
    }

    fn is_refused(outcome: Result<Option<Caller>>) -> bool {
        matches!(outcome, Err(Error::Unauthorized(_)))
    }

    #[test]
    fn a_signed_identity_verifies_and_a_signed_out_caller_verifies_as_none() {
        let keys = SigningKeys::new(KEY_A, None);
        let headers = keys.sign(target("/_functions/processAIQuery"), Some(&pro()), NOW);
        let verified = keys.verify(target("/_functions/processAIQuery"), &presented(&headers), NOW + 5);
        assert_eq!(verified.expect("genuine"), Some(pro()));
        let anonymous = keys.sign(target("/_functions/stripeWebhook"), None, NOW);
        assert_eq!(header(&anonymous, CALLER), None);
        let verified = keys.verify(target("/_functions/stripeWebhook"), &presented(&anonymous), NOW);
        assert_eq!(verified.expect("genuine"), None);
    }

    #[test]
    fn a_tampered_header_is_refused() {
        let keys = SigningKeys::new(KEY_A, None);
        let headers = keys.sign(target("/_functions/processAIQuery"), Some(&pro()), NOW);
        // The caller changed in each way that matters, and the timestamp moved.
        let victim = Caller { user_id: "u-victim".into(), ..pro() };
        let promoted = Caller { role: Role::Enterprise, ..pro() };
        let staff = Caller { admin: true, ..pro() };
        let unverified = Caller { verified: false, ..pro() };
        let forgeries = [
            (CALLER, encode(&victim)),
            (CALLER, encode(&promoted)),
            (CALLER, encode(&staff)),
            (CALLER, encode(&unverified)),
            (TIMESTAMP, "1790000001".to_owned()),
        ];
        for (name, forged) in forgeries {
            let mut tampered = headers.clone();
            tampered.iter_mut().filter(|(n, _)| *n == name).for_each(|(_, v)| *v = forged.clone());
            let outcome = keys.verify(target("/_functions/processAIQuery"), &presented(&tampered), NOW);
            assert!(is_refused(outcome), "{name} changed to {forged}");
        }
        // A caller added to a signed-out request.
        let anonymous = keys.sign(target("/_functions/createVectorEmbedding"), None, NOW);
        let staff = encode(&staff);
        let elevated = Presented { caller: Some(&staff), ..presented(&anonymous) };
        assert!(is_refused(keys.verify(target("/_functions/createVectorEmbedding"), &elevated, NOW)));
    }

    #[test]
    fn unsigned_and_malformed_signatures_are_refused() {
        let keys = SigningKeys::new(KEY_A, None);
        let headers = keys.sign(target("/_functions/x"), Some(&pro()), NOW);
        let unsigned = Presented { signature: None, ..presented(&headers) };
        assert!(is_refused(keys.verify(target("/_functions/x"), &unsigned, NOW)), "no signature");
        let undated = Presented { timestamp: None, ..presented(&headers) };
        assert!(is_refused(keys.verify(target("/_functions/x"), &undated, NOW)), "no timestamp");
        for bad in ["", "zz", "00", &"0".repeat(64)] {
            let forged = Presented { signature: Some(bad), ..presented(&headers) };
            assert!(is_refused(keys.verify(target("/_functions/x"), &forged, NOW)), "signature {bad:?}");
        }
        assert!(is_refused(keys.verify(target("/_functions/x"), &Presented::default(), NOW)), "nothing at all");
    }

    #[test]
    fn a_signature_made_with_another_key_is_refused() {
        let headers = SigningKeys::new(KEY_B, None).sign(target("/_functions/x"), Some(&pro()), NOW);
        let outcome = SigningKeys::new(KEY_A, None).verify(target("/_functions/x"), &presented(&headers), NOW);
        assert!(is_refused(outcome));
        // The development key, published, signs nothing a configured function accepts.
        let headers = SigningKeys::new(DEVELOPMENT_KEY, None).sign(target("/_functions/x"), Some(&pro()), NOW);
        let outcome = SigningKeys::new(KEY_A, None).verify(target("/_functions/x"), &presented(&headers), NOW);
        assert!(is_refused(outcome));
    }

    #[test]
    fn during_a_rotation_the_previous_key_is_still_accepted() {
        let old = SigningKeys::new(KEY_A, None).sign(target("/_functions/x"), Some(&pro()), NOW);
        let rotating = SigningKeys::new(KEY_B, Some(KEY_A));
        assert!(rotating.verify(target("/_functions/x"), &presented(&old), NOW).is_ok());
        let new = rotating.sign(target("/_functions/x"), Some(&pro()), NOW);
        assert!(SigningKeys::new(KEY_B, None).verify(target("/_functions/x"), &presented(&new), NOW).is_ok());
    }

    #[test]
    fn a_stale_or_future_timestamp_is_refused() {
        let keys = SigningKeys::new(KEY_A, None);
        let headers = keys.sign(target("/_functions/x"), Some(&pro()), NOW);
        let at = |now: i64| keys.verify(target("/_functions/x"), &presented(&headers), now);
        assert!(at(NOW + FRESHNESS_SECONDS).is_ok(), "still fresh at the window's edge");
        assert!(at(NOW - FRESHNESS_SECONDS).is_ok(), "a clock a little behind");
        assert!(is_refused(at(NOW + FRESHNESS_SECONDS + 1)), "stale: a replay a minute later");
        assert!(is_refused(at(NOW - FRESHNESS_SECONDS - 1)), "from the future");
    }

    #[test]
    fn a_signature_replayed_to_another_path_method_or_query_is_refused() {
        let keys = SigningKeys::new(KEY_A, None);
        let headers = keys.sign(target("/_functions/processAIQuery"), Some(&pro()), NOW);
        for (method, path) in [
            ("POST", "/_functions/createGitHubRepo"),
            ("POST", "/_functions/processAIQuery?x=1"),
            ("POST", "/_functions/processAIQuery/"),
            ("GET", "/_functions/processAIQuery"),
        ] {
            let outcome = keys.verify(Target { method, path_and_query: path }, &presented(&headers), NOW);
            assert!(is_refused(outcome), "{method} {path}");
        }
    }

    #[test]
    fn an_unknown_role_or_a_partial_caller_is_refused_even_when_signed() {
        let keys = SigningKeys::new(KEY_A, None);
        let full = serde_json::to_value(pro()).expect("a caller is JSON");
        let mut unknown_role = full.clone();
        unknown_role["role"] = "root".into();
        let mut no_role = full.clone();
        no_role.as_object_mut().map(|o| o.remove("role"));
        let mut no_user = full.clone();
        no_user["user_id"] = "".into();
        let encoded = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let claims =
            [encoded(&unknown_role), encoded(&no_role), encoded(&no_user), "not base64!".into(), String::new()];
        for claim in &claims {
            let claimed = Presented { caller: Some(claim), timestamp: Some("1790000000"), ..Presented::default() };
            let signature = hex::encode(
                mac(&Secret::new(KEY_A), &canonical(target("/_functions/x"), &claimed)).finalize().into_bytes(),
            );
            let signed = Presented { signature: Some(&signature), ..claimed };
            assert!(is_refused(keys.verify(target("/_functions/x"), &signed, NOW)), "{claim:?}");
        }
    }

    /// What the previous release's site sends: v1's three identity headers, signed with `key`.
    fn v1_signed<'a>(
        key: &str,
        path: &'a str,
        identity: Option<(&'a str, &'a str, &'a str)>,
        stamp: &'a str,
    ) -> (Presented<'a>, String) {
        let v1 = identity.map_or(V1::default(), |(user_id, role, admin)| V1 {
            user_id: Some(user_id),
            role: Some(role),
            admin: Some(admin),
        });
        let unsigned = Presented { timestamp: Some(stamp), v1, ..Presented::default() };
        let signature =
            hex::encode(mac(&Secret::new(key), &canonical_v1(target(path), &unsigned)).finalize().into_bytes());
        (unsigned, signature)
    }

    #[test]
    fn during_the_release_that_brings_v2_the_old_sites_v1_signatures_still_verify_and_nothing_more() {
        let keys = SigningKeys::new(KEY_A, None);
        let (presented, signature) = v1_signed(KEY_A, "/_functions/x", Some(("u-1", "pro", "0")), "1790000000");
        let genuine = Presented { signature: Some(&signature), ..presented };
        let caller = keys.verify(target("/_functions/x"), &genuine, NOW).expect("v1 verifies").expect("a caller");
        assert_eq!(
            (caller.user_id.as_str(), caller.role, caller.admin, caller.verified),
            ("u-1", Role::Pro, false, true)
        );
        assert_eq!(caller.email, "", "v1 never carried the email");
        let (anonymous, signature) = v1_signed(KEY_A, "/_functions/x", None, "1790000000");
        let signed_out = Presented { signature: Some(&signature), ..anonymous };
        assert_eq!(keys.verify(target("/_functions/x"), &signed_out, NOW).expect("verifies"), None);

        // A v1 signature covers no caller header: one added to it is refused, as is any changed field.
        let staff = encode(&Caller { admin: true, ..pro() });
        let injected = Presented { caller: Some(&staff), ..signed_out };
        assert!(is_refused(keys.verify(target("/_functions/x"), &injected, NOW)), "a caller added to a v1 request");
        let promoted = Presented { v1: V1 { role: Some("enterprise"), ..genuine.v1 }, ..genuine };
        assert!(is_refused(keys.verify(target("/_functions/x"), &promoted, NOW)), "a v1 role changed");
        let (stale, signature) = v1_signed(KEY_A, "/_functions/x", Some(("u-1", "pro", "0")), "1789999000");
        assert!(is_refused(keys.verify(
            target("/_functions/x"),
            &Presented { signature: Some(&signature), ..stale },
            NOW
        )));
        let (other_key, signature) = v1_signed(KEY_B, "/_functions/x", Some(("u-1", "pro", "0")), "1790000000");
        let forged = Presented { signature: Some(&signature), ..other_key };
        assert!(is_refused(keys.verify(target("/_functions/x"), &forged, NOW)), "v1 with another key");
    }

    #[test]
    fn a_timestamp_far_from_now_is_refused_without_overflowing() {
        let keys = SigningKeys::new(KEY_A, None);
        for stamp in [i64::MIN, i64::MAX] {
            let headers = keys.sign(target("/_functions/x"), Some(&pro()), stamp);
            assert!(is_refused(keys.verify(target("/_functions/x"), &presented(&headers), NOW)), "{stamp}");
            assert!(is_refused(keys.verify(target("/_functions/x"), &presented(&headers), -NOW)), "{stamp}");
        }
    }

    #[test]
    fn the_signed_target_is_the_path_and_query_of_the_url() {
        for (url, expected) in [
            ("https://fhiriq.dev/_functions/processAIQuery", "/_functions/processAIQuery"),
            ("http://127.0.0.1:8787/_functions/x/health?a=1&b=%2F", "/_functions/x/health?a=1&b=%2F"),
            ("https://fhiriq.dev/", "/"),
            ("https://fhiriq.dev/a?b#fragment", "/a?b"),
            ("https://user:pw@fhiriq.dev:443/a", "/a"),
        ] {
            assert_eq!(path_and_query(url), expected, "{url}");
        }
    }

    #[test]
    fn the_canonical_message_cannot_be_shifted_between_fields() {
        let shifted = Target { method: "POST\n2:/x", path_and_query: "" };
        let honest = Target { method: "POST", path_and_query: "/x" };
        assert_ne!(canonical(shifted, &Presented::default()), canonical(honest, &Presented::default()));
        let absent = Presented::default();
        let empty = Presented { caller: Some(""), timestamp: Some(""), ..Presented::default() };
        assert_ne!(canonical(target("/"), &absent), canonical(target("/"), &empty));
    }

    #[test]
    fn production_requires_a_real_key_and_development_falls_back_to_the_published_one() {
        let production: HashMap<&str, &str> = HashMap::from([("ENVIRONMENT", "production")]);
        let missing = SigningKeys::from_env(&production).expect_err("required in production");
        assert_eq!(missing.status_code(), 503);
        assert!(missing.to_string().contains(KEY), "{missing}");
        let mut published = production.clone();
        published.insert(KEY, DEVELOPMENT_KEY);
        assert_eq!(SigningKeys::from_env(&published).expect_err("refused").status_code(), 503);
        let mut short = production.clone();
        short.insert(KEY, "too-short");
        assert_eq!(SigningKeys::from_env(&short).expect_err("refused").status_code(), 503);
        let mut configured = production.clone();
        configured.insert(KEY, KEY_A);
        let keys = SigningKeys::from_env(&configured).expect("configured");
        let headers = keys.sign(target("/x"), None, NOW);
        assert!(SigningKeys::new(KEY_A, None).verify(target("/x"), &presented(&headers), NOW).is_ok());

        let development: HashMap<&str, &str> = HashMap::from([("ENVIRONMENT", "development")]);
        let keys = SigningKeys::from_env(&development).expect("the development default");
        let headers = keys.sign(target("/x"), None, NOW);
        assert!(SigningKeys::new(DEVELOPMENT_KEY, None).verify(target("/x"), &presented(&headers), NOW).is_ok());
        assert!(!format!("{keys:?}").contains("development-internal"), "Debug never prints a key");
    }
}
