//! HMAC-SHA256 webhook signatures (Stripe, GitHub, Calendly): the MAC of the signed parts, and a
//! constant-time check of hex candidates against it.

use crate::config::{EnvSource, Secret, optional_secret};
use crate::error::{Error, Result};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

/// What a verified webhook delivery did (Stripe's and GitHub's answer it in their JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Applied now.
    Applied,
    /// Already applied by an earlier delivery: nothing changed.
    Duplicate,
    /// Not an event (or an object) this platform acts on: acknowledged, nothing changed.
    Ignored,
}

/// HMAC-SHA256 keyed with `secret` over `parts`, in order. `secret_name` names the configuration in
/// the (unlikely) error.
pub fn hmac_sha256(secret: &str, parts: &[&[u8]], secret_name: &str) -> Result<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| Error::Config(format!("{secret_name} cannot be used as an HMAC key")))?;
    for part in parts {
        mac.update(part);
    }
    Ok(mac.finalize().into_bytes().to_vec())
}

/// The answer to a delivery while the webhook's signing secret is not configured: 503 (the sender
/// retries later, when it may be), with a message naming what is missing. Not a 500: nothing failed,
/// the platform is not set up to receive `sender`'s webhooks here.
pub fn not_configured(sender: &str, secret_name: &str) -> Error {
    Error::Unavailable(format!(
        "{sender} webhooks are not configured here: the secret {secret_name} is not set, so no delivery can be verified."
    ))
}

/// A webhook's signing secret, or [`not_configured`].
pub fn webhook_secret(env: &impl EnvSource, sender: &str, secret_name: &str) -> Result<Secret> {
    optional_secret(env, secret_name).ok_or_else(|| not_configured(sender, secret_name))
}

/// Whether any hex candidate equals `expected`. Every candidate is compared in constant time, so
/// the time taken says nothing about which (if any) matched.
pub fn any_matches<'a>(expected: &[u8], candidates: impl IntoIterator<Item = &'a str>) -> bool {
    let found = candidates
        .into_iter()
        .filter_map(|c| hex::decode(c).ok())
        .fold(Choice::from(0), |found, candidate| found | expected.ct_eq(&candidate));
    bool::from(found)
}

/// The `t=<unix seconds>,v1=<hex>[,v1=...]` scheme Stripe and Calendly both use: HMAC-SHA256 of
/// `"{t}.{raw body}"`, genuine if ANY `v1` matches (several appear while a secret is rolled), compared
/// in constant time, and refused when `t` is more than `tolerance_seconds` old (a replay). Errors are
/// 400s naming `header_name`.
pub struct Timestamped<'a> {
    pub header_name: &'a str,
    pub secret_name: &'a str,
    pub tolerance_seconds: i64,
}

