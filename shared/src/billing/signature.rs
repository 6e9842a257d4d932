//! `Stripe-Signature` verification, as stripe-node does it: the header is `t=<unix>,v1=<hex>,...`;
//! the signed payload is `"{t}.{raw body}"`, HMAC-SHA256 keyed with the whole endpoint secret
//! (`whsec_...`); the event is genuine if ANY `v1` matches (several appear while a secret is being
//! rolled), compared in constant time; and it is refused when `t` is more than 300 s old. The body is
//! the raw bytes received, never re-serialized JSON.

use crate::config::Secret;
use crate::error::Result;
use crate::signing::Timestamped;

/// stripe-node's default tolerance.
pub const TOLERANCE_SECONDS: i64 = 300;

pub fn verify(header: Option<&str>, body: &[u8], secret: &Secret, now_seconds: i64) -> Result<()> {
    Timestamped {
        header_name: "Stripe-Signature",
        secret_name: "STRIPE_WEBHOOK_SECRET",
        tolerance_seconds: TOLERANCE_SECONDS,
    }
    .verify(header, body, secret.expose(), now_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::tests::{Delivery, holds_for};
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::Index;

    // Produced by stripe-node 23.1.0: stripe.webhooks.generateTestHeaderString({payload:
    // '{"id":"evt_1"}', secret: 'whsec_test_secret', timestamp: 1700000000}).
    const BODY: &[u8] = br#"{"id":"evt_1"}"#;
    const VALID: &str = "248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9fb1618b9bf8ea9c9a";
    const T: i64 = 1_700_000_000;

    fn secret() -> Secret {
        Secret::new("whsec_test_secret")
    }

    fn check(header: &str, body: &[u8], now: i64) -> Result<()> {
        verify(Some(header), body, &secret(), now)
    }

    #[test]
    fn stripes_own_signature_verifies() {
        assert!(check(&format!("t={T},v1={VALID}"), BODY, T + 10).is_ok());
    }

    #[test]
    fn any_v1_may_match_and_other_schemes_are_ignored() {
        let header = format!("t={T},v1={},v0={VALID},v1={VALID}", "0".repeat(64));
        assert!(check(&header, BODY, T).is_ok());
        assert!(check(&format!("t={T},v0={VALID}"), BODY, T).is_err(), "v0 alone is not a signature");
    }

    #[test]
    fn tampering_a_wrong_secret_a_stale_timestamp_or_no_header_is_refused_with_400() {
        let header = format!("t={T},v1={VALID}");
        let tampered = check(&header, br#"{"id":"evt_2"}"#, T).expect_err("tampered");
        assert_eq!(tampered.status_code(), 400);
        assert!(verify(Some(&header), BODY, &Secret::new("whsec_other"), T).is_err());
        assert!(check(&header, BODY, T + 301).expect_err("stale").to_string().contains("tolerance"));
        assert!(check(&header, BODY, T + 300).is_ok(), "300 s is still inside");
        assert!(verify(None, BODY, &secret(), T).is_err());
        assert!(check(&format!("v1={VALID}"), BODY, T).is_err(), "no timestamp");
        assert!(check(&format!("t={},v1={VALID}", T + 1), BODY, T).is_err(), "the timestamp is signed too");
    }

    proptest! {
        #![proptest_config(crate::testing::properties(2_000))]

        #[test]
        fn a_signed_event_verifies_for_five_minutes_and_any_changed_byte_is_refused(
            secret in "whsec_[A-Za-z0-9]{1,40}",
            t in 1_000_000_000..4_000_000_000_i64,
            age in 0..=600_i64,
            body in vec(any::<u8>(), 1..500),
            at in any::<Index>(),
            flip in 1..=255_u8,
            digit in 0..64_usize,
        ) {
            let delivery = Delivery { secret, t, age, body, at, flip, digit };
            holds_for(&delivery, TOLERANCE_SECONDS, verify)?;
        }
    }
}
