//! Sessions: a random 256-bit token in an HttpOnly, Secure, SameSite=Lax cookie; only its SHA-256 is
//! stored. A session ends when idle too long, at its absolute expiry, or when revoked. In production
//! the cookie is `__Host-fhiriq_session` (see [`SessionCookie`]).

use crate::config::{EnvSource, Environment, environment, number};
use crate::error::Result;
use crate::ids;
use crate::storage::{Database, Statement};
use crate::time::{Millis, SECOND};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The session cookie's name in development (`make dev`, the tests, on http://127.0.0.1).
pub const DEVELOPMENT_COOKIE: &str = "fhiriq_session";
/// The session cookie's name in production. Browsers accept a `__Host-` cookie only when it is
/// `Secure`, has `Path=/` and no `Domain`, and comes from an https origin: a sibling subdomain or a
/// plain-http response can then neither set nor overwrite it (cookie tossing, session fixation).
pub const PRODUCTION_COOKIE: &str = "__Host-fhiriq_session";

/// The session cookie of this environment: `__Host-fhiriq_session` in production, and the plain
/// `fhiriq_session` in development, where the origin is http://127.0.0.1 and not every browser
/// accepts a prefixed (so Secure) cookie from plain http. Each environment reads only its own name:
/// production never accepts the unprefixed cookie, which anyone able to toss a cookie could set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCookie {
    name: &'static str,
}

impl SessionCookie {
    pub fn for_environment(environment: Environment) -> Self {
        let name = match environment {
            Environment::Production => PRODUCTION_COOKIE,
            Environment::Development => DEVELOPMENT_COOKIE,
        };
        Self { name }
    }

    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        Ok(Self::for_environment(environment(env)?))
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// `Set-Cookie` for a new or renewed session. `Secure`, `Path=/` and no `Domain` always (what
    /// `__Host-` requires); browsers accept `Secure` on https and on http://localhost / 127.0.0.1.
    pub fn set(&self, token: &str, max_age_ms: Millis) -> String {
        format!("{}={token}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={}", self.name, max_age_ms.max(0) / SECOND)
    }

    pub fn clear(&self) -> String {
        format!("{}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0", self.name)
    }

    /// The session token from a `Cookie` header, if it has the expected shape.
    pub fn token(&self, header: Option<&str>) -> Option<String> {
        header?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.name)
            .map(|(_, value)| value.to_owned())
            .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    pub idle_ms: Millis,
    pub absolute_ms: Millis,
    /// last_seen_at is written at most this often, so reads stay reads.
    pub touch_every_ms: Millis,
}

