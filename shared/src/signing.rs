//! HMAC-SHA256 webhook signatures (Stripe, GitHub, Calendly): the MAC of the signed parts, and a
//! constant-time check of hex candidates against it.

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
}
