//! The GitHub App's JWT: RS256 over `{iat: now - 60, exp: now + 540, iss: app id}`, signed in the
//! worker with the App's private key (through [`Crypto`]: Web Crypto in the workers). GitHub issues
//! PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), which Web Crypto does not import, so it is wrapped into
//! PKCS#8 here; PKCS#8 (`BEGIN PRIVATE KEY`) is taken as it is. A key pasted into a secret with
//! literal `\n`s is accepted.

use super::crypto::Crypto;
use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

/// Backdated a minute for clock drift, and valid for nine (GitHub's limit is ten).
const BACKDATE_SECONDS: i64 = 60;
const LIFETIME_SECONDS: i64 = 540;

/// PKCS#8's `AlgorithmIdentifier` for `rsaEncryption` (OID 1.2.840.113549.1.1.1, NULL parameters).
const RSA_ENCRYPTION: [u8; 15] =
    [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

/// The private key as PKCS#8 DER, or a configuration error saying what is wrong with the secret.
pub fn parse_key(pem: &str) -> Result<Vec<u8>> {
    let invalid = |why: &str| Error::Config(format!("GITHUB_APP_PRIVATE_KEY is not an RSA private key in PEM: {why}"));
    let pem = pem.trim().replace("\\n", "\n");
    let (label, body) = pem
        .strip_prefix("-----BEGIN ")
        .and_then(|rest| rest.split_once("-----"))
        .ok_or_else(|| invalid("no -----BEGIN line"))?;
    let end = format!("-----END {label}-----");
    let body =
        body.split_once(end.as_str()).map(|(body, _)| body).ok_or_else(|| invalid("no matching -----END line"))?;
    let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD.decode(base64).map_err(|_| invalid("the body is not base64"))?;
    if der.first() != Some(&0x30) {
        return Err(invalid("the body is not a DER sequence"));
    }
    match label {
        "RSA PRIVATE KEY" => Ok(pkcs1_to_pkcs8(&der)),
        "PRIVATE KEY" => Ok(der),
        other => Err(invalid(&format!("a {other}, not a private key"))),
    }
}

/// `PrivateKeyInfo { version 0, rsaEncryption, OCTET STRING { the PKCS#1 key } }` (RFC 5208).
fn pkcs1_to_pkcs8(pkcs1: &[u8]) -> Vec<u8> {
    let mut inner = vec![0x02, 0x01, 0x00];
    inner.extend_from_slice(&RSA_ENCRYPTION);
    inner.push(0x04);
    inner.extend(der_length(pkcs1.len()));
    inner.extend_from_slice(pkcs1);
    let mut outer = vec![0x30];
    outer.extend(der_length(inner.len()));
    outer.extend(inner);
    outer
}

/// A DER length: short form under 128, else the long form's byte count and big-endian bytes.
fn der_length(length: usize) -> Vec<u8> {
    if length < 0x80 {
        return vec![length as u8];
    }
    let bytes: Vec<u8> = length.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
    let mut encoded = vec![0x80 | bytes.len() as u8];
    encoded.extend(bytes);
    encoded
}

pub async fn app_jwt(app_id: &str, pkcs8_der: &[u8], crypto: &impl Crypto, now_seconds: i64) -> Result<String> {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "JWT"}).to_string());
    let claims = URL_SAFE_NO_PAD.encode(
        json!({"iat": now_seconds - BACKDATE_SECONDS, "exp": now_seconds + LIFETIME_SECONDS, "iss": app_id})
            .to_string(),
    );
    let input = format!("{header}.{claims}");
    let signature = crypto.rs256_sign(pkcs8_der, input.as_bytes()).await?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::crypto::reference::RustCrypto;
    use futures::executor::block_on;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    use rsa::signature::Verifier;
    use sha2::Sha256;

    // A 2048-bit test key (PKCS#1, as GitHub issues them), generated for these tests only.
    pub const TEST_KEY: &str = include_str!("../../data/test-github-app-key.pem");

    fn reference_key() -> rsa::PrivateKey {
        rsa::PrivateKey::from_pkcs1_pem(TEST_KEY).expect("the test key")
    }

    #[test]
    fn the_jwt_verifies_with_the_public_key_and_carries_githubs_claims() {
        let key = parse_key(TEST_KEY).expect("PKCS#1");
        let jwt = block_on(app_jwt("123456", &key, &RustCrypto, 1_700_000_000)).expect("signed");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url")).expect("JSON");
        assert_eq!(claims, json!({"iat": 1_699_999_940, "exp": 1_700_000_540, "iss": "123456"}));
        let signature =
            Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).expect("base64url").as_slice()).expect("sig");
        let verifier = VerifyingKey::<Sha256>::new(reference_key().to_public_key());
        assert!(verifier.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature).is_ok());
        assert!(verifier.verify(b"tampered", &signature).is_err());
    }

    #[test]
    fn a_pkcs1_key_is_wrapped_into_the_same_pkcs8_the_reference_writes() {
        let reference = reference_key().to_pkcs8_der().expect("encodes");
        assert_eq!(parse_key(TEST_KEY).expect("PKCS#1"), reference.as_bytes());
        // PKCS#8 as it is, and a secret pasted with escaped newlines.
        let pkcs8 = reference_key().to_pkcs8_pem(LineEnding::LF).expect("encodes");
        assert_eq!(parse_key(&pkcs8).expect("PKCS#8"), reference.as_bytes());
        assert_eq!(parse_key(&TEST_KEY.replace('\n', "\\n")).expect("escaped"), reference.as_bytes());
    }

    #[test]
    fn der_lengths_use_the_short_and_long_forms() {
        assert_eq!(der_length(0x7f), [0x7f]);
        assert_eq!(der_length(0x80), [0x81, 0x80]);
        assert_eq!(der_length(0x04a8), [0x82, 0x04, 0xa8]);
        assert_eq!(der_length(0x01_0000), [0x83, 0x01, 0x00, 0x00]);
    }

    #[test]
    fn anything_but_a_private_key_in_pem_is_a_config_error() {
        let public = "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----";
        for bad in [
            "not a key",
            "-----BEGIN RSA PRIVATE KEY-----\n!!!\n-----END RSA PRIVATE KEY-----",
            public,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----",
        ] {
            let e = parse_key(bad).expect_err(bad);
            assert_eq!((e.status_code(), e.to_string().contains("GITHUB_APP_PRIVATE_KEY")), (500, true), "{bad}");
        }
    }
}
