//! Connecting a user's own GitHub account (GitHub App user-to-server OAuth), so the Builder can create
//! repositories there: an installation token cannot (`POST /user/repos` answers 403 for it).
//!
//! The web flow: `{web}/login/oauth/authorize?client_id&redirect_uri&state`, then the code is
//! exchanged at `{web}/login/oauth/access_token` for an 8-hour user token and a 6-month refresh token.
//! Tokens are stored encrypted (AES-256-GCM, key from the `GITHUB_TOKEN_KEY` secret) and refreshed
//! when the access token has under five minutes left. The `state` is single-use, bound to the
//! signed-in user, and expires in ten minutes; only its hash is stored.

use super::crypto::Crypto;
use crate::auth::session::token_hash;
use crate::config::{EnvSource, Secret, optional_secret};
use crate::error::{Error, Result};
use crate::http::{HttpClient, OutboundRequest};
use crate::ids;
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

const STATE_TTL_MS: Millis = 10 * 60 * 1_000;
const REFRESH_MARGIN_MS: Millis = 5 * 60 * 1_000;

#[derive(Clone)]
pub struct OAuthConfig {
    pub web_base: String,
    pub api_base: String,
    pub client_id: String,
    pub client_secret: Secret,
    key: [u8; 32],
}

impl OAuthConfig {
    /// The configuration, or 503 naming what is missing.
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        let missing = |name: &str| {
            Error::Unavailable(format!("Connecting GitHub accounts is not configured on this server ({name})."))
        };
        let web_base = env.var("GITHUB_WEB_BASE").unwrap_or_else(|| "https://github.com".into());
        let api_base = env.var("GITHUB_API_BASE").unwrap_or_else(|| "https://api.github.com".into());
        for (name, url) in [("GITHUB_WEB_BASE", &web_base), ("GITHUB_API_BASE", &api_base)] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(Error::Config(format!("{name} must be an http(s) URL")));
            }
        }
        let key_material = optional_secret(env, "GITHUB_TOKEN_KEY").ok_or_else(|| missing("GITHUB_TOKEN_KEY"))?;
        if key_material.expose().len() < 32 {
            return Err(Error::Config("GITHUB_TOKEN_KEY must be at least 32 characters of random text".into()));
        }
        Ok(Self {
            web_base: web_base.trim_end_matches('/').into(),
            api_base: api_base.trim_end_matches('/').into(),
            client_id: env
                .var("GITHUB_CLIENT_ID")
                .filter(|v| !v.is_empty())
                .ok_or_else(|| missing("GITHUB_CLIENT_ID"))?,
            client_secret: optional_secret(env, "GITHUB_CLIENT_SECRET")
                .ok_or_else(|| missing("GITHUB_CLIENT_SECRET"))?,
            key: Sha256::digest(key_material.expose().as_bytes()).into(),
        })
    }

    async fn seal(&self, crypto: &impl Crypto, plain: &str) -> Result<String> {
        let nonce: [u8; 12] = hex::decode(ids::random_hex(12)?)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::internal("sealing a token", "no nonce"))?;
        let sealed = crypto.aes_gcm_seal(&self.key, &nonce, plain.as_bytes()).await?;
        Ok(format!("{}{}", hex::encode(nonce), hex::encode(sealed)))
    }

    async fn open(&self, crypto: &impl Crypto, sealed: &str) -> Result<String> {
        let fail = || Error::internal("opening a stored token", "it does not decrypt (was GITHUB_TOKEN_KEY changed?)");
        let bytes = hex::decode(sealed).map_err(|_| fail())?;
        if bytes.len() < 12 {
            return Err(fail());
        }
        let (nonce, sealed) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| fail())?;
        let plain = crypto.aes_gcm_open(&self.key, &nonce, sealed).await.map_err(|_| fail())?;
        String::from_utf8(plain).map_err(|_| fail())
    }
}

/// The configuration and what seals the tokens with its key (Web Crypto in the workers).
pub struct OAuth<'a, X> {
    pub config: &'a OAuthConfig,
    pub crypto: &'a X,
}

fn redirect_uri(site_url: &str) -> String {
    format!("{site_url}/api/github/callback")
}

