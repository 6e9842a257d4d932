//! GitHub's REST API: `Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28`, a
//! `User-Agent`. Errors map to what our callers should see: a rate limit is 429 with Retry-After,
//! GitHub failing is 502, and 4xx refusals carry GitHub's message.

use super::crypto::Crypto;
use super::jwt;
use crate::config::{EnvSource, Secret, optional_secret};
use crate::error::{Error, Result};
use crate::http::{HttpClient, OutboundRequest, OutboundResponse};
use crate::storage::KeyValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const API_VERSION: &str = "2022-11-28";
/// An installation token is reused until this long before it expires.
const TOKEN_MARGIN_MS: i64 = 5 * 60 * 1_000;

#[derive(Debug, Clone)]
pub struct GitHubConfig {
    pub api_base: String,
    pub app_id: String,
    pub private_key: Secret,
    pub installation_id: String,
    /// The platform's organisation, where repositories are created.
    pub org: String,
}

impl GitHubConfig {
    /// The configuration, or 503 naming what is missing (the Builder still works without it).
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        let var = |name: &str| env.var(name).filter(|v| !v.trim().is_empty());
        let missing =
            |name: &str| Error::Unavailable(format!("Pushing to GitHub is not configured on this server ({name})."));
        let api_base = var("GITHUB_API_BASE").unwrap_or_else(|| "https://api.github.com".into());
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(Error::Config("GITHUB_API_BASE must be an http(s) URL".into()));
        }
        let numeric = |name: &str, value: String| {
            if value.chars().all(|c| c.is_ascii_digit()) {
                Ok(value)
            } else {
                Err(Error::Config(format!("{name} must be a number")))
            }
        };
        Ok(Self {
            api_base: api_base.trim_end_matches('/').into(),
            app_id: numeric("GITHUB_APP_ID", var("GITHUB_APP_ID").ok_or_else(|| missing("GITHUB_APP_ID"))?)?,
            private_key: optional_secret(env, "GITHUB_APP_PRIVATE_KEY")
                .ok_or_else(|| missing("GITHUB_APP_PRIVATE_KEY"))?,
            installation_id: numeric(
                "GITHUB_INSTALLATION_ID",
                var("GITHUB_INSTALLATION_ID").ok_or_else(|| missing("GITHUB_INSTALLATION_ID"))?,
            )?,
            org: var("GITHUB_ORG").ok_or_else(|| missing("GITHUB_ORG"))?,
        })
    }
}

pub struct GitHub<'a, H, K, X> {
    pub http: &'a H,
    pub cache: &'a K,
    /// Signs the App's JWT (Web Crypto in the workers).
    pub crypto: &'a X,
    pub config: &'a GitHubConfig,
    pub now_ms: i64,
}

#[derive(Serialize, Deserialize)]
struct CachedToken {
    token: String,
    expires_at_ms: i64,
}

/// GitHub's answer, for callers that treat some refusals specially (422 name taken, 409 empty repo).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl<H: HttpClient, K: KeyValue, X: Crypto> GitHub<'_, H, K, X> {
    fn request(&self, method: &'static str, path: &str, authorization: &str, body: Option<&Value>) -> OutboundRequest {
        let mut request = match body {
            Some(body) => OutboundRequest::post_json(format!("{}{path}", self.config.api_base), body),
            None => OutboundRequest {
                method,
                url: format!("{}{path}", self.config.api_base),
                headers: Vec::new(),
                body: None,
            },
        };
        request.method = method;
        request.headers.extend([
            ("accept".to_owned(), "application/vnd.github+json".to_owned()),
            ("x-github-api-version".to_owned(), API_VERSION.to_owned()),
            ("user-agent".to_owned(), "FHIR-IQ-Builder".to_owned()),
            ("authorization".to_owned(), authorization.to_owned()),
        ]);
        request
    }

    /// The installation token: from the cache while it has over five minutes left, else a new one
    /// for a freshly signed App JWT.
    pub async fn installation_token(&self) -> Result<String> {
        let key = format!("github:installation-token:{}", self.config.installation_id);
        if let Some(cached) = self.cache.get(&key).await.ok().flatten()
            && let Ok(cached) = serde_json::from_str::<CachedToken>(&cached)
            && cached.expires_at_ms - self.now_ms > TOKEN_MARGIN_MS
        {
            return Ok(cached.token);
        }
        let private_key = jwt::parse_key(self.config.private_key.expose())?;
        let app_jwt = jwt::app_jwt(&self.config.app_id, &private_key, self.crypto, self.now_ms / 1_000).await?;
        let path = format!("/app/installations/{}/access_tokens", self.config.installation_id);
        let request = self.request("POST", &path, &format!("Bearer {app_jwt}"), Some(&serde_json::json!({})));
        let answer = self.check(self.http.send(request).await?, "getting an installation token")?;
        let token = answer.body["token"].as_str().ok_or_else(|| Error::upstream("GitHub", "no installation token"))?;
        let expires_at_ms = answer.body["expires_at"]
            .as_str()
            .and_then(crate::time::parse_rfc3339)
            .unwrap_or(self.now_ms + 60 * 60 * 1_000);
        let ttl = u64::try_from((expires_at_ms - self.now_ms - TOKEN_MARGIN_MS) / 1_000).unwrap_or(0);
        if ttl >= 60 {
            let cached =
                serde_json::to_string(&CachedToken { token: token.to_owned(), expires_at_ms }).unwrap_or_default();
            // A cache that fails costs a token request next time, nothing more.
            let _ = self.cache.put(&key, &cached, Some(ttl)).await;
        }
        Ok(token.to_owned())
    }

    /// A call with the installation token. 2xx answers are `Ok`; rate limits, outages and
    /// authorization failures are errors; other 4xx come back for the caller to judge.
    pub async fn call(&self, method: &'static str, path: &str, body: Option<&Value>) -> Result<Answer> {
        self.call_as(None, method, path, body).await
    }

    /// [`Self::call`] with a user's own token instead of the installation's (`None`).
    pub async fn call_as(
        &self,
        user_token: Option<&str>,
        method: &'static str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer> {
        let token = match user_token {
            Some(token) => token.to_owned(),
            None => self.installation_token().await?,
        };
        let response = self.http.send(self.request(method, path, &format!("Bearer {token}"), body)).await?;
        let status = response.status;
        let answer = self.check(response, path)?;
        Ok(Answer { status, body: answer.body })
    }

    fn check(&self, response: OutboundResponse, context: &str) -> Result<Answer> {
        let status = response.status;
        let body: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
        let message = body["message"].as_str().unwrap_or_default().to_owned();
        let exhausted = response.header("x-ratelimit-remaining") == Some("0");
        if status == 429 || (status == 403 && (exhausted || response.header("retry-after").is_some())) {
            let retry_after_seconds = match response.header("retry-after").and_then(|r| r.parse::<u64>().ok()) {
                Some(seconds) => seconds,
                None => response
                    .header("x-ratelimit-reset")
                    .and_then(|r| r.parse::<i64>().ok())
                    .map_or(60, |reset| u64::try_from(reset - self.now_ms / 1_000).unwrap_or(1).max(1)),
            };
            return Err(Error::TooManyRequests { retry_after_seconds });
        }
        if status >= 500 {
            return Err(Error::upstream(format!("GitHub {context}"), format!("HTTP {status}: {message}")));
        }
        if status == 401 || status == 403 {
            // Our credentials, not the user's doing: an operator must fix the App's configuration.
            return Err(Error::upstream(format!("GitHub {context}"), format!("HTTP {status}: {message}")));
        }
        Ok(Answer { status, body })
    }
}
