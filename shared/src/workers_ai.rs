//! Workers AI over its REST API: `POST {base}/client/v4/accounts/{account}/ai/run/{model}` with a
//! Cloudflare API token, answering `{result, success, errors, messages}`. The production workers run
//! models through the `AI` binding instead; this is how the indexer (`make kb`) and a worker without
//! the binding reach the same models, and how the tests reach a fake of them.
//!
//! Configured by `WORKERS_AI_ACCOUNT_ID`, the secret `WORKERS_AI_API_TOKEN` and `WORKERS_AI_BASE_URL`
//! (not wrangler's own `CLOUDFLARE_*` variables, which would change what wrangler itself does).

use crate::config::{EnvSource, Secret, optional_secret};
use crate::error::{Error, Result};
use crate::http::{HttpClient, OutboundRequest};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct RestConfig {
    pub base_url: String,
    pub account_id: String,
    pub token: Secret,
}

impl RestConfig {
    /// Configured when `WORKERS_AI_ACCOUNT_ID` and the secret `WORKERS_AI_API_TOKEN` are both set;
    /// `WORKERS_AI_BASE_URL` defaults to `https://api.cloudflare.com`.
    pub fn from_env(env: &impl EnvSource) -> Result<Option<Self>> {
        let (Some(account_id), Some(token)) = (
            env.var("WORKERS_AI_ACCOUNT_ID").filter(|a| !a.trim().is_empty()),
            optional_secret(env, "WORKERS_AI_API_TOKEN"),
        ) else {
            return Ok(None);
        };
        if !account_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::Config("WORKERS_AI_ACCOUNT_ID must be the account's hex id".into()));
        }
        let base_url = env.var("WORKERS_AI_BASE_URL").unwrap_or_else(|| "https://api.cloudflare.com".into());
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(Error::Config("WORKERS_AI_BASE_URL must be an http(s) URL".into()));
        }
        Ok(Some(Self { base_url: base_url.trim_end_matches('/').into(), account_id, token }))
    }
}

/// Model ids are `@cf/<author>/<name>`: letters, digits, `@ / . - _` only, so the id is safe in a path.
fn valid_model(model: &str) -> bool {
    model.starts_with("@cf/")
        && !model.contains("..")
        && model.chars().all(|c| c.is_ascii_alphanumeric() || "@/.-_".contains(c))
}

pub fn request(config: &RestConfig, model: &str, input: &Value) -> Result<OutboundRequest> {
    if !valid_model(model) {
        return Err(Error::Config(format!("{model:?} is not a Workers AI model id (@cf/...)")));
    }
    let mut request = OutboundRequest::post_json(
        format!("{}/client/v4/accounts/{}/ai/run/{model}", config.base_url, config.account_id),
        input,
    );
    request.headers.push(("authorization".into(), format!("Bearer {}", config.token.expose())));
    Ok(request)
}

/// The model's output from the envelope, or the API's own error message.
pub fn read(status: u16, body: &str) -> Result<Value> {
    let parsed: Value = serde_json::from_str(body)
        .map_err(|_| Error::upstream("running a Workers AI model", format!("HTTP {status}: not JSON")))?;
    if (200..300).contains(&status) && parsed["success"] == Value::Bool(true) {
        return Ok(parsed["result"].clone());
    }
    let message = parsed.pointer("/errors/0/message").and_then(Value::as_str).unwrap_or("no error message");
    Err(Error::upstream("running a Workers AI model", format!("HTTP {status}: {message}")))
}

pub async fn run(http: &impl HttpClient, config: &RestConfig, model: &str, input: &Value) -> Result<Value> {
    let response = http.send(request(config, model, input)?).await?;
    read(response.status, &response.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::RecordingHttp;
    use futures::executor::block_on;
    use serde_json::json;
    use std::collections::HashMap;

    fn config() -> RestConfig {
        let env = HashMap::from([
            ("WORKERS_AI_ACCOUNT_ID", "0123abcd"),
            ("WORKERS_AI_API_TOKEN", "cf-token"),
            ("WORKERS_AI_BASE_URL", "http://127.0.0.1:9/"),
        ]);
        RestConfig::from_env(&env).expect("valid").expect("configured")
    }

    #[test]
    fn models_run_at_the_accounts_ai_path_with_the_token_and_the_result_is_unwrapped() {
        let http = RecordingHttp::answering(
            200,
            r#"{"result":{"shape":[1,2],"data":[[0.1,0.2]]},"success":true,"errors":[],"messages":[]}"#,
        );
        let output =
            block_on(run(&http, &config(), "@cf/baai/bge-base-en-v1.5", &json!({"text": ["a"]}))).expect("ran");
        assert_eq!(output, json!({"shape": [1, 2], "data": [[0.1, 0.2]]}));
        let sent = &http.sent.borrow()[0];
        assert_eq!(sent.url, "http://127.0.0.1:9/client/v4/accounts/0123abcd/ai/run/@cf/baai/bge-base-en-v1.5");
        assert!(sent.headers.contains(&("authorization".into(), "Bearer cf-token".into())));
    }

    #[test]
    fn api_errors_carry_cloudflares_message_and_bad_model_ids_never_reach_the_url() {
        let http = RecordingHttp::answering(
            400,
            r#"{"result":null,"success":false,"errors":[{"code":5006,"message":"AiError: Bad input"}],"messages":[]}"#,
        );
        let error = block_on(run(&http, &config(), "@cf/baai/bge-base-en-v1.5", &json!({}))).expect_err("refused");
        assert!(error.to_string().contains("AiError: Bad input"), "{error}");
        assert!(block_on(run(&http, &config(), "@cf/x/../../tokens?y=1", &json!({}))).is_err());
        assert_eq!(http.sent.borrow().len(), 1, "the bad id was refused before sending");
        assert!(RestConfig::from_env(&HashMap::from([("WORKERS_AI_ACCOUNT_ID", "abc")])).expect("valid").is_none());
    }
}