/// Starts the flow: answers the URL to send the browser to.
pub async fn begin(
    db: &impl Database,
    config: &OAuthConfig,
    user_id: &str,
    site_url: &str,
    now: Millis,
) -> Result<String> {
    let state = ids::new_token()?;
    db.execute(
        Statement::new("INSERT INTO github_oauth_states (state_hash, user_id, expires_at) VALUES (?1, ?2, ?3)")
            .bind(token_hash(&state))
            .bind(user_id)
            .bind(now + STATE_TTL_MS),
    )
    .await?;
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &config.client_id)
        .append_pair("redirect_uri", &redirect_uri(site_url))
        .append_pair("state", &state)
        .finish();
    Ok(format!("{}/login/oauth/authorize?{query}", config.web_base))
}

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    expires_in: Option<i64>,
    refresh_token: Option<String>,
    refresh_token_expires_in: Option<i64>,
}

async fn token_request(http: &impl HttpClient, config: &OAuthConfig, form: &[(&str, &str)]) -> Result<Tokens> {
    let mut pairs = vec![("client_id", config.client_id.as_str()), ("client_secret", config.client_secret.expose())];
    pairs.extend_from_slice(form);
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let request = OutboundRequest {
        method: "POST",
        url: format!("{}/login/oauth/access_token", config.web_base),
        headers: vec![
            ("accept".into(), "application/json".into()),
            ("content-type".into(), "application/x-www-form-urlencoded".into()),
            ("user-agent".into(), "FHIR-IQ-Builder".into()),
        ],
        body: Some(body),
    };
    let response = http.send(request).await?.success("GitHub OAuth")?;
    let value: Value = serde_json::from_str(&response.body).map_err(|e| Error::upstream("GitHub OAuth", e))?;
    // GitHub answers 200 with {error, error_description} for a bad or used code.
    if let Some(error) = value["error"].as_str() {
        let description = value["error_description"].as_str().unwrap_or(error);
        return Err(Error::BadRequest(format!("GitHub refused the authorization: {description}")));
    }
    serde_json::from_value(value).map_err(|e| Error::upstream("GitHub OAuth", e))
}

async fn store(
    db: &impl Database,
    crypto: &impl Crypto,
    config: &OAuthConfig,
    user_id: &str,
    login: &str,
    tokens: &Tokens,
    now: Millis,
) -> Result<()> {
    let access_expires = tokens.expires_in.map(|s| now + s * 1_000);
    let refresh_expires = tokens.refresh_token_expires_in.map(|s| now + s * 1_000);
    let refresh = match tokens.refresh_token.as_deref() {
        Some(token) => Some(config.seal(crypto, token).await?),
        None => None,
    };
    let access = config.seal(crypto, &tokens.access_token).await?;
    db.execute(
        Statement::new(
            "INSERT INTO github_user_tokens (user_id, login, access_token, access_expires_at, refresh_token, refresh_expires_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (user_id) DO UPDATE SET login = excluded.login, access_token = excluded.access_token,
               access_expires_at = excluded.access_expires_at, refresh_token = excluded.refresh_token,
               refresh_expires_at = excluded.refresh_expires_at, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(login)
        .bind(access)
        .bind(access_expires)
        .bind(refresh)
        .bind(refresh_expires)
        .bind(now),
    )
    .await
    .map(|_| ())
}

#[derive(Deserialize)]
struct StateRow {
    user_id: String,
    expires_at: i64,
}

/// What GitHub sends back to the callback.
#[derive(Debug, Clone, Deserialize)]
pub struct Callback {
    pub code: String,
    pub state: String,
}

/// Finishes the flow for the signed-in user: answers their GitHub login.
pub async fn complete<X: Crypto>(
    db: &impl Database,
    http: &impl HttpClient,
    oauth: &OAuth<'_, X>,
    user_id: &str,
    callback: &Callback,
    site_url: &str,
    now: Millis,
) -> Result<String> {
    let (config, crypto) = (oauth.config, oauth.crypto);
    let (code, state) = (callback.code.as_str(), callback.state.as_str());
    let hash = token_hash(state);
    let row: Option<StateRow> = db
        .query_first(
            Statement::new("SELECT user_id, expires_at FROM github_oauth_states WHERE state_hash = ?1")
                .bind(hash.as_str()),
        )
        .await?;
    db.execute(
        Statement::new("DELETE FROM github_oauth_states WHERE state_hash = ?1 OR expires_at < ?2")
            .bind(hash.as_str())
            .bind(now),
    )
    .await?;
    match row {
        Some(row) if row.user_id == user_id && row.expires_at >= now => {}
        _ => {
            return Err(Error::BadRequest(
                "This GitHub authorization is unknown, used or expired. Start again.".into(),
            ));
        }
    }
    let tokens = token_request(http, config, &[("code", code), ("redirect_uri", &redirect_uri(site_url))]).await?;
    let mut request = OutboundRequest {
        method: "GET",
        url: format!("{}/user", config.api_base),
        headers: vec![
            ("accept".into(), "application/vnd.github+json".into()),
            ("x-github-api-version".into(), super::client::API_VERSION.into()),
            ("user-agent".into(), "FHIR-IQ-Builder".into()),
        ],
        body: None,
    };
    request.headers.push(("authorization".into(), format!("Bearer {}", tokens.access_token)));
    let user = http.send(request).await?.success("reading the GitHub user")?;
    let user: Value = serde_json::from_str(&user.body).map_err(|e| Error::upstream("GitHub /user", e))?;
    let login = user["login"].as_str().ok_or_else(|| Error::upstream("GitHub /user", "no login"))?.to_owned();
    store(db, crypto, config, user_id, &login, &tokens, now).await?;
    Ok(login)
}

#[derive(Deserialize)]
struct TokenRow {
    login: String,
    access_token: String,
    access_expires_at: Option<i64>,
    refresh_token: Option<String>,
    refresh_expires_at: Option<i64>,
}

/// The user's GitHub login, if connected (for the wizard).
pub async fn connected_login(db: &impl Database, user_id: &str) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct Login {
        login: String,
    }
    let row: Option<Login> =
        db.query_first(Statement::new("SELECT login FROM github_user_tokens WHERE user_id = ?1").bind(user_id)).await?;
    Ok(row.map(|r| r.login))
}

