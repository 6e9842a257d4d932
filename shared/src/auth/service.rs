//! The account flows: sign up, sign in, sign out (here or everywhere), who am I, change password, and
//! password reset by emailed single-use token.

use super::device;
use super::email::Email;
use super::password::{Kdf, NewPassword, PasswordHash, verify_nothing};
use super::rate_limit::{self, AUTH_MAX_BLOCK, AuthLimits};
use super::roles::{Caller, Role};
use super::session::{self, SessionConfig, SessionRow};
use super::store;
use super::verify;
use crate::error::{Error, Result};
use crate::events::{self, EventType};
use crate::ids;
use crate::mail;
use crate::storage::{Database, Statement};
use crate::time::{MINUTE, Millis, to_rfc3339};
use serde::{Deserialize, Serialize};

/// Everything a flow needs from the request and the environment.
pub struct Ctx<'a, D, K> {
    pub db: &'a D,
    pub kdf: &'a K,
    pub now: Millis,
    pub sessions: SessionConfig,
    pub limits: AuthLimits,
    /// The client's IP (CF-Connecting-IP), for per-IP limits. Never stored raw.
    pub ip: &'a str,
    /// The browser's device token ([`device::COOKIE`]), if it sent one.
    pub device: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// `GET /api/auth/me`
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Me {
    pub email: String,
    pub role: Role,
    pub admin: bool,
    pub permissions: Vec<&'static str>,
    #[serde(rename = "orgId")]
    pub org_id: Option<String>,
    #[serde(rename = "orgOwner")]
    pub org_owner: bool,
    /// Whether the email address is verified; until it is, buying, enrolling, connecting GitHub,
    /// inviting and accepting invitations answer 403 `email_unverified`.
    #[serde(rename = "emailVerified")]
    pub email_verified: bool,
}

impl From<&Caller> for Me {
    fn from(caller: &Caller) -> Self {
        Self {
            email: caller.email.clone(),
            role: caller.role,
            admin: caller.admin,
            permissions: caller.role.permissions().iter().map(|p| p.as_str()).collect(),
            org_id: caller.org_id.clone(),
            org_owner: caller.org_owner,
            email_verified: caller.verified,
        }
    }
}

/// A new session: the token for the cookie and who it belongs to.
pub struct SignedIn {
    pub token: String,
    pub max_age_ms: Millis,
    pub me: Me,
    /// The device token the browser keeps for this account ([`device::set_cookie`]).
    pub device: Option<String>,
    /// A sign-up's verification email, queued: the outbox id to deliver after the response.
    pub verification_email: Option<String>,
}

#[derive(Deserialize)]
pub struct Credentials {
    pub email: String,
    pub password: String,
    /// Where the browser wants to go next (`/signin?next=`); answered back only if it is one of our
    /// pages ([`crate::web::routes::safe_next`]).
    #[serde(default)]
    pub next: Option<String>,
}

const WRONG_CREDENTIALS: &str = "The email or password is incorrect.";

/// Creates an account, signed in and unverified: the same batch queues the email with its
/// verification link (`site_url`/verify-email?token=...).
pub async fn signup<D: Database, K: Kdf>(ctx: &Ctx<'_, D, K>, input: &Credentials, site_url: &str) -> Result<SignedIn> {
    let per_ip = rate_limit::key("signup-ip", &rate_limit::network(ctx.ip));
    rate_limit::hit_capped(ctx.db, &per_ip, ctx.limits.signup_per_ip, ctx.now, AUTH_MAX_BLOCK).await?;
    let email = Email::parse(&input.email)?;
    let password = NewPassword::parse(&input.password, &email)?;
    if store::user_by_email(ctx.db, email.as_ref()).await?.is_some() {
        return Err(conflict());
    }
    let hash = PasswordHash::create(ctx.kdf, &password).await?;
    let user_id = ids::new_id()?;
    let (token, session) = session::create(&user_id, ctx.user_agent, ctx.now, &ctx.sessions)?;
    let event = auth_event(&user_id, "auth.signup", ctx.now)?;
    let user = store::insert_user(&user_id, email.as_ref(), &hash.encode(), ctx.now);
    let (device, remember) = device::remember(&user_id, None, false, ctx.now)?;
    let link = verify::new_link(&user_id, email.as_ref(), site_url, ctx.now)?;
    let mut statements = vec![user, session, event, remember];
    statements.extend(link.statements);
    crate::storage::on_unique(ctx.db.batch(statements).await, "users", "email", conflict)?;
    let mut signed_in = signed_in(ctx, &user_id, token, Some(device)).await?;
    signed_in.verification_email = Some(link.outbox_id);
    Ok(signed_in)
}

