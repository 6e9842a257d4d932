//! The GitHub App's JWT: RS256 over `{iat: now - 60, exp: now + 540, iss: app id}`, signed in the
//! worker with the App's private key. GitHub issues PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`); PKCS#8
//! (`BEGIN PRIVATE KEY`) works too. A key pasted into a secret with literal `\n`s is accepted.

use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::PrivateKey as RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::json;
use sha2::Sha256;

/// Backdated a minute for clock drift, and valid for nine (GitHub's limit is ten).
const BACKDATE_SECONDS: i64 = 60;
const LIFETIME_SECONDS: i64 = 540;

pub fn parse_key(pem: &str) -> Result<RsaPrivateKey> {
    let pem = pem.trim().replace("\\n", "\n");
    let key = if pem.contains("BEGIN RSA PRIVATE KEY") {
        RsaPrivateKey::from_pkcs1_pem(&pem).map_err(|e| e.to_string())
    } else {
        RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|e| e.to_string())
    };
    key.map_err(|e| Error::Config(format!("GITHUB_APP_PRIVATE_KEY is not an RSA private key in PEM: {e}")))
}

pub fn app_jwt(app_id: &str, key: &RsaPrivateKey, now_seconds: i64) -> Result<String> {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "JWT"}).to_string());
    let claims = URL_SAFE_NO_PAD.encode(
        json!({"iat": now_seconds - BACKDATE_SECONDS, "exp": now_seconds + LIFETIME_SECONDS, "iss": app_id})
            .to_string(),
    );
    let input = format!("{header}.{claims}");
    let signature = SigningKey::<Sha256>::new(key.clone())
        .try_sign(input.as_bytes())
        .map_err(|e| Error::internal("signing the GitHub App JWT", e))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;

    // A 2048-bit test key (PKCS#1, as GitHub issues them), generated for these tests only.
    pub const TEST_KEY: &str = include_str!("../../data/test-github-app-key.pem");

    #[test]
    fn the_jwt_verifies_with_the_public_key_and_carries_githubs_claims() {
        let key = parse_key(TEST_KEY).expect("PKCS#1");
        let jwt = app_jwt("123456", &key, 1_700_000_000).expect("signed");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url")).expect("JSON");
        assert_eq!(claims, json!({"iat": 1_699_999_940, "exp": 1_700_000_540, "iss": "123456"}));
        let signature =
            Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).expect("base64url").as_slice()).expect("sig");
        let verifier = VerifyingKey::<Sha256>::new(key.to_public_key());
        assert!(verifier.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature).is_ok());
        assert!(verifier.verify(b"tampered", &signature).is_err());
    }

    #[test]
    fn pkcs8_and_escaped_newlines_are_accepted_and_garbage_is_a_config_error() {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        let key = parse_key(TEST_KEY).expect("PKCS#1");
        let pkcs8 = key.to_pkcs8_pem(LineEnding::LF).expect("encodes");
        assert!(parse_key(&pkcs8).is_ok());
        assert!(parse_key(&TEST_KEY.replace('\n', "\\n")).is_ok());
        assert_eq!(parse_key("not a key").expect_err("refused").status_code(), 500);
    }
}