impl Timestamped<'_> {
    pub fn verify(&self, header: Option<&str>, body: &[u8], secret: &str, now_seconds: i64) -> Result<()> {
        let refuse = |why: &str| Err(Error::BadRequest(format!("{}: {why}", self.header_name)));
        let Some(header) = header else { return refuse("the header is missing") };
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
                Some(("v1", value)) => signatures.push(value),
                _ => {}
            }
        }
        let Some(timestamp) = timestamp else { return refuse("no timestamp (t=)") };
        if signatures.is_empty() {
            return refuse("no v1 signature");
        }
        let signed = timestamp.to_string();
        let expected = hmac_sha256(secret, &[signed.as_bytes(), b".", body], self.secret_name)?;
        if !any_matches(&expected, signatures) {
            return refuse("no signature matches the payload");
        }
        // Saturating: `t` is any i64 the sender wrote, and a plain `-` overflows for one far from now
        // (a panic in a debug build, and in release a wrapped age that could pass as fresh).
        if now_seconds.saturating_sub(timestamp) > self.tolerance_seconds {
            return refuse(&format!("the timestamp is outside the {}-second tolerance", self.tolerance_seconds));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// `t=<t>,v1=<hex>`, the HMAC-SHA256 of `"{t}.{body}"` computed straight from the hmac crate, as
    /// Stripe and Calendly sign a delivery (not through [`hmac_sha256`], so the check is independent).
    pub fn signed_header(secret: &str, t: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
    }

    /// A delivery, and the changes to it a property tries: one body byte (`at`, xor `flip`) and one
    /// hex digit of the signature (`digit`).
    pub struct Delivery {
        pub secret: String,
        pub t: i64,
        pub age: i64,
        pub body: Vec<u8>,
        pub at: Index,
        pub flip: u8,
        pub digit: usize,
    }

    /// What every `t=,v1=` webhook check must do, through its own `verify` and `tolerance`: a
    /// signed delivery verifies exactly while it is no older than the tolerance, and any changed body
    /// byte or signature digit is refused.
    pub fn holds_for(
        d: &Delivery,
        tolerance: i64,
        verify: impl Fn(Option<&str>, &[u8], &Secret, i64) -> Result<()>,
    ) -> std::result::Result<(), TestCaseError> {
        let secret = Secret::new(d.secret.as_str());
        let header = signed_header(secret.expose(), d.t, &d.body);
        let verdict = verify(Some(&header), &d.body, &secret, d.t + d.age);
        prop_assert_eq!(verdict.is_ok(), d.age <= tolerance, "{} s old", d.age);

        let mut changed = d.body.clone();
        changed[d.at.index(d.body.len())] ^= d.flip;
        prop_assert!(verify(Some(&header), &changed, &secret, d.t).is_err(), "a changed body byte");

        // Any other lower-case hex digit in any place of the signature.
        let mut forged = header.clone().into_bytes();
        let place = forged.len() - 64 + d.digit;
        let others: Vec<u8> = b"0123456789abcdef".iter().copied().filter(|b| *b != forged[place]).collect();
        forged[place] = others[usize::from(d.flip) % others.len()];
        let forged = String::from_utf8(forged).expect("hex stays ASCII");
        prop_assert!(verify(Some(&forged), &d.body, &secret, d.t).is_err(), "{}", forged);
        Ok(())
    }

    const SCHEME: Timestamped =
        Timestamped { header_name: "Stripe-Signature", secret_name: "STRIPE_WEBHOOK_SECRET", tolerance_seconds: 300 };

    /// Header-shaped noise: the parts, separators and digits a header is made of, and any text.
    fn header_noise() -> impl Strategy<Value = String> {
        let fragment = prop_oneof![
            Just("t=".to_owned()),
            Just("v1=".to_owned()),
            Just(",".to_owned()),
            Just("=".to_owned()),
            Just(" ".to_owned()),
            "-?[0-9]{1,20}",
            "[0-9a-fA-F]{1,64}",
            ".{0,8}",
        ];
        prop_oneof![vec(fragment, 0..16).prop_map(|parts| parts.concat()), ".{0,200}"]
    }

    proptest! {
        #![proptest_config(crate::testing::properties(2_000))]

        #[test]
        fn a_signed_payload_verifies_for_any_secret_timestamp_and_body_within_the_tolerance(
            secret in ".{0,40}",
            t in any::<i64>(),
            age in 0..=300_i64,
            body in vec(any::<u8>(), 0..300),
        ) {
            let now = t.saturating_add(age);
            prop_assert!(SCHEME.verify(Some(&signed_header(&secret, t, &body)), &body, &secret, now).is_ok());
        }

        #[test]
        fn a_genuine_signature_is_accepted_exactly_while_its_age_is_within_the_tolerance(
            t in any::<i64>(),
            now in any::<i64>(),
        ) {
            let verdict = SCHEME.verify(Some(&signed_header("whsec_k", t, b"{}")), b"{}", "whsec_k", now);
            // The age in i128, where no clock and no timestamp can overflow it.
            let fresh = i128::from(now) - i128::from(t) <= 300;
            prop_assert_eq!(verdict.is_ok(), fresh, "t={} now={} {:?}", t, now, verdict);
        }

        #[test]
        fn any_changed_added_or_removed_byte_of_the_body_is_refused(
            body in vec(any::<u8>(), 1..300),
            at in any::<Index>(),
            flip in 1..=255_u8,
            extra in any::<u8>(),
        ) {
            let header = signed_header("whsec_k", 1_700_000_000, &body);
            let check = |body: &[u8]| SCHEME.verify(Some(&header), body, "whsec_k", 1_700_000_000);
            prop_assert!(check(&body).is_ok());
            let mut changed = body.clone();
            changed[at.index(body.len())] ^= flip;
            prop_assert!(check(&changed).is_err(), "byte {} changed", at.index(body.len()));
            let mut longer = body.clone();
            longer.insert(at.index(body.len() + 1), extra);
            prop_assert!(check(&longer).is_err(), "a byte added");
            let mut shorter = body.clone();
            shorter.remove(at.index(body.len()));
            prop_assert!(check(&shorter).is_err(), "a byte removed");
        }

        #[test]
        fn any_changed_character_of_the_signature_or_another_timestamp_or_secret_is_refused(
            at in 0..64_usize,
            replacement in any::<char>(),
            other_t in any::<i64>(),
            other_secret in ".{0,40}",
        ) {
            let (t, body, secret) = (1_700_000_000, b"{\"id\":\"evt_1\"}", "whsec_k");
            let header = signed_header(secret, t, body);
            let signature_start = header.len() - 64;
            let original = header[signature_start + at..].chars().next().expect("64 hex digits");
            // Hex is case-insensitive: `A` for `a` is the same signature, not a changed one.
            prop_assume!(replacement.to_ascii_lowercase() != original);
            let mut changed = header.clone();
            changed.replace_range(signature_start + at..signature_start + at + 1, &replacement.to_string());
            prop_assert!(SCHEME.verify(Some(&changed), body, secret, t).is_err(), "{}", changed);

            prop_assume!(other_t != t && other_secret != secret);
            let moved = header.replacen(&format!("t={t},"), &format!("t={other_t},"), 1);
            prop_assert!(SCHEME.verify(Some(&moved), body, secret, other_t).is_err(), "{}", moved);
            prop_assert!(SCHEME.verify(Some(&header), body, &other_secret, t).is_err());
        }

        #[test]
        fn other_schemes_stale_signatures_and_spaces_around_the_parts_change_nothing(
            noise in vec(prop_oneof![
                "[0-9a-f]{64}".prop_map(|hex| format!("v1={hex}")),
                "[0-9a-f]{64}".prop_map(|hex| format!("v0={hex}")),
                "[a-su-z0-9]{1,3}=[^,]{0,10}",
            ], 0..6),
            positions in vec(any::<Index>(), 2),
            padding in vec(" {0,2}", 8),
        ) {
            let (t, body) = (1_700_000_000_i64, b"{}");
            let genuine = signed_header("whsec_k", t, body);
            let (timestamp, signature) = genuine.split_once(',').expect("t=...,v1=...");
            let mut parts = noise;
            parts.insert(positions[0].index(parts.len() + 1), signature.to_owned());
            parts.insert(positions[1].index(parts.len() + 1), timestamp.to_owned());
            let header = parts
                .iter()
                .enumerate()
                .map(|(i, part)| format!("{}{part}{}", padding[i % 8], padding[(i + 3) % 8]))
                .collect::<Vec<_>>()
                .join(",");
            prop_assert!(SCHEME.verify(Some(&header), body, "whsec_k", t).is_ok(), "{}", header);
        }

        #[test]
        fn no_header_made_without_the_secret_verifies_and_none_panics(
            header in header_noise(),
            body in vec(any::<u8>(), 0..64),
            now in any::<i64>(),
        ) {
            let verdict = SCHEME.verify(Some(&header), &body, "whsec_k", now);
            prop_assert_eq!(verdict.expect_err("refused").status_code(), 400);
        }
    }

    #[test]
    fn githubs_documented_vector() {
        let mac = hmac_sha256("It's a Secret to Everybody", &[b"Hello, World!"], "TEST").expect("a key");
        assert!(any_matches(&mac, ["00", "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"]));
        assert!(!any_matches(&mac, ["757107ea", "not hex"]));
    }

    #[test]
    fn an_unconfigured_webhook_secret_is_a_503_naming_it() {
        let env: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
        let error = webhook_secret(&env, "GitHub", "GITHUB_WEBHOOK_SECRET").expect_err("not set");
        assert_eq!(error.status_code(), 503);
        let body = error.body().to_json();
        assert!(
            body.contains("GITHUB_WEBHOOK_SECRET") && body.contains("GitHub webhooks are not configured"),
            "{body}"
        );
        let blank: std::collections::HashMap<&str, &str> =
            std::collections::HashMap::from([("GITHUB_WEBHOOK_SECRET", "  ")]);
        assert_eq!(webhook_secret(&blank, "GitHub", "GITHUB_WEBHOOK_SECRET").expect_err("blank").status_code(), 503);
        let set: std::collections::HashMap<&str, &str> =
            std::collections::HashMap::from([("GITHUB_WEBHOOK_SECRET", "s")]);
        assert_eq!(webhook_secret(&set, "GitHub", "GITHUB_WEBHOOK_SECRET").expect("set").expose(), "s");
    }
}
