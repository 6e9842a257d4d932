//! PBKDF2-HMAC-SHA256 through Web Crypto: native code in the runtime, far faster than wasm, and the
//! Workers cap of 100,000 iterations applies.

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