pub fn disconnect(user_id: &str) -> Statement {
    Statement::new("DELETE FROM github_user_tokens WHERE user_id = ?1").bind(user_id)
}

/// The user's (login, access token), refreshed first when it has under five minutes left. A user
/// who never connected, or whose refresh token has expired, must connect (again): 409.
pub async fn user_token<X: Crypto>(
    db: &impl Database,
    http: &impl HttpClient,
    oauth: &OAuth<'_, X>,
    user_id: &str,
    now: Millis,
) -> Result<(String, String)> {
    let (config, crypto) = (oauth.config, oauth.crypto);
    let reconnect =
        || Error::Conflict("Connect your GitHub account first (or again: the authorization expired).".into());
    let row: Option<TokenRow> = db
        .query_first(
            Statement::new(
                "SELECT login, access_token, access_expires_at, refresh_token, refresh_expires_at FROM github_user_tokens WHERE user_id = ?1",
            )
            .bind(user_id),
        )
        .await?;
    let row = row.ok_or_else(reconnect)?;
    if row.access_expires_at.is_none_or(|at| at - now > REFRESH_MARGIN_MS) {
        return Ok((row.login, config.open(crypto, &row.access_token).await?));
    }
    let refresh = match (&row.refresh_token, row.refresh_expires_at) {
        (Some(sealed), Some(until)) if until > now => config.open(crypto, sealed).await?,
        _ => return Err(reconnect()),
    };
    let tokens = token_request(http, config, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await?;
    store(db, crypto, config, user_id, &row.login, &tokens, now).await?;
    Ok((row.login, tokens.access_token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::crypto::reference::RustCrypto;
    use crate::http::testing::RecordingHttp;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;
    use std::collections::HashMap;

    fn config() -> OAuthConfig {
        OAuthConfig::from_env(&HashMap::from([
            ("GITHUB_WEB_BASE", "http://127.0.0.1:5"),
            ("GITHUB_API_BASE", "http://127.0.0.1:6"),
            ("GITHUB_CLIENT_ID", "Iv1.client"),
            ("GITHUB_CLIENT_SECRET", "client-secret"),
            ("GITHUB_TOKEN_KEY", "0123456789abcdef0123456789abcdef-key"),
        ]))
        .expect("valid")
    }

    fn db() -> SqliteDb {
        let db = SqliteDb::with_schema();
        block_on(db.execute(Statement::new(
            "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES ('u1', 'u1@example.org', 'x', 0, 0)",
        )))
        .expect("user");
        db
    }

    const TOKENS: &str = r#"{"access_token":"ghu_one","expires_in":28800,"refresh_token":"ghr_one","refresh_token_expires_in":15897600,"token_type":"bearer","scope":""}"#;

    #[test]
    fn the_flow_binds_state_to_the_user_stores_tokens_sealed_and_refreshes_them() {
        let db = db();
        let config = config();
        let url = block_on(begin(&db, &config, "u1", "https://fhiriq.test", 0)).expect("begins");
        assert!(url.starts_with("http://127.0.0.1:5/login/oauth/authorize?client_id=Iv1.client"));
        let state = url.split("state=").nth(1).expect("a state").to_owned();
        let http = RecordingHttp::answering(200, TOKENS).then(200, r#"{"login":"octo-dev","id":1}"#);
        assert!(
            block_on(complete(
                &db,
                &http,
                &OAuth { config: &config, crypto: &RustCrypto },
                "u2",
                &Callback { code: "code".into(), state: state.clone() },
                "https://fhiriq.test",
                1
            ))
            .is_err(),
            "another user"
        );
        let url = block_on(begin(&db, &config, "u1", "https://fhiriq.test", 0)).expect("begins");
        let state = url.split("state=").nth(1).expect("a state").to_owned();
        let login = block_on(complete(
            &db,
            &http,
            &OAuth { config: &config, crypto: &RustCrypto },
            "u1",
            &Callback { code: "code".into(), state: state.clone() },
            "https://fhiriq.test",
            1,
        ))
        .expect("connected");
        assert_eq!(login, "octo-dev");
        assert!(
            block_on(complete(
                &db,
                &http,
                &OAuth { config: &config, crypto: &RustCrypto },
                "u1",
                &Callback { code: "code".into(), state: state.clone() },
                "https://fhiriq.test",
                2
            ))
            .is_err(),
            "single use"
        );
        #[derive(Deserialize)]
        struct Stored {
            access_token: String,
        }
        let stored: Stored = block_on(db.query_first(Statement::new("SELECT access_token FROM github_user_tokens")))
            .expect("q")
            .expect("row");
        assert!(!stored.access_token.contains("ghu_one"), "sealed at rest");
        assert_eq!(
            block_on(user_token(&db, &http, &OAuth { config: &config, crypto: &RustCrypto }, "u1", 2))
                .expect("token")
                .1,
            "ghu_one"
        );

        // Eight hours later: refreshed with the refresh token.
        let refreshed =
            RecordingHttp::answering(200, &TOKENS.replace("ghu_one", "ghu_two").replace("ghr_one", "ghr_two"));
        let later = 8 * 60 * 60 * 1_000;
        assert_eq!(
            block_on(user_token(&db, &refreshed, &OAuth { config: &config, crypto: &RustCrypto }, "u1", later))
                .expect("token")
                .1,
            "ghu_two"
        );
        let sent = refreshed.sent.borrow()[0].body.clone().unwrap_or_default();
        assert!(sent.contains("grant_type=refresh_token") && sent.contains("refresh_token=ghr_one"), "{sent}");
        // Seven months later the refresh token has expired too: connect again.
        let status = block_on(user_token(
            &db,
            &refreshed,
            &OAuth { config: &config, crypto: &RustCrypto },
            "u1",
            later + 200 * 24 * 60 * 60 * 1_000,
        ))
        .err()
        .map(|e| e.status_code());
        assert_eq!(status, Some(409));
    }

    #[test]
    fn a_refused_code_is_400_and_a_missing_configuration_503() {
        let db = db();
        let config = config();
        let url = block_on(begin(&db, &config, "u1", "https://fhiriq.test", 0)).expect("begins");
        let state = url.split("state=").nth(1).expect("a state").to_owned();
        let http = RecordingHttp::answering(
            200,
            r#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}"#,
        );
        let refused = block_on(complete(
            &db,
            &http,
            &OAuth { config: &config, crypto: &RustCrypto },
            "u1",
            &Callback { code: "bad".into(), state: state.clone() },
            "https://fhiriq.test",
            1,
        ))
        .expect_err("refused");
        assert_eq!(refused.status_code(), 400);
        assert_eq!(OAuthConfig::from_env(&HashMap::<&str, &str>::new()).err().map(|e| e.status_code()), Some(503));
    }
}