/// The analytics event recorded with a sign-up or sign-in, in the same batch.
fn auth_event(user_id: &str, kind: &str, now: Millis) -> Result<Statement> {
    events::statement(Some(user_id), &EventType::parse(kind)?, &serde_json::json!({}), now)
}

fn conflict() -> Error {
    Error::Conflict("An account with this email already exists. Sign in, or reset your password.".into())
}

async fn signed_in<D: Database, K>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    token: String,
    device: Option<String>,
) -> Result<SignedIn> {
    let caller = store::caller(ctx.db, user_id)
        .await?
        .ok_or_else(|| Error::internal("loading a user just signed in", "no row"))?;
    Ok(SignedIn {
        token,
        max_age_ms: ctx.sessions.absolute_ms,
        me: Me::from(&caller),
        device,
        verification_email: None,
    })
}

/// Signs in, throttling the attacker and not the owner (OWASP's credential-stuffing guidance):
/// failures count per address and per account, each wait is at most [`AUTH_MAX_BLOCK`], and a
/// browser holding this account's device cookie counts its failures on its own key, so failures
/// from elsewhere never block it. Each attempt is counted before the password is checked (parallel
/// guesses cannot slip under a limit) and given back when it succeeds (only failures count).
pub async fn signin<D: Database, K: Kdf>(ctx: &Ctx<'_, D, K>, input: &Credentials) -> Result<SignedIn> {
    let per_ip = rate_limit::key("signin-ip", &rate_limit::network(ctx.ip));
    rate_limit::hit_capped(ctx.db, &per_ip, ctx.limits.signin_per_ip, ctx.now, AUTH_MAX_BLOCK).await?;
    let account = input.email.trim().to_lowercase();
    let user = match Email::parse(&input.email) {
        Ok(email) => store::user_by_email(ctx.db, email.as_ref()).await?,
        Err(_) => None,
    };
    let known_device = match (&user, device::account(ctx.db, ctx.device, ctx.now).await?) {
        (Some(user), Some(owner)) => owner == user.id,
        _ => false,
    };
    let per_account = match ctx.device {
        Some(token) if known_device => rate_limit::key("signin-device", &device::subject(token)),
        _ => rate_limit::key("signin-account", &account),
    };
    if let Err(e) =
        rate_limit::hit_capped(ctx.db, &per_account, ctx.limits.signin_per_account, ctx.now, AUTH_MAX_BLOCK).await
    {
        // Refused before any password check: the address's attempt is not a failure of its own.
        ctx.db.execute(rate_limit::release(&per_ip)).await?;
        return Err(e);
    }
    // The same work whether or not the account exists, so timing does not tell.
    let Some(user) = user else {
        verify_nothing(ctx.kdf, &input.password).await?;
        return Err(Error::Unauthorized(WRONG_CREDENTIALS.into()));
    };
    let stored = PasswordHash::parse(&user.password_hash)?;
    if !stored.verify(ctx.kdf, &input.password).await? {
        return Err(Error::Unauthorized(WRONG_CREDENTIALS.into()));
    }
    // Only someone who knows the password learns that staff disabled the account.
    if user.disabled_at.is_some() {
        return Err(Error::Forbidden("This account is disabled. Write to support@fhiriq.dev to ask why.".into()));
    }
    let (token, session) = session::create(&user.id, ctx.user_agent, ctx.now, &ctx.sessions)?;
    let (device, remember) = device::remember(&user.id, ctx.device, known_device, ctx.now)?;
    let mut statements = vec![
        session,
        auth_event(&user.id, "auth.signin", ctx.now)?,
        remember,
        rate_limit::release(&per_ip),
        rate_limit::release(&per_account),
    ];
    if stored.needs_rehash() {
        // The password was right, so it meets whatever policy it was set under; store it stronger.
        let email = Email::parse(&user.email)?;
        if let Ok(password) = NewPassword::parse(&input.password, &email) {
            let stronger = PasswordHash::create(ctx.kdf, &password).await?;
            statements.push(
                Statement::new("UPDATE users SET password_hash = ?2 WHERE id = ?1")
                    .bind(user.id.as_str())
                    .bind(stronger.encode()),
            );
        }
    }
    ctx.db.batch(statements).await?;
    signed_in(ctx, &user.id, token, Some(device)).await
}

