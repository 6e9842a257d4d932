//! Stripe's REST API: form-encoded POSTs with bracket syntax, `Authorization: Bearer sk_...`, an
//! `Idempotency-Key` on every POST, and a pinned `Stripe-Version`. Errors come back as
//! `{error: {type, code, message}}`; a 5xx or a failed connection is transient (the webhook answers
//! 5xx so Stripe retries), a 4xx is a refusal worth reading.

use crate::config::{EnvSource, Secret, optional_secret};
use crate::error::{Error, Result};
use crate::http::{HttpClient, OutboundRequest};
use serde_json::Value;

/// The API version we read and write. From 2025-03-31.basil on, `current_period_*` live on the
/// subscription items and an invoice's subscription under `parent.subscription_details`; the readers
/// in [`super::subscription`] accept the older places too.
pub const API_VERSION: &str = "2025-03-31.basil";

#[derive(Debug, Clone)]
pub struct StripeConfig {
    pub api_base: String,
    /// `sk_...`; without it checkout and the portal answer 503 (payments not configured).
    pub secret_key: Option<Secret>,
    /// `whsec_...`; without it every webhook is refused.
    pub webhook_secret: Option<Secret>,
}

impl StripeConfig {
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        let api_base = env.var("STRIPE_API_BASE").unwrap_or_else(|| "https://api.stripe.com".into());
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(Error::Config("STRIPE_API_BASE must be an http(s) URL".into()));
        }
        Ok(Self {
            api_base: api_base.trim_end_matches('/').into(),
            secret_key: optional_secret(env, "STRIPE_SECRET_KEY"),
            webhook_secret: optional_secret(env, "STRIPE_WEBHOOK_SECRET"),
        })
    }
}

pub struct Stripe<'a, H> {
    pub http: &'a H,
    pub api_base: &'a str,
    pub secret_key: &'a Secret,
}

impl<'a, H: HttpClient> Stripe<'a, H> {
    /// The client, or 503 when payments are not configured here.
    pub fn new(http: &'a H, config: &'a StripeConfig) -> Result<Self> {
        let secret_key = config.secret_key.as_ref().ok_or_else(|| {
            Error::Unavailable("Payments are not configured on this server (STRIPE_SECRET_KEY).".into())
        })?;
        Ok(Self { http, api_base: &config.api_base, secret_key })
    }

    fn request(&self, method: &'static str, path: &str) -> OutboundRequest {
        OutboundRequest {
            method,
            url: format!("{}{path}", self.api_base),
            headers: vec![
                ("authorization".into(), format!("Bearer {}", self.secret_key.expose())),
                ("stripe-version".into(), API_VERSION.into()),
            ],
            body: None,
        }
    }

    /// `POST /v1/<path>` with a form body and an idempotency key (a retry with the same key returns
    /// the first result instead of creating a second object).
    pub async fn post(&self, path: &str, form: &[(&str, &str)], idempotency_key: &str) -> Result<Value> {
        let mut request = self.request("POST", path);
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        request.headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
        request.headers.push(("idempotency-key".into(), idempotency_key.into()));
        request.body = Some(body);
        self.send(request, path).await
    }

    pub async fn get(&self, path: &str) -> Result<Value> {
        let request = self.request("GET", path);
        self.send(request, path).await
    }

    async fn send(&self, request: OutboundRequest, path: &str) -> Result<Value> {
        let context = format!("Stripe {} {}", request.method, path.split('?').next().unwrap_or(path));
        let response = self.http.send(request).await?;
        let parsed: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
        if (200..300).contains(&response.status) {
            return if parsed.is_object() {
                Ok(parsed)
            } else {
                Err(Error::upstream(&context, "the answer is not JSON"))
            };
        }
        let message = parsed.pointer("/error/message").and_then(Value::as_str).unwrap_or("no error message");
        Err(Error::upstream(&context, format!("HTTP {}: {message}", response.status)))
    }
}

/// A Stripe object id from a field that holds the id or the expanded object.
pub fn id_of(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| value.get("id").and_then(Value::as_str)).filter(|id| !id.is_empty())
}

/// Ids that go into a URL path: Stripe's alphabet only, so nothing can change the path.
pub fn path_id(id: &str) -> Result<&str> {
    if !id.is_empty() && id.len() <= 255 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(id)
    } else {
        Err(Error::BadRequest(format!("{id:?} is not a Stripe id")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::RecordingHttp;
    use futures::executor::block_on;

    fn config() -> StripeConfig {
        StripeConfig {
            api_base: "http://127.0.0.1:7".into(),
            secret_key: Some(Secret::new("sk_test_1")),
            webhook_secret: None,
        }
    }

    #[test]
    fn posts_are_form_encoded_with_brackets_keyed_versioned_and_idempotent() {
        let http = RecordingHttp::answering(200, r#"{"id":"cs_1","url":"https://checkout.stripe.com/c/pay/cs_1"}"#);
        let config = config();
        let stripe = Stripe::new(&http, &config).expect("configured");
        let form = [("line_items[0][price]", "price_1"), ("metadata[user_id]", "u 1&x")];
        let session = block_on(stripe.post("/v1/checkout/sessions", &form, "checkout-u1")).expect("created");
        assert_eq!(session["id"], "cs_1");
        let sent = &http.sent.borrow()[0];
        assert_eq!(sent.url, "http://127.0.0.1:7/v1/checkout/sessions");
        assert_eq!(sent.body.as_deref(), Some("line_items%5B0%5D%5Bprice%5D=price_1&metadata%5Buser_id%5D=u+1%26x"));
        for header in [
            ("authorization", "Bearer sk_test_1"),
            ("stripe-version", API_VERSION),
            ("idempotency-key", "checkout-u1"),
            ("content-type", "application/x-www-form-urlencoded"),
        ] {
            assert!(sent.headers.contains(&(header.0.into(), header.1.into())), "{header:?}");
        }
    }

    #[test]
    fn stripe_errors_are_upstream_failures_carrying_stripes_message() {
        let http = RecordingHttp::answering(
            400,
            r#"{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such price: 'price_x'"}}"#,
        );
        let config = config();
        let error =
            block_on(Stripe::new(&http, &config).expect("configured").get("/v1/prices/price_x")).expect_err("refused");
        assert_eq!(error.status_code(), 502);
        assert!(format!("{error:?}").contains("No such price"), "{error:?}");
        let unconfigured = StripeConfig { secret_key: None, ..config };
        assert_eq!(Stripe::new(&http, &unconfigured).err().map(|e| e.status_code()), Some(503));
        assert!(path_id("sub_1Abc").is_ok());
        assert!(path_id("sub_1/../../v1/charges").is_err());
    }
}
