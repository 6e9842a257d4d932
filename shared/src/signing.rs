//! HMAC-SHA256 webhook signatures (Stripe, GitHub, Calendly): the MAC of the signed parts, and a
//! constant-time check of hex candidates against it.

use crate::config::{EnvSource, Secret, optional_secret};
use crate::error::{Error, Result};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

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
        if now_seconds - timestamp > self.tolerance_seconds {
            return refuse(&format!("the timestamp is outside the {}-second tolerance", self.tolerance_seconds));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