/// The caller behind a session token, if the session is live.
pub async fn authenticate(
    db: &impl Database,
    token: &str,
    now: Millis,
    config: &SessionConfig,
) -> Result<Option<Caller>> {
    match session::resume(db, token, now, config).await? {
        Some(row) => store::caller(db, &row.user_id).await,
        None => Ok(None),
    }
}

/// A caller loaded again after a change to their account.
pub async fn reload(db: &impl Database, user_id: &str) -> Result<Caller> {
    store::caller(db, user_id).await?.ok_or_else(|| Error::Unauthorized("Sign in to continue.".into()))
}

pub async fn signout(db: &impl Database, token: &str) -> Result<()> {
    db.execute(session::revoke(token)).await.map(|_| ())
}

pub async fn signout_everywhere(db: &impl Database, caller: &Caller) -> Result<()> {
    db.execute(session::revoke_all(&caller.user_id)).await.map(|_| ())
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    pub current: bool,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "lastSeenAt")]
    pub last_seen_at: String,
    #[serde(rename = "userAgent")]
    pub user_agent: Option<String>,
}

pub async fn sessions(
    db: &impl Database,
    caller: &Caller,
    token: &str,
    now: Millis,
    config: &SessionConfig,
) -> Result<Vec<SessionView>> {
    let current = session::token_hash(token);
    let rows: Vec<SessionRow> = session::list(db, &caller.user_id, now, config).await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionView {
            current: r.id == current,
            created_at: to_rfc3339(r.created_at),
            last_seen_at: to_rfc3339(r.last_seen_at),
            user_agent: r.user_agent,
        })
        .collect())
}

#[derive(Deserialize)]
pub struct PasswordChange {
    #[serde(rename = "currentPassword")]
    pub current_password: String,
    #[serde(rename = "newPassword")]
    pub new_password: String,
}

/// Changes the password and revokes every other session.
pub async fn change_password<D: Database, K: Kdf>(
    ctx: &Ctx<'_, D, K>,
    caller: &Caller,
    token: &str,
    input: &PasswordChange,
) -> Result<()> {
    let user = store::user_by_email(ctx.db, &caller.email)
        .await?
        .ok_or_else(|| Error::Unauthorized("Sign in to continue.".into()))?;
    if !PasswordHash::parse(&user.password_hash)?.verify(ctx.kdf, &input.current_password).await? {
        return Err(Error::Forbidden("The current password is incorrect.".into()));
    }
    let email = Email::parse(&caller.email)?;
    let password = NewPassword::parse(&input.new_password, &email)?;
    let hash = PasswordHash::create(ctx.kdf, &password).await?;
    ctx.db
        .batch(vec![store::set_password(&user.id, &hash.encode(), ctx.now), session::revoke_others(&user.id, token)])
        .await
}

/// How long a reset link works.
pub const RESET_TOKEN_MS: Millis = 30 * MINUTE;

/// Starts a reset: when the email has an account, a single-use token and the email carrying it are
/// stored in one batch. Answers the outbox id to deliver (None when there is no such account); the
/// client is told the same thing either way.
pub async fn request_reset<D: Database, K>(
    ctx: &Ctx<'_, D, K>,
    email_raw: &str,
    site_url: &str,
) -> Result<Option<String>> {
    rate_limit::hit(ctx.db, &rate_limit::key("reset-ip", ctx.ip), ctx.limits.reset_per_ip, ctx.now).await?;
    let email = Email::parse(email_raw)?;
    rate_limit::hit(ctx.db, &rate_limit::key("reset-account", email.as_ref()), ctx.limits.reset_per_account, ctx.now)
        .await?;
    let Some(user) = store::user_by_email(ctx.db, email.as_ref()).await? else {
        return Ok(None);
    };
    let (outbox_id, statements) = reset_link(&user.id, email.as_ref(), site_url, ctx.now)?;
    ctx.db.batch(statements).await?;
    Ok(Some(outbox_id))
}

