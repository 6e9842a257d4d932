//! Device cookies, as OWASP's "slow down online guessing attacks with device cookies" describes them:
//! a browser that signed in to an account keeps a random token for it, whose SHA-256 is stored with
//! the account (`trusted_devices`). A sign-in from that browser counts its failures on the device's
//! own key, so failures from anywhere else (someone guessing the owner's password from a thousand
//! addresses) never block the owner. The token proves only "this browser signed in here before":
//! it never signs anyone in, and a completed password reset forgets every device of the account.

use super::session::token_hash;
use crate::error::Result;
use crate::ids;
use crate::storage::{Database, Statement};
use crate::time::{DAY, Millis, SECOND};
use serde::Deserialize;

/// `Path=/api/auth`: sent only to the account endpoints, never to pages or other APIs.
pub const COOKIE: &str = "fhiriq_device";
/// A device is remembered for 180 days after it last signed in.
pub const MAX_AGE: Millis = 180 * DAY;

/// The device token from a `Cookie` header, if it has the expected shape.
pub fn from_cookie_header(header: Option<&str>) -> Option<String> {
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `Set-Cookie` for a device token (HttpOnly, Secure, SameSite=Strict; see [`COOKIE`] for the path).
pub fn set_cookie(token: &str) -> String {
    format!("{COOKIE}={token}; Path=/api/auth; HttpOnly; Secure; SameSite=Strict; Max-Age={}", MAX_AGE / SECOND)
}

#[derive(Deserialize)]
struct Known {
    user_id: String,
}

/// The account the presented device token belongs to, when it is one this browser earned by signing
/// in (and not older than [`MAX_AGE`] since its last sign-in).
pub async fn account(db: &impl Database, token: Option<&str>, now: Millis) -> Result<Option<String>> {
    let Some(token) = token else { return Ok(None) };
    let known: Option<Known> = db
        .query_first(
            Statement::new("SELECT user_id FROM trusted_devices WHERE token_hash = ?1 AND last_signin_at > ?2")
                .bind(token_hash(token))
                .bind(now - MAX_AGE),
        )
        .await?;
    Ok(known.map(|k| k.user_id))
}

/// The rate-limit subject of a device: its token's hash, never the token.
pub fn subject(token: &str) -> String {
    token_hash(token)
}

/// After a successful sign-in: keeps the presented token if it is this account's, else a new one.
/// Returns the token the browser should hold and the statement that records it.
pub fn remember(
    user_id: &str,
    presented: Option<&str>,
    presented_is_this_account: bool,
    now: Millis,
) -> Result<(String, Statement)> {
    let token = match presented {
        Some(token) if presented_is_this_account => token.to_owned(),
        _ => ids::new_token()?,
    };
    let upsert = Statement::new(
        "INSERT INTO trusted_devices (token_hash, user_id, created_at, last_signin_at) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (token_hash) DO UPDATE SET last_signin_at = excluded.last_signin_at
         WHERE trusted_devices.user_id = excluded.user_id",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(now);
    Ok((token, upsert))
}

/// Every device of an account is forgotten (a completed password reset).
pub fn forget_all(user_id: &str) -> Statement {
    Statement::new("DELETE FROM trusted_devices WHERE user_id = ?1").bind(user_id)
}

/// Devices that have not signed in for [`MAX_AGE`] (the clean-up cron).
pub fn delete_stale(now: Millis) -> Statement {
    Statement::new("DELETE FROM trusted_devices WHERE last_signin_at <= ?1").bind(now - MAX_AGE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::session::tests::{cookie_header, cookie_noise, other_cookies};
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::Index;

    fn db() -> SqliteDb {
        let db = SqliteDb::with_schema();
        db.run(
            "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES
             ('u1', 'a@example.org', 'x', 0, 0), ('u2', 'b@example.org', 'x', 0, 0)",
        );
        db
    }

    #[test]
    fn a_remembered_device_names_its_account_until_it_expires_or_is_forgotten() {
        let db = db();
        let (token, insert) = remember("u1", None, false, 1_000).expect("token");
        block_on(db.execute(insert)).expect("stored");
        assert_eq!(block_on(account(&db, Some(&token), 2_000)).expect("query"), Some("u1".into()));
        assert_eq!(block_on(account(&db, Some(&token), 1_000 + MAX_AGE)).expect("query"), None, "expired");
        assert_eq!(block_on(account(&db, Some(&"0".repeat(64)), 2_000)).expect("query"), None, "unknown");
        // Signing in again keeps the token and renews it.
        let (again, renew) = remember("u1", Some(&token), true, 5_000).expect("token");
        assert_eq!(again, token);
        block_on(db.execute(renew)).expect("renewed");
        assert_eq!(block_on(account(&db, Some(&token), 4_000 + MAX_AGE)).expect("query"), Some("u1".into()));
        block_on(db.execute(forget_all("u1"))).expect("forgotten");
        assert_eq!(block_on(account(&db, Some(&token), 6_000)).expect("query"), None);
    }

    #[test]
    fn a_device_of_another_account_gets_a_new_token_and_never_moves() {
        let db = db();
        let (token, insert) = remember("u1", None, false, 1_000).expect("token");
        block_on(db.execute(insert)).expect("stored");
        let (other, insert) = remember("u2", Some(&token), false, 2_000).expect("token");
        assert_ne!(other, token);
        block_on(db.execute(insert)).expect("stored");
        // Even a forged claim cannot move a token to another account.
        let (_, steal) = remember("u2", Some(&token), true, 3_000).expect("token");
        block_on(db.execute(steal)).expect("runs");
        assert_eq!(block_on(account(&db, Some(&token), 3_000)).expect("query"), Some("u1".into()));
    }

    #[test]
    fn only_well_formed_tokens_are_read_from_the_cookie() {
        let token = "ab".repeat(32);
        assert_eq!(from_cookie_header(Some(&format!("x=1; {COOKIE}={token}"))), Some(token.clone()));
        assert_eq!(from_cookie_header(Some(&format!("{COOKIE}=short"))), None);
        assert_eq!(from_cookie_header(None), None);
        assert!(set_cookie(&token).contains("Path=/api/auth; HttpOnly; Secure; SameSite=Strict"));
    }

    proptest! {
        #![proptest_config(crate::testing::properties(1_000))]

        #[test]
        fn a_device_token_is_read_among_any_other_cookies_and_nothing_else_ever_is(
            token in "[0-9a-fA-F]{64}",
            others in other_cookies(),
            at in any::<Index>(),
            padding in vec(" {0,2}", 2),
            noise in cookie_noise(),
        ) {
            let header = cookie_header(&others, &format!("{COOKIE}={token}"), at, &padding);
            prop_assert_eq!(from_cookie_header(Some(&header)), Some(token.clone()), "{}", header);
            prop_assert_eq!(from_cookie_header(Some(&cookie_header(&others, "", at, &padding))), None);
            if let Some(read) = from_cookie_header(Some(&noise)) {
                prop_assert!(read.len() == 64 && read.bytes().all(|b| b.is_ascii_hexdigit()), "{:?}", read);
                prop_assert!(noise.contains(&format!("{COOKIE}={read}")), "{:?}", noise);
            }
        }
    }
}
