//! Web Crypto: PBKDF2-HMAC-SHA256 for passwords (native code in the runtime, far faster than wasm;
//! the Workers cap of 100,000 iterations applies), and RS256 and AES-256-GCM for the GitHub
//! integration (so no RSA or AES code is compiled into the wasm).

use crate::auth::password::Kdf;
use crate::error::{Error, Result};
use wasm_bindgen_futures::JsFuture;
use web_sys::wasm_bindgen::{JsCast, JsValue};
use web_sys::{CryptoKey, Pbkdf2Params, WorkerGlobalScope, js_sys};

#[derive(Debug, Clone, Copy, Default)]
pub struct WebCryptoKdf;

fn failed(step: &str, e: JsValue) -> Error {
    Error::internal(format!("PBKDF2 {step}"), format!("{e:?}"))
}

impl Kdf for WebCryptoKdf {
    async fn pbkdf2_sha256(&self, password: &[u8], salt: &[u8], iterations: u32) -> Result<[u8; 32]> {
        let subtle = js_sys::global()
            .unchecked_into::<WorkerGlobalScope>()
            .crypto()
            .map_err(|e| failed("getting crypto", e))?
            .subtle();
        let usages = js_sys::Array::of1(&JsValue::from_str("deriveBits"));
        let key_data = js_sys::Uint8Array::from(password);
        let key: CryptoKey = JsFuture::from(
            subtle
                .import_key_with_str("raw", &key_data, "PBKDF2", false, &usages)
                .map_err(|e| failed("importing the key", e))?,
        )
        .await
        .map_err(|e| failed("importing the key", e))?
        .unchecked_into();
        let params =
            Pbkdf2Params::new("PBKDF2", &JsValue::from_str("SHA-256"), iterations, &js_sys::Uint8Array::from(salt));
        let bits =
            JsFuture::from(subtle.derive_bits_with_object(&params, &key, 256).map_err(|e| failed("deriving", e))?)
                .await
                .map_err(|e| failed("deriving", e))?;
        let bytes = js_sys::Uint8Array::new(&bits).to_vec();
        bytes
            .try_into()
            .map_err(|_| Error::internal("PBKDF2 deriving", "Web Crypto returned a key that is not 32 bytes"))
    }
}

/// RS256 and AES-256-GCM for the GitHub integration through Web Crypto (`github::crypto::Crypto`).
#[derive(Debug, Clone, Copy, Default)]
pub struct WebCrypto;

fn subtle(step: &str) -> Result<web_sys::SubtleCrypto> {
    let crypto = js_sys::global()
        .unchecked_into::<WorkerGlobalScope>()
        .crypto()
        .map_err(|e| Error::internal(format!("Web Crypto {step}"), format!("{e:?}")))?;
    Ok(crypto.subtle())
}

/// A plain object of string (or `iv` byte) fields: Web Crypto's algorithm parameters.
fn algorithm(fields: &[(&str, JsValue)]) -> Result<js_sys::Object> {
    let object = js_sys::Object::new();
    for (name, value) in fields {
        js_sys::Reflect::set(&object, &JsValue::from_str(name), value)
            .map_err(|e| Error::internal("Web Crypto parameters", format!("{e:?}")))?;
    }
    Ok(object)
}

/// Awaits a Web Crypto promise; its rejection is `failed(step)`.
async fn settle(step: &str, promise: std::result::Result<js_sys::Promise, JsValue>) -> Result<JsValue> {
    let failed = |e: JsValue| Error::internal(format!("Web Crypto {step}"), format!("{e:?}"));
    JsFuture::from(promise.map_err(failed)?).await.map_err(failed)
}

async fn import(format: &str, data: &[u8], params: &js_sys::Object, usages: &[&str]) -> Result<CryptoKey> {
    let usages: js_sys::Array = usages.iter().map(|u| JsValue::from_str(u)).collect();
    let data = js_sys::Uint8Array::from(data);
    let key = settle(
        "importing a key",
        subtle("importing a key")?.import_key_with_object(format, &data, params, false, &usages),
    );
    Ok(key.await?.unchecked_into())
}

fn aes_gcm(nonce: &[u8; 12]) -> Result<js_sys::Object> {
    algorithm(&[("name", JsValue::from_str("AES-GCM")), ("iv", js_sys::Uint8Array::from(&nonce[..]).into())])
}

impl crate::github::crypto::Crypto for WebCrypto {
    async fn rs256_sign(&self, pkcs8_der: &[u8], message: &[u8]) -> Result<Vec<u8>> {
        let rsa =
            algorithm(&[("name", JsValue::from_str("RSASSA-PKCS1-v1_5")), ("hash", JsValue::from_str("SHA-256"))])?;
        // A key Web Crypto refuses is the operator's secret, not a bug.
        let key = import("pkcs8", pkcs8_der, &rsa, &["sign"]).await.map_err(|e| {
            Error::Config(format!("GITHUB_APP_PRIVATE_KEY is not an RSA private key Web Crypto accepts: {e}"))
        })?;
        let signed =
            settle("signing", subtle("signing")?.sign_with_str_and_u8_array("RSASSA-PKCS1-v1_5", &key, message));
        Ok(js_sys::Uint8Array::new(&signed.await?).to_vec())
    }

    async fn aes_gcm_seal(&self, key: &[u8; 32], nonce: &[u8; 12], plain: &[u8]) -> Result<Vec<u8>> {
        let aes = algorithm(&[("name", JsValue::from_str("AES-GCM"))])?;
        let key = import("raw", key, &aes, &["encrypt"]).await?;
        let sealed =
            settle("encrypting", subtle("encrypting")?.encrypt_with_object_and_u8_array(&aes_gcm(nonce)?, &key, plain));
        Ok(js_sys::Uint8Array::new(&sealed.await?).to_vec())
    }

    async fn aes_gcm_open(&self, key: &[u8; 32], nonce: &[u8; 12], sealed: &[u8]) -> Result<Vec<u8>> {
        let aes = algorithm(&[("name", JsValue::from_str("AES-GCM"))])?;
        let key = import("raw", key, &aes, &["decrypt"]).await?;
        let plain = settle(
            "decrypting",
            subtle("decrypting")?.decrypt_with_object_and_u8_array(&aes_gcm(nonce)?, &key, sealed),
        );
        Ok(js_sys::Uint8Array::new(&plain.await?).to_vec())
    }
}