/// A password-reset link for `user_id` at `email`: the statements that store its token and queue the
/// email (the user asking, or staff for them). Answers the outbox id to deliver.
pub fn reset_link(user_id: &str, email: &str, site_url: &str, now: Millis) -> Result<(String, Vec<Statement>)> {
    let token = ids::new_token()?;
    let link = format!("{site_url}/reset?token={token}");
    let body = format!(
        "Someone asked to reset the password of your FHIR IQ account ({email}).\n\nTo choose a new password, open this link within 30 minutes:\n{link}\n\nIf it was not you, ignore this email: your password stays as it is.\n"
    );
    let (outbox_id, outbox) = mail::enqueue(email, "Reset your FHIR IQ password", &body, now)?;
    let insert = Statement::new(
        "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )
    .bind(session::token_hash(&token))
    .bind(user_id)
    .bind(now)
    .bind(now + RESET_TOKEN_MS);
    Ok((outbox_id, vec![insert, outbox]))
}

#[derive(Deserialize)]
pub struct ResetInput {
    pub token: String,
    pub password: String,
}

#[derive(Deserialize)]
struct ResetRow {
    user_id: String,
    email: String,
    expires_at: i64,
    used_at: Option<i64>,
}

/// Completes a reset: the token works once, before it expires; every session of the account ends.
pub async fn reset<D: Database, K: Kdf>(ctx: &Ctx<'_, D, K>, input: &ResetInput) -> Result<()> {
    let invalid = || Error::Unprocessable("This reset link is invalid, used or expired. Ask for a new one.".into());
    let hash = session::token_hash(input.token.trim());
    let row: Option<ResetRow> = ctx
        .db
        .query_first(
            Statement::new(
                "SELECT r.user_id, u.email, r.expires_at, r.used_at FROM password_resets r JOIN users u ON u.id = r.user_id WHERE r.token_hash = ?1",
            )
            .bind(hash.as_str()),
        )
        .await?;
    let row = row.filter(|r| r.used_at.is_none() && r.expires_at > ctx.now).ok_or_else(invalid)?;
    let password = NewPassword::parse(&input.password, &Email::parse(&row.email)?)?;
    let new_hash = PasswordHash::create(ctx.kdf, &password).await?;
    // Marking the token used is conditional, so two concurrent uses cannot both succeed: the batch
    // fails (and rolls back) when the update matched no row.
    ctx.db
        .batch(vec![
            Statement::new("UPDATE password_resets SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL")
                .bind(hash.as_str())
                .bind(ctx.now),
            Statement::new(
                "UPDATE users SET password_hash = ?2, password_changed_at = ?3
                 WHERE id = ?1 AND EXISTS (SELECT 1 FROM password_resets WHERE token_hash = ?4 AND used_at = ?3)",
            )
            .bind(row.user_id.as_str())
            .bind(new_hash.encode())
            .bind(ctx.now)
            .bind(hash.as_str()),
            session::revoke_all(&row.user_id),
            // The owner proved the account is theirs: failures from elsewhere no longer block it,
            // and every remembered browser must sign in with the new password to be trusted again.
            rate_limit::clear(&rate_limit::key("signin-account", &row.email.trim().to_lowercase())),
            device::forget_all(&row.user_id),
            // Whatever someone else attached to the account before the owner took it back: a linked
            // GitHub account ("push to my GitHub" would go there) and invitations not yet accepted,
            // sent by it or to it.
            Statement::new("DELETE FROM github_user_tokens WHERE user_id = ?1").bind(row.user_id.as_str()),
            Statement::new("DELETE FROM org_invitations WHERE accepted_at IS NULL AND (invited_by = ?1 OR email = ?2)")
                .bind(row.user_id.as_str())
                .bind(row.email.as_str()),
        ])
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::password::testing::RustKdf;
    use crate::auth::rate_limit::Limit;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    const WIDE: Limit = Limit { max: 1_000, window_ms: 60_000 };

    fn ctx<'a>(db: &'a SqliteDb, now: Millis) -> Ctx<'a, SqliteDb, RustKdf> {
        Ctx {
            db,
            kdf: &RustKdf,
            now,
            sessions: SessionConfig { idle_ms: 60_000, absolute_ms: 600_000, touch_every_ms: 1_000 },
            limits: AuthLimits {
                signin_per_ip: WIDE,
                signin_per_account: WIDE,
                signup_per_ip: WIDE,
                reset_per_ip: WIDE,
                reset_per_account: WIDE,
                verify_resend_per_account: WIDE,
            },
            ip: "127.0.0.1",
            device: None,
            user_agent: Some("test"),
        }
    }

    fn creds(email: &str, password: &str) -> Credentials {
        Credentials { email: email.into(), password: password.into(), next: None }
    }

    const PW: &str = "violet otter reads FHIR bundles";

    #[test]
    fn sign_up_then_sign_in_with_the_same_credentials() {
        let db = SqliteDb::with_schema();
        let up =
            block_on(signup(&ctx(&db, 0), &creds("Ada@Example.org", PW), "https://fhiriq.test")).expect("signs up");
        assert_eq!(up.me.email, "ada@example.org");
        assert_eq!(up.me.role, Role::Free);
        assert_eq!(up.me.permissions, ["view_public_content", "access_basic_chatbot", "view_tools_catalog"]);
        assert!(!up.me.email_verified, "a new account starts unverified");
        assert!(up.verification_email.is_some(), "and its verification email is queued with it");
        let again = block_on(signup(&ctx(&db, 1), &creds("ada@example.org", PW), "https://fhiriq.test"))
            .err()
            .map(|e| e.status_code());
        assert_eq!(again, Some(409));
        let session = block_on(signin(&ctx(&db, 2), &creds("ADA@example.org ", PW))).expect("signs in");
        assert_ne!(session.token, up.token);
        #[derive(Deserialize)]
        struct Event {
            event_type: String,
        }
        let logged: Vec<Event> =
            block_on(db.query(Statement::new("SELECT event_type FROM user_events ORDER BY id"))).expect("q");
        let kinds: Vec<&str> = logged.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(kinds, ["auth.signup", "auth.signin"], "each sign-up and sign-in is an analytics event");
        let caller = block_on(authenticate(&db, &session.token, 3, &ctx(&db, 3).sessions)).expect("q");
        assert_eq!(caller.map(|c| c.email), Some("ada@example.org".into()));
    }

    #[test]
    fn wrong_password_and_unknown_email_get_one_generic_401() {
        let db = SqliteDb::with_schema();
        block_on(signup(&ctx(&db, 0), &creds("ada@example.org", PW), "https://fhiriq.test")).expect("signs up");
        let wrong = block_on(signin(&ctx(&db, 1), &creds("ada@example.org", "not the password at all")))
            .err()
            .expect("refused");
        let unknown = block_on(signin(&ctx(&db, 1), &creds("nobody@example.org", PW))).err().expect("refused");
        assert_eq!((wrong.status_code(), unknown.status_code()), (401, 401));
        assert_eq!(wrong.to_string(), unknown.to_string());
    }

    #[test]
    fn signing_out_everywhere_ends_every_session_and_a_password_change_ends_the_others() {
        let db = SqliteDb::with_schema();
        let a = block_on(signup(&ctx(&db, 0), &creds("ada@example.org", PW), "https://fhiriq.test")).expect("signs up");
        let b = block_on(signin(&ctx(&db, 1), &creds("ada@example.org", PW))).expect("second device");
        let c = block_on(signin(&ctx(&db, 2), &creds("ada@example.org", PW))).expect("third device");
        let caller = block_on(authenticate(&db, &a.token, 3, &ctx(&db, 3).sessions)).expect("q").expect("live");
        let change = PasswordChange { current_password: PW.into(), new_password: "a brand new passphrase here".into() };
        block_on(change_password(&ctx(&db, 4), &caller, &a.token, &change)).expect("changed");
        let live = |t: &str| block_on(authenticate(&db, t, 5, &ctx(&db, 5).sessions)).expect("q").is_some();
        assert!(live(&a.token), "the session that changed it stays");
        assert!(!live(&b.token) && !live(&c.token), "the others end");
        block_on(signout_everywhere(&db, &caller)).expect("signed out");
        assert!(!live(&a.token));
    }

    #[test]
    fn a_reset_token_works_once_before_it_expires_and_ends_all_sessions() {
        let db = SqliteDb::with_schema();
        let up =
            block_on(signup(&ctx(&db, 0), &creds("ada@example.org", PW), "https://fhiriq.test")).expect("signs up");
        let outbox = block_on(request_reset(&ctx(&db, 1), "ada@example.org", "https://fhiriq.dev")).expect("requested");
        assert!(outbox.is_some(), "an email is queued");
        #[derive(Deserialize)]
        struct Body {
            body_text: String,
        }
        let mail: Vec<Body> =
            block_on(db.query(Statement::new("SELECT body_text FROM email_outbox WHERE subject LIKE 'Reset%'")))
                .expect("q");
        let token = mail[0]
            .body_text
            .split("token=")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .expect("a link")
            .to_owned();
        assert_eq!(block_on(request_reset(&ctx(&db, 1), "nobody@example.org", "x")).expect("same answer"), None);

        let input = ResetInput { token: token.clone(), password: "a brand new passphrase here".into() };
        block_on(reset(&ctx(&db, 2), &input)).expect("resets");
        assert!(block_on(authenticate(&db, &up.token, 3, &ctx(&db, 3).sessions)).expect("q").is_none(), "sessions end");
        assert_eq!(block_on(reset(&ctx(&db, 3), &input)).err().map(|e| e.status_code()), Some(422), "single use");
        block_on(signin(&ctx(&db, 4), &creds("ada@example.org", "a brand new passphrase here")))
            .expect("new password works");

        block_on(request_reset(&ctx(&db, 10), "ada@example.org", "x")).expect("requested");
        let mail: Vec<Body> =
            block_on(db.query(Statement::new("SELECT body_text FROM email_outbox ORDER BY created_at DESC")))
                .expect("q");
        let late = mail[0]
            .body_text
            .split("token=")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .expect("link")
            .to_owned();
        let expired = ResetInput { token: late, password: "yet another fresh passphrase".into() };
        assert_eq!(block_on(reset(&ctx(&db, 10 + RESET_TOKEN_MS), &expired)).err().map(|e| e.status_code()), Some(422));
    }

    #[test]
    fn sign_in_is_rate_limited_per_account_whatever_the_ip() {
        let db = SqliteDb::with_schema();
        let mut c = ctx(&db, 0);
        c.limits.signin_per_account = Limit { max: 2, window_ms: 60_000 };
        for ip in ["10.0.0.1", "10.0.0.2"] {
            c.ip = ip;
            let _ = block_on(signin(&c, &creds("ada@example.org", "wrong wrong wrong wrong")));
        }
        c.ip = "10.0.0.3";
        let error = block_on(signin(&c, &creds("ADA@example.org", PW))).err().expect("limited");
        assert_eq!(error.status_code(), 429);
    }

    #[test]
    fn failures_from_elsewhere_never_block_a_browser_that_signed_in_before_and_a_reset_lifts_the_block() {
        let db = SqliteDb::with_schema();
        let mut c = ctx(&db, 0);
        c.limits.signin_per_account = Limit { max: 3, window_ms: 900_000 };
        let owner = block_on(signup(&c, &creds("ada@example.org", PW), "https://fhiriq.test")).expect("signed up");
        let device = owner.device.clone().expect("a device token with the first sign-in");
        // An attacker fails from many addresses.
        let addresses: Vec<String> = (0..20).map(|i| format!("198.51.100.{i}")).collect();
        for ip in &addresses {
            c.ip = ip;
            let refused = block_on(signin(&c, &creds("ada@example.org", "guess guess guess guess")));
            assert!(matches!(refused.err().map(|e| e.status_code()), Some(401 | 429)));
        }
        let ip = "192.0.2.7";
        c.ip = ip;
        // A new browser is blocked, for at most 15 minutes.
        let blocked = block_on(signin(&c, &creds("ada@example.org", PW))).err().expect("blocked");
        match blocked {
            Error::TooManyRequests { retry_after_seconds } => assert!(retry_after_seconds <= 900),
            other => panic!("expected 429, got {other:?}"),
        }
        // The owner's browser is not, and keeps its device token.
        c.device = Some(&device);
        let again = block_on(signin(&c, &creds("ada@example.org", PW))).expect("the owner's browser signs in");
        assert_eq!(again.device.as_deref(), Some(device.as_str()));
        // Its own failures are limited on its own key.
        for _ in 0..3 {
            let _ = block_on(signin(&c, &creds("ada@example.org", "my own typo typo typo")));
        }
        assert_eq!(block_on(signin(&c, &creds("ada@example.org", PW))).err().map(|e| e.status_code()), Some(429));
        // Someone attached a GitHub account and an invitation to it meanwhile.
        db.run(
            "INSERT INTO github_user_tokens (user_id, login, access_token, updated_at)
               SELECT id, 'attacker', 'sealed', 0 FROM users WHERE email = 'ada@example.org';
             INSERT INTO organisations (id, name, owner_id, created_at) VALUES ('o1', 'Org', 'someone', 0);
             INSERT INTO org_invitations (token_hash, org_id, email, invited_by, created_at, expires_at)
               VALUES ('h1', 'o1', 'ada@example.org', 'someone', 0, 9999999999999);",
        );
        // A completed reset lifts the account's block (and forgets the devices).
        c.device = None;
        block_on(request_reset(&c, "ada@example.org", "http://x")).expect("requested");
        let link: Vec<serde_json::Value> =
            block_on(db.query(Statement::new("SELECT body_text FROM email_outbox WHERE subject LIKE 'Reset%'")))
                .expect("outbox");
        let body = link[0]["body_text"].as_str().unwrap_or_default().to_owned();
        let token = body.split("token=").nth(1).and_then(|t| t.split_whitespace().next()).expect("a link").to_owned();
        block_on(reset(&c, &ResetInput { token, password: "a brand new passphrase".into() })).expect("reset");
        block_on(signin(&c, &creds("ada@example.org", "a brand new passphrase"))).expect("unblocked by the reset");
        let devices: Vec<serde_json::Value> = block_on(
            db.query(
                Statement::new("SELECT token_hash FROM trusted_devices WHERE token_hash = ?1")
                    .bind(session::token_hash(&device)),
            ),
        )
        .expect("devices");
        assert!(devices.is_empty(), "the reset forgot the devices that signed in before it");
        let attached: Vec<serde_json::Value> = block_on(db.query(Statement::new(
            "SELECT user_id AS x FROM github_user_tokens UNION ALL SELECT token_hash FROM org_invitations",
        )))
        .expect("rows");
        assert!(attached.is_empty(), "the reset revoked the linked GitHub account and the invitation: {attached:?}");
    }

    #[test]
    fn a_class_behind_one_address_signs_up_and_in_and_an_ipv6_64_is_one_address() {
        let db = SqliteDb::with_schema();
        let mut c = ctx(&db, 0);
        c.limits = AuthLimits::from_env(&std::collections::HashMap::<&str, &str>::new()).expect("defaults");
        // The default limits leave room for thirty sign-ups and sign-ins from one address (counted on
        // the keys the flows use; tests/tests/abuse.rs runs the thirty real ones through the workers,
        // which this native test skips for the time thirty password hashes take).
        let school = rate_limit::network("203.0.113.50");
        for _ in 0..30 {
            let up = rate_limit::key("signup-ip", &school);
            block_on(rate_limit::hit_capped(&db, &up, c.limits.signup_per_ip, 0, AUTH_MAX_BLOCK)).expect("sign-up");
            let signin = rate_limit::key("signin-ip", &school);
            block_on(rate_limit::hit_capped(&db, &signin, c.limits.signin_per_ip, 0, AUTH_MAX_BLOCK)).expect("sign-in");
            block_on(db.execute(rate_limit::release(&signin))).expect("a success gives its attempt back");
        }
        c.ip = "203.0.113.50";
        block_on(signup(&c, &creds("student31@school.example", PW), "https://fhiriq.test"))
            .expect("the next one from the school too");
        block_on(signin(&c, &creds("student31@school.example", PW))).expect("and its sign-in");
        // Past the limit the address waits at most 15 minutes; its /64 neighbours share its count.
        let mut c6 = ctx(&db, 0);
        c6.limits.signup_per_ip = Limit { max: 2, window_ms: 3_600_000 };
        for (i, ip) in ["2001:db8:5:6::1", "2001:db8:5:6::2", "2001:db8:5:6:ffff::9"].iter().enumerate() {
            c6.ip = ip;
            let result = block_on(signup(&c6, &creds(&format!("v6-{i}@example.org"), PW), "https://fhiriq.test"));
            if i < 2 {
                result.expect("within the limit");
            } else {
                match result.err().expect("a third from the same /64 waits") {
                    Error::TooManyRequests { retry_after_seconds } => assert!(retry_after_seconds <= 900),
                    other => panic!("expected 429, got {other:?}"),
                }
            }
        }
        c6.ip = "2001:db8:5:7::1";
        block_on(signup(&c6, &creds("v6-other@example.org", PW), "https://fhiriq.test")).expect("another /64");
    }
}
