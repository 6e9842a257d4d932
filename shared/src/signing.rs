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