impl SessionConfig {
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        let idle = number(env, "SESSION_IDLE_SECONDS", 7 * 86_400, 1..=90 * 86_400)?;
        let absolute = number(env, "SESSION_ABSOLUTE_SECONDS", 30 * 86_400, 1..=365 * 86_400)?;
        let idle_ms = idle as Millis * SECOND;
        Ok(Self {
            idle_ms,
            absolute_ms: absolute as Millis * SECOND,
            touch_every_ms: (idle_ms / 10).min(3_600 * SECOND),
        })
    }
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new session: the token for the cookie, and the insert.
pub fn create(
    user_id: &str,
    user_agent: Option<&str>,
    now: Millis,
    config: &SessionConfig,
) -> Result<(String, Statement)> {
    let token = ids::new_token()?;
    let insert = Statement::new(
        "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, user_agent) VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(now)
    .bind(now + config.absolute_ms)
    .bind(user_agent.map(|ua| ua.chars().take(200).collect::<String>()));
    Ok((token, insert))
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
}

/// The live session for a cookie token, touched (idle window slides) when due. Expired sessions are
/// deleted on sight.
pub async fn resume(
    db: &impl Database,
    token: &str,
    now: Millis,
    config: &SessionConfig,
) -> Result<Option<SessionRow>> {
    let id = token_hash(token);
    let row: Option<SessionRow> = db
        .query_first(
            Statement::new(
                "SELECT id, user_id, created_at, last_seen_at, expires_at, user_agent FROM sessions s WHERE id = ?1
                   AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id AND u.disabled_at IS NOT NULL)",
            )
            .bind(id.as_str()),
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    if now >= row.expires_at || now - row.last_seen_at > config.idle_ms {
        db.execute(Statement::new("DELETE FROM sessions WHERE id = ?1").bind(id)).await?;
        return Ok(None);
    }
    if now - row.last_seen_at >= config.touch_every_ms {
        db.execute(Statement::new("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1").bind(id).bind(now)).await?;
    }
    Ok(Some(row))
}

pub fn revoke(token: &str) -> Statement {
    Statement::new("DELETE FROM sessions WHERE id = ?1").bind(token_hash(token))
}

pub fn revoke_all(user_id: &str) -> Statement {
    Statement::new("DELETE FROM sessions WHERE user_id = ?1").bind(user_id)
}

pub fn revoke_others(user_id: &str, keep_token: &str) -> Statement {
    Statement::new("DELETE FROM sessions WHERE user_id = ?1 AND id <> ?2").bind(user_id).bind(token_hash(keep_token))
}

pub async fn list(db: &impl Database, user_id: &str, now: Millis, config: &SessionConfig) -> Result<Vec<SessionRow>> {
    db.query(
        Statement::new(
            "SELECT id, user_id, created_at, last_seen_at, expires_at, user_agent FROM sessions
             WHERE user_id = ?1 AND expires_at > ?2 AND last_seen_at >= ?3 ORDER BY last_seen_at DESC",
        )
        .bind(user_id)
        .bind(now)
        .bind(now - config.idle_ms),
    )
    .await
}

/// Deletes sessions past either expiry (the clean-up cron).
pub fn delete_expired(now: Millis, config: &SessionConfig) -> Statement {
    Statement::new("DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at < ?2")
        .bind(now)
        .bind(now - config.idle_ms)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::Index;

    const CONFIG: SessionConfig = SessionConfig { idle_ms: 1_000, absolute_ms: 10_000, touch_every_ms: 100 };

    fn db_with_user() -> SqliteDb {
        let db = SqliteDb::with_schema();
        db.run("INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES ('u1', 'a@example.org', 'x', 0, 0)");
        db
    }

    #[test]
    fn only_the_hash_of_the_token_is_stored() {
        let db = db_with_user();
        let (token, insert) = create("u1", Some("curl"), 0, &CONFIG).expect("creates");
        block_on(db.execute(insert)).expect("stored");
        let rows: Vec<SessionRow> = block_on(db.query(Statement::new("SELECT * FROM sessions"))).expect("q");
        assert_eq!(rows.len(), 1);
        assert_ne!(rows[0].id, token);
        assert_eq!(rows[0].id, token_hash(&token));
    }

    #[test]
    fn a_session_ends_when_idle_or_past_its_absolute_expiry_and_slides_while_used() {
        let db = db_with_user();
        let (token, insert) = create("u1", None, 0, &CONFIG).expect("creates");
        block_on(db.execute(insert)).expect("stored");
        // Used every 900 ms, it outlives the 1 s idle limit...
        for now in (900..9_000).step_by(900) {
            assert!(block_on(resume(&db, &token, now, &CONFIG)).expect("q").is_some(), "alive at {now}");
        }
        // ...but not its 10 s absolute limit.
        assert!(block_on(resume(&db, &token, 10_000, &CONFIG)).expect("q").is_none());

        let (idle, insert) = create("u1", None, 0, &CONFIG).expect("creates");
        block_on(db.execute(insert)).expect("stored");
        assert!(block_on(resume(&db, &idle, 1_001, &CONFIG)).expect("q").is_none(), "idle for more than 1 s");
    }

    #[test]
    fn cookies_carry_the_required_flags_and_parse_back() {
        for environment in [Environment::Development, Environment::Production] {
            let cookie = SessionCookie::for_environment(environment);
            let name = cookie.name();
            let set = cookie.set(&"ab".repeat(32), 30_000);
            assert!(set.starts_with(&format!("{name}={}", "ab".repeat(32))), "{set}");
            for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=30"] {
                assert!(set.contains(flag), "{set}");
            }
            assert!(cookie.clear().starts_with(&format!("{name}=;")) && cookie.clear().contains("Max-Age=0"));
            let token = "cd".repeat(32);
            assert_eq!(cookie.token(Some(&format!("a=1; {name}={token}; b=2"))), Some(token));
            assert_eq!(cookie.token(Some(&format!("{name}=short"))), None, "malformed tokens are ignored");
            assert_eq!(cookie.token(None), None);
        }
    }

    #[test]
    fn production_names_the_cookie_with_the_host_prefix_and_development_keeps_the_plain_name() {
        let production: std::collections::HashMap<&str, &str> = [("ENVIRONMENT", "production")].into();
        let cookie = SessionCookie::from_env(&production).expect("production");
        assert_eq!(cookie.name(), "__Host-fhiriq_session");
        // What browsers require of a __Host- cookie: Secure, Path=/, no Domain.
        let set = cookie.set(&"ab".repeat(32), 60_000);
        assert!(set.starts_with("__Host-fhiriq_session=") && set.contains("; Secure") && set.contains("; Path=/;"));
        assert!(!set.to_ascii_lowercase().contains("domain="), "{set}");
        assert!(!cookie.clear().to_ascii_lowercase().contains("domain="));

        let development: std::collections::HashMap<&str, &str> = [("ENVIRONMENT", "development")].into();
        assert_eq!(SessionCookie::from_env(&development).expect("development").name(), "fhiriq_session");
        let unset: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
        assert_eq!(SessionCookie::from_env(&unset).expect("default").name(), "fhiriq_session");
    }

    #[test]
    fn each_environment_reads_only_its_own_cookie_name() {
        let token = "ef".repeat(32);
        let production = SessionCookie::for_environment(Environment::Production);
        // A plain-name cookie (which a sibling subdomain or plain http could toss) signs no one in.
        assert_eq!(production.token(Some(&format!("fhiriq_session={token}"))), None);
        assert_eq!(production.token(Some(&format!("__Host-fhiriq_session={token}"))), Some(token.clone()));
        let development = SessionCookie::for_environment(Environment::Development);
        assert_eq!(development.token(Some(&format!("__Host-fhiriq_session={token}"))), None);
        assert_eq!(development.token(Some(&format!("fhiriq_session={token}"))), Some(token));
    }

    /// Cookies of other names (letters, digits, `_` and `-`, never one of ours) and values without `;`.
    pub fn other_cookies() -> impl Strategy<Value = Vec<(String, String)>> {
        let ours = [DEVELOPMENT_COOKIE, PRODUCTION_COOKIE, crate::auth::device::COOKIE];
        vec(("[A-Za-z0-9_-]{1,16}".prop_filter("not ours", move |n| !ours.contains(&n.as_str())), "[^;]{0,20}"), 0..8)
    }

    /// A `Cookie` header of `others` with `pair` placed among them at `at`, `padding` around every `;`.
    pub fn cookie_header(others: &[(String, String)], pair: &str, at: Index, padding: &[String]) -> String {
        let mut pairs: Vec<String> = others.iter().map(|(name, value)| format!("{name}={value}")).collect();
        pairs.insert(at.index(pairs.len() + 1), pair.to_owned());
        let separator = format!("{};{}", padding[0], padding[1]);
        format!("{}{}{}", padding[1], pairs.join(&separator), padding[0])
    }

    /// Header-shaped noise: our cookie names, separators, hex runs near 64 digits, and any text.
    pub fn cookie_noise() -> impl Strategy<Value = String> {
        let fragment = prop_oneof![
            Just(DEVELOPMENT_COOKIE.to_owned()),
            Just(PRODUCTION_COOKIE.to_owned()),
            Just(crate::auth::device::COOKIE.to_owned()),
            Just("=".to_owned()),
            Just(";".to_owned()),
            Just(" ".to_owned()),
            "[0-9a-fA-F]{60,68}",
            ".{0,8}",
        ];
        vec(fragment, 0..12).prop_map(|parts| parts.concat())
    }

    fn is_token(value: &str) -> bool {
        value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
    }

    proptest! {
        #![proptest_config(crate::testing::properties(2_000))]

        #[test]
        fn a_token_is_read_among_any_other_cookies_and_only_under_this_environments_name(
            token in "[0-9a-fA-F]{64}",
            others in other_cookies(),
            at in any::<Index>(),
            padding in vec(" {0,2}", 2),
            production in any::<bool>(),
        ) {
            let (environment, other_name) = if production {
                (Environment::Production, DEVELOPMENT_COOKIE)
            } else {
                (Environment::Development, PRODUCTION_COOKIE)
            };
            let cookie = SessionCookie::for_environment(environment);
            let ours = cookie_header(&others, &format!("{}={token}", cookie.name()), at, &padding);
            prop_assert_eq!(cookie.token(Some(&ours)), Some(token.clone()), "{}", ours);
            let theirs = cookie_header(&others, &format!("{other_name}={token}"), at, &padding);
            prop_assert_eq!(cookie.token(Some(&theirs)), None, "{}", theirs);
        }

        #[test]
        fn a_value_of_any_other_shape_is_never_read(
            value in prop_oneof!["[^;]{0,80}", "[0-9a-fA-F]{63}", "[0-9a-fA-F]{65}", "[0-9a-f]{32}[g-z ]{1}[0-9a-f]{31}"],
            others in other_cookies(),
            at in any::<Index>(),
            padding in vec(" {0,2}", 2),
        ) {
            // The pair is trimmed, so spaces after a well-formed token would not make it another shape.
            prop_assume!(!is_token(value.trim_end()));
            let cookie = SessionCookie::for_environment(Environment::Production);
            let header = cookie_header(&others, &format!("{PRODUCTION_COOKIE}={value}"), at, &padding);
            prop_assert_eq!(cookie.token(Some(&header)), None, "{}", header);
        }

        #[test]
        fn whatever_a_header_holds_only_64_hex_digits_named_by_the_cookie_are_read(header in cookie_noise()) {
            for environment in [Environment::Development, Environment::Production] {
                let cookie = SessionCookie::for_environment(environment);
                if let Some(token) = cookie.token(Some(&header)) {
                    prop_assert!(is_token(&token), "{:?}", token);
                    prop_assert!(header.contains(&format!("{}={token}", cookie.name())), "{:?}", header);
                }
            }
        }
    }
}
