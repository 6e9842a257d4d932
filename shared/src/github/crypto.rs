//! The two primitives the GitHub integration needs, behind one trait: RS256 for the App's JWT and
//! AES-256-GCM for the user tokens stored in D1. The workers use Web Crypto
//! (`workers::WebCrypto`): the runtime's own native, constant-time code, which also keeps RSA and
//! AES out of the wasm. The RustCrypto crates (`rsa`, `aes-gcm`) stay as the test-only reference
//! ([`reference::RustCrypto`]) the native tests check the formats against.

use crate::error::Result;

pub trait Crypto {
    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`, with a PKCS#8 DER RSA private key.
    async fn rs256_sign(&self, pkcs8_der: &[u8], message: &[u8]) -> Result<Vec<u8>>;
    /// AES-256-GCM: the ciphertext with its 16-byte tag appended (Web Crypto's layout and aes-gcm's).
    async fn aes_gcm_seal(&self, key: &[u8; 32], nonce: &[u8; 12], plain: &[u8]) -> Result<Vec<u8>>;
    /// The plaintext, or an error when the tag does not verify (another key, altered bytes).
    async fn aes_gcm_open(&self, key: &[u8; 32], nonce: &[u8; 12], sealed: &[u8]) -> Result<Vec<u8>>;
}

#[cfg(test)]
pub mod reference {
    use super::Crypto;
    use crate::error::{Error, Result};
    use aes_gcm::aead::{Aead, KeyInit};
    use aes_gcm::{Aes256Gcm, Nonce};
    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    use sha2::Sha256;

    /// The RustCrypto implementations, for native tests.
    pub struct RustCrypto;

    impl Crypto for RustCrypto {
        async fn rs256_sign(&self, pkcs8_der: &[u8], message: &[u8]) -> Result<Vec<u8>> {
            let key = rsa::PrivateKey::from_pkcs8_der(pkcs8_der).map_err(|e| Error::Config(e.to_string()))?;
            let signature =
                SigningKey::<Sha256>::new(key).try_sign(message).map_err(|e| Error::internal("RS256", e))?;
            Ok(signature.to_vec())
        }

        async fn aes_gcm_seal(&self, key: &[u8; 32], nonce: &[u8; 12], plain: &[u8]) -> Result<Vec<u8>> {
            Aes256Gcm::new(key.into())
                .encrypt(&Nonce::from(*nonce), plain)
                .map_err(|_| Error::internal("AES-GCM", "encryption failed"))
        }

        async fn aes_gcm_open(&self, key: &[u8; 32], nonce: &[u8; 12], sealed: &[u8]) -> Result<Vec<u8>> {
            Aes256Gcm::new(key.into())
                .decrypt(&Nonce::from(*nonce), sealed)
                .map_err(|_| Error::internal("AES-GCM", "the tag does not verify"))
        }
    }
}
