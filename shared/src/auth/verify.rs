//! Email verification (issue 15, item 6). A new account has not proven it owns its address, so
//! someone could register `victim@company`, attach their own GitHub account and wait for the real
//! owner. Until a verification link is used, an account can use the free assistant and read, but
//! cannot buy, enrol, connect GitHub, invite or accept an invitation ([`crate::auth::Access::Verified`]).
//!
//! The link carries a random 256-bit token; only its SHA-256 is stored. It works once, before it
//! expires, and only while the account still has the address it was sent to. Asking for a new one
//! (rate-limited per account) deletes the older links, so only the newest email works.

use super::rate_limit::{self, AUTH_MAX_BLOCK, Limit};
use super::roles::Caller;
use super::session;
use crate::error::{Error, Result};
use crate::ids;
use crate::mail;
use crate::storage::{Database, Statement};
use crate::time::{DAY, Millis};
use serde::{Deserialize, Serialize};

/// How long a verification link works: a day, since people read email later than they sign up.
pub const TOKEN_MS: Millis = DAY;

/// What the statements of a new link send: the outbox id to deliver after the response.
pub struct NewLink {
    pub outbox_id: String,
    pub statements: Vec<Statement>,
}

/// A new link for `user_id` at `email`: the statements that store it (deleting the user's older
/// unused links) and queue the email carrying it. Run them in one batch, with whatever else the flow
/// writes.
pub fn new_link(user_id: &str, email: &str, site_url: &str, now: Millis) -> Result<NewLink> {
    let token = ids::new_token()?;
    let link = format!("{site_url}/verify-email?token={token}");
    let body = format!(
        "Welcome to FHIR IQ. To confirm that {email} is your address, open this link within 24 hours:\n{link}\n\n\
         Until you do, you can use the free assistant; buying a plan, enrolling in a course, connecting GitHub \
         and joining a team wait for it.\n\nIf you did not sign up, ignore this email: the account stays \
         unconfirmed and nothing is charged.\n"
    );
    let (outbox_id, outbox) = mail::enqueue(email, "Confirm your email address for FHIR IQ", &body, now)?;
    let statements = vec![
        Statement::new("DELETE FROM email_verifications WHERE user_id = ?1 AND used_at IS NULL").bind(user_id),
        Statement::new(
            "INSERT INTO email_verifications (token_hash, user_id, email, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(session::token_hash(&token))
        .bind(user_id)
        .bind(email)
        .bind(now)
        .bind(now + TOKEN_MS),
        outbox,
    ];
    Ok(NewLink { outbox_id, statements })
}

/// Sends a new link to a signed-in, unverified caller: 409 when already verified, 429 past
/// `limit` per account (each wait at most [`AUTH_MAX_BLOCK`]). Answers the outbox id to deliver.
pub async fn resend(db: &impl Database, caller: &Caller, limit: Limit, site_url: &str, now: Millis) -> Result<String> {
    if caller.verified {
        return Err(Error::Conflict("Your email address is already verified.".into()));
    }
    let key = rate_limit::key("verify-resend", &caller.user_id);
    rate_limit::hit_capped(db, &key, limit, now, AUTH_MAX_BLOCK).await?;
    let link = new_link(&caller.user_id, &caller.email, site_url, now)?;
    db.batch(link.statements).await?;
    Ok(link.outbox_id)
}

#[derive(Deserialize)]
pub struct ConfirmInput {
    pub token: String,
}

/// `POST /api/auth/verify-email`
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Confirmed {
    pub verified: bool,
    pub email: String,
}

#[derive(Deserialize)]
struct LinkRow {
    user_id: String,
    email: String,
}

/// Uses a link: the account behind it is verified. 422 when the link is unknown, used, expired, or
/// for an address the account no longer has. No session is needed: the link may be opened on
/// another device than the one that signed up.
pub async fn confirm(db: &impl Database, input: &ConfirmInput, now: Millis) -> Result<Confirmed> {
    let invalid = || {
        Error::Unprocessable(
            "This verification link is invalid, used or expired. Sign in and send a new one from /account.".into(),
        )
    };
    let token = input.token.trim();
    if token.is_empty() || token.len() > 128 {
        return Err(invalid());
    }
    // One conditional statement finds and uses the link: of two concurrent uses only one marks it,
    // and the account is verified only through the use that did.
    let row: LinkRow = db
        .query_first(
            Statement::new(
                "UPDATE email_verifications SET used_at = ?2
                 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2
                   AND email = (SELECT u.email FROM users u WHERE u.id = email_verifications.user_id)
                 RETURNING user_id, email",
            )
            .bind(session::token_hash(token))
            .bind(now),
        )
        .await?
        .ok_or_else(invalid)?;
    db.batch(vec![
        Statement::new(
            "UPDATE users SET email_verified_at = coalesce(email_verified_at, ?2) WHERE id = ?1 AND email = ?3",
        )
        .bind(row.user_id.as_str())
        .bind(now)
        .bind(row.email.as_str()),
        // The other links of the account have nothing left to do.
        Statement::new("DELETE FROM email_verifications WHERE user_id = ?1 AND used_at IS NULL")
            .bind(row.user_id.as_str()),
    ])
    .await?;
    Ok(Confirmed { verified: true, email: row.email })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::roles::Role;
    use crate::storage::sqlite::SqliteDb;
    use crate::time::HOUR;
    use futures::executor::block_on;

    const SITE: &str = "https://fhiriq.test";

    fn account(db: &SqliteDb, id: &str, email: &str) -> Caller {
        db.run(&format!(
            "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES ('{id}', '{email}', 'x', 0, 0)"
        ));
        Caller {
            user_id: id.into(),
            email: email.into(),
            role: Role::Free,
            admin: false,
            org_id: None,
            org_owner: false,
            verified: false,
        }
    }

    /// The token in the newest queued email to `email`.
    fn emailed_token(db: &SqliteDb, email: &str) -> String {
        #[derive(Deserialize)]
        struct Body {
            body_text: String,
        }
        let rows: Vec<Body> = block_on(
            db.query(
                Statement::new(
                    "SELECT body_text FROM email_outbox WHERE to_email = ?1 ORDER BY created_at DESC, rowid DESC",
                )
                .bind(email),
            ),
        )
        .expect("reads the outbox");
        let body = &rows.first().expect("an email was queued").body_text;
        body.split("token=").nth(1).and_then(|t| t.split_whitespace().next()).expect("a link").to_owned()
    }

    fn verified_at(db: &SqliteDb, id: &str) -> Option<i64> {
        #[derive(Deserialize)]
        struct Row {
            email_verified_at: Option<i64>,
        }
        let row: Option<Row> =
            block_on(db.query_first(Statement::new("SELECT email_verified_at FROM users WHERE id = ?1").bind(id)))
                .expect("reads");
        row.expect("the user").email_verified_at
    }

    fn confirm_token(db: &SqliteDb, token: &str, now: Millis) -> Result<Confirmed> {
        block_on(confirm(db, &ConfirmInput { token: token.into() }, now))
    }

    const ONE_PER_HOUR: Limit = Limit { max: 3, window_ms: HOUR };

    #[test]
    fn a_link_verifies_its_account_once_and_only_before_it_expires() {
        let db = SqliteDb::with_schema();
        let caller = account(&db, "u1", "ada@example.org");
        let link = new_link("u1", "ada@example.org", SITE, 1_000).expect("a link");
        block_on(db.batch(link.statements)).expect("stores");
        let token = emailed_token(&db, "ada@example.org");
        assert_eq!(token.len(), 64, "a 256-bit token in hex");
        assert_eq!(verified_at(&db, "u1"), None, "not verified by sending");

        let expired = confirm_token(&db, &token, 1_000 + TOKEN_MS).expect_err("expired");
        assert_eq!(expired.status_code(), 422);
        assert_eq!(verified_at(&db, "u1"), None);
        let done = confirm_token(&db, &token, 2_000).expect("verifies");
        assert_eq!(done, Confirmed { verified: true, email: caller.email.clone() });
        assert_eq!(verified_at(&db, "u1"), Some(2_000));
        let again = confirm_token(&db, &token, 3_000).expect_err("single use");
        assert_eq!(again.status_code(), 422);
        for forged in ["", &"0".repeat(64), &"a".repeat(500)] {
            assert_eq!(confirm_token(&db, forged, 3_000).expect_err("forged").status_code(), 422, "{forged:?}");
        }
        let verified = Caller { verified: true, ..caller };
        let resent = block_on(resend(&db, &verified, ONE_PER_HOUR, SITE, 4_000)).expect_err("already verified");
        assert_eq!(resent.status_code(), 409);
    }

    #[test]
    fn a_new_link_replaces_the_older_ones_and_resending_is_limited() {
        let db = SqliteDb::with_schema();
        let caller = account(&db, "u1", "ada@example.org");
        let first = new_link("u1", "ada@example.org", SITE, 0).expect("a link");
        block_on(db.batch(first.statements)).expect("stores");
        let old = emailed_token(&db, "ada@example.org");
        for i in 0..3 {
            block_on(resend(&db, &caller, ONE_PER_HOUR, SITE, 10 + i)).expect("within the limit");
        }
        let refused = block_on(resend(&db, &caller, ONE_PER_HOUR, SITE, 20)).expect_err("over the limit");
        assert_eq!(refused.status_code(), 429);
        let Error::TooManyRequests { retry_after_seconds } = refused else { panic!("{refused:?}") };
        assert!(retry_after_seconds <= AUTH_MAX_BLOCK as u64 / 1000, "{retry_after_seconds}");
        assert_eq!(confirm_token(&db, &old, 30).expect_err("replaced").status_code(), 422);
        let newest = emailed_token(&db, "ada@example.org");
        assert_ne!(newest, old);
        confirm_token(&db, &newest, 40).expect("the newest link works");
        assert_eq!(verified_at(&db, "u1"), Some(40));
    }

    #[test]
    fn a_link_sent_to_an_address_the_account_no_longer_has_verifies_nothing() {
        let db = SqliteDb::with_schema();
        account(&db, "u1", "old@example.org");
        let link = new_link("u1", "old@example.org", SITE, 0).expect("a link");
        block_on(db.batch(link.statements)).expect("stores");
        let token = emailed_token(&db, "old@example.org");
        db.run("UPDATE users SET email = 'new@example.org' WHERE id = 'u1'");
        assert_eq!(confirm_token(&db, &token, 10).expect_err("another address").status_code(), 422);
        assert_eq!(verified_at(&db, "u1"), None);
    }
}
