//! Organisations (enterprise `bulk_user_management`): the owner invites members by email, lists and
//! removes them; members inherit the organisation's plan. An enterprise user's organisation is
//! created with their first invitation.

use super::admin::apply_and_log;
use super::email::Email;
use super::rate_limit::{self, Limit};
use super::roles::Caller;
use super::session::token_hash;
use super::store;
use crate::error::{Error, Result};
use crate::ids;
use crate::mail;
use crate::storage::{Database, Statement};
use crate::time::{DAY, Millis, to_rfc3339};
use serde::{Deserialize, Serialize};

pub const INVITATION_MS: Millis = 7 * DAY;

fn owner_only(caller: &Caller) -> Result<()> {
    if caller.org_id.is_some() && !caller.org_owner {
        return Err(Error::Forbidden("Only the organisation's owner manages its members.".into()));
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct Invite {
    pub email: String,
}

#[derive(Debug, Serialize)]
pub struct Invitation {
    pub email: String,
    #[serde(rename = "expiresAt")]
    pub expires_at: String,
    #[serde(rename = "outboxId", skip_serializing)]
    pub outbox_id: String,
}

/// How many members an organisation may have, and how fast its owner may invite.
#[derive(Debug, Clone, Copy)]
pub struct OrgLimits {
    /// Seats of an Enterprise plan granted without a Stripe subscription (by staff); a subscription's
    /// seats are its quantity in Stripe.
    pub default_seats: u64,
    /// Invitations one owner may send (`RATE_LIMIT_INVITES_OWNER`, attempts/seconds).
    pub invitations: Limit,
}

impl OrgLimits {
    pub fn from_env(env: &impl crate::config::EnvSource) -> Result<Self> {
        let raw = env.var("RATE_LIMIT_INVITES_OWNER").unwrap_or_else(|| "20/86400".into());
        Ok(Self {
            default_seats: crate::config::number(env, "ENTERPRISE_DEFAULT_SEATS", 5, 1..=100_000)?,
            invitations: Limit::parse("RATE_LIMIT_INVITES_OWNER", &raw)?,
        })
    }
}

#[derive(Deserialize)]
struct Seats {
    quantity: i64,
}

/// The owner's seats: the quantity of their newest Stripe subscription, else the default.
async fn seats(db: &impl Database, owner: &Caller, limits: &OrgLimits) -> Result<i64> {
    let row: Option<Seats> = db
        .query_first(
            Statement::new(
                "SELECT quantity FROM stripe_subscriptions WHERE user_id = ?1 ORDER BY updated_at DESC LIMIT 1",
            )
            .bind(owner.user_id.as_str()),
        )
        .await?;
    Ok(row.map_or(i64::try_from(limits.default_seats).unwrap_or(i64::MAX), |r| r.quantity.max(1)))
}

/// Invites `email`, creating the owner's organisation on first use. The organisation's members
/// (its owner included) and open invitations never outnumber its seats: the invitation is written by
/// one conditional statement that counts them, so parallel invitations cannot pass the limit.
pub async fn invite(
    db: &impl Database,
    owner: &Caller,
    input: &Invite,
    now: Millis,
    site_url: &str,
    limits: &OrgLimits,
) -> Result<Invitation> {
    owner_only(owner)?;
    let email = Email::parse(&input.email)?;
    if email.as_ref() == owner.email {
        return Err(Error::Unprocessable("You are already in your organisation.".into()));
    }
    rate_limit::hit(db, &rate_limit::key("invite-owner", &owner.user_id), limits.invitations, now).await?;
    let seats = seats(db, owner, limits).await?;
    let org_id = match &owner.org_id {
        Some(id) => id.clone(),
        None => {
            // One organisation per owner, also when several first invitations arrive at once.
            #[derive(Deserialize)]
            struct Org {
                id: String,
            }
            db.batch(vec![
                Statement::new(
                    "INSERT INTO organisations (id, name, owner_id, created_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (owner_id) DO NOTHING",
                )
                .bind(ids::new_id()?)
                .bind(format!("{}'s organisation", owner.email))
                .bind(owner.user_id.as_str())
                .bind(now),
                Statement::new(
                    "UPDATE users SET org_id = (SELECT id FROM organisations WHERE owner_id = ?1) WHERE id = ?1",
                )
                .bind(owner.user_id.as_str()),
            ])
            .await?;
            let org: Option<Org> = db
                .query_first(
                    Statement::new("SELECT id FROM organisations WHERE owner_id = ?1").bind(owner.user_id.as_str()),
                )
                .await?;
            org.ok_or_else(|| Error::internal("creating an organisation", "no row"))?.id
        }
    };
    let token = ids::new_token()?;
    let written = db
        .execute(
            Statement::new(
                "INSERT INTO org_invitations (token_hash, org_id, email, invited_by, created_at, expires_at)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6
                 WHERE ?7 > (SELECT COUNT(*) FROM users WHERE org_id = ?2)
                          + (SELECT COUNT(*) FROM org_invitations WHERE org_id = ?2 AND accepted_at IS NULL
                               AND expires_at > ?5 AND email <> ?3)",
            )
            .bind(token_hash(&token))
            .bind(org_id.as_str())
            .bind(email.as_ref())
            .bind(owner.user_id.as_str())
            .bind(now)
            .bind(now + INVITATION_MS)
            .bind(seats),
        )
        .await?;
    if written == 0 {
        return Err(Error::Conflict(format!(
            "Your organisation has {seats} seats, and its members and open invitations fill them. Remove a member, or add seats to the subscription, to invite someone else."
        )));
    }
    let body = format!(
        "{} invited you to their organisation on FHIR IQ. Members share its Enterprise plan.\n\nSign in or create an account with this email address ({}), then open:\n{site_url}/account?invite={token}\n\nThe invitation expires in 7 days.\n",
        owner.email,
        email.as_ref()
    );
    let (outbox_id, outbox) =
        mail::enqueue(email.as_ref(), "You are invited to an organisation on FHIR IQ", &body, now)?;
    db.execute(outbox).await?;
    Ok(Invitation { email: email.as_ref().to_owned(), expires_at: to_rfc3339(now + INVITATION_MS), outbox_id })
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Member {
    #[serde(rename(serialize = "userId"))]
    pub id: String,
    pub email: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Pending {
    pub email: String,
    #[serde(rename(serialize = "expiresAt"))]
    pub expires_at: i64,
}

#[derive(Debug, Serialize)]
pub struct OrgView {
    pub id: Option<String>,
    pub members: Vec<Member>,
    pub invitations: Vec<Pending>,
}

pub async fn view(db: &impl Database, owner: &Caller, now: Millis) -> Result<OrgView> {
    owner_only(owner)?;
    let Some(org_id) = &owner.org_id else {
        return Ok(OrgView { id: None, members: Vec::new(), invitations: Vec::new() });
    };
    let members = db
        .query(
            Statement::new("SELECT id, email FROM users WHERE org_id = ?1 AND id <> ?2 ORDER BY email")
                .bind(org_id.as_str())
                .bind(owner.user_id.as_str()),
        )
        .await?;
    let invitations = db
        .query(
            Statement::new("SELECT email, expires_at FROM org_invitations WHERE org_id = ?1 AND accepted_at IS NULL AND expires_at > ?2 ORDER BY email")
                .bind(org_id.as_str())
                .bind(now),
        )
        .await?;
    Ok(OrgView { id: Some(org_id.clone()), members, invitations })
}

pub async fn remove(db: &impl Database, owner: &Caller, user_id: &str, now: Millis) -> Result<()> {
    owner_only(owner)?;
    let not_member = || Error::NotFound("That user is not a member of your organisation.".into());
    let org_id = owner.org_id.as_deref().ok_or_else(not_member)?;
    let member = store::caller(db, user_id)
        .await?
        .filter(|m| m.org_id.as_deref() == Some(org_id) && m.user_id != owner.user_id)
        .ok_or_else(not_member)?;
    let change =
        Statement::new("UPDATE users SET org_id = NULL WHERE id = ?1 AND org_id = ?2").bind(user_id).bind(org_id);
    apply_and_log(db, &member, change, None, &format!("removed from organisation {org_id} by {}", owner.email), now)
        .await
        .map(|_| ())
}

#[derive(Deserialize)]
pub struct Accept {
    pub token: String,
}

#[derive(Deserialize)]
struct InvitationRow {
    org_id: String,
    email: String,
    expires_at: i64,
    accepted_at: Option<i64>,
}

/// Joins the organisation. Only the invited email can accept, once, before expiry.
pub async fn accept(db: &impl Database, caller: &Caller, input: &Accept, now: Millis) -> Result<()> {
    let invalid = || Error::Unprocessable("This invitation is invalid, used or expired. Ask for a new one.".into());
    let hash = token_hash(input.token.trim());
    let row: Option<InvitationRow> = db
        .query_first(
            Statement::new("SELECT org_id, email, expires_at, accepted_at FROM org_invitations WHERE token_hash = ?1")
                .bind(hash.as_str()),
        )
        .await?;
    let row = row.filter(|r| r.accepted_at.is_none() && r.expires_at > now).ok_or_else(invalid)?;
    if row.email != caller.email {
        return Err(Error::Forbidden(format!(
            "This invitation is for {}. Sign in with that account to accept it.",
            row.email
        )));
    }
    if caller.org_owner {
        return Err(Error::Conflict("You own an organisation; you cannot join another.".into()));
    }
    db.execute(
        Statement::new("UPDATE org_invitations SET accepted_at = ?2 WHERE token_hash = ?1")
            .bind(hash.as_str())
            .bind(now),
    )
    .await?;
    let change = Statement::new("UPDATE users SET org_id = ?2 WHERE id = ?1")
        .bind(caller.user_id.as_str())
        .bind(row.org_id.as_str());
    apply_and_log(db, caller, change, None, &format!("joined organisation {}", row.org_id), now).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    fn setup() -> SqliteDb {
        let db = SqliteDb::with_schema();
        db.run(
            "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES
               ('boss', 'boss@corp.example', 'x', 0, 0), ('dev', 'dev@corp.example', 'x', 0, 0), ('eve', 'eve@evil.example', 'x', 0, 0);
             INSERT INTO subscriptions (id, user_id, plan, status, updated_at) VALUES ('s1', 'boss', 'enterprise', 'active', 0);",
        );
        db
    }

    fn load(db: &SqliteDb, id: &str) -> Caller {
        block_on(store::caller(db, id)).expect("q").expect("exists")
    }

    fn token_from_outbox(db: &SqliteDb) -> String {
        #[derive(Deserialize)]
        struct B {
            body_text: String,
        }
        let rows: Vec<B> =
            block_on(db.query(Statement::new("SELECT body_text FROM email_outbox ORDER BY created_at DESC")))
                .expect("q");
        rows[0].body_text.split("invite=").nth(1).and_then(|t| t.split_whitespace().next()).expect("link").to_owned()
    }

    #[test]
    fn an_invited_member_inherits_the_plan_until_removed() {
        let db = setup();
        block_on(invite(
            &db,
            &load(&db, "boss"),
            &Invite { email: "Dev@Corp.example".into() },
            0,
            "https://x",
            &LIMITS,
        ))
        .expect("invites");
        let token = token_from_outbox(&db);
        let eve = load(&db, "eve");
        let stolen = block_on(accept(&db, &eve, &Accept { token: token.clone() }, 1)).err().map(|e| e.status_code());
        assert_eq!(stolen, Some(403), "only the invited email can accept");
        block_on(accept(&db, &load(&db, "dev"), &Accept { token: token.clone() }, 1)).expect("accepts");
        assert_eq!(load(&db, "dev").role, Role::Enterprise);
        assert_eq!(
            block_on(accept(&db, &load(&db, "dev"), &Accept { token }, 2)).err().map(|e| e.status_code()),
            Some(422),
            "single use"
        );

        let boss = load(&db, "boss");
        assert!(boss.org_owner);
        let view = block_on(view(&db, &boss, 2)).expect("lists");
        assert_eq!(view.members.iter().map(|m| m.email.as_str()).collect::<Vec<_>>(), ["dev@corp.example"]);
        let dev = load(&db, "dev");
        assert_eq!(
            block_on(super::view(&db, &dev, 2)).err().map(|e| e.status_code()),
            Some(403),
            "members do not manage"
        );
        block_on(remove(&db, &boss, "dev", 3)).expect("removes");
        assert_eq!(load(&db, "dev").role, Role::Free);
        assert_eq!(block_on(remove(&db, &boss, "eve", 3)).err().map(|e| e.status_code()), Some(404));
    }

    const LIMITS: OrgLimits = OrgLimits { default_seats: 5, invitations: Limit { max: 100, window_ms: 60_000 } };

    #[test]
    fn invitations_stop_at_the_subscriptions_seats_and_the_owners_rate() {
        let db = setup();
        db.run(
            "INSERT INTO stripe_subscriptions (id, user_id, customer_id, price_id, billing_interval, updated_at, quantity)
             VALUES ('sub_1', 'boss', 'cus_1', 'price_ent', 'month', 0, 3)",
        );
        let boss = load(&db, "boss");
        let invite_as = |owner: &Caller, email: &str, limits: &OrgLimits| {
            block_on(invite(&db, owner, &Invite { email: email.into() }, 10, "https://x", limits))
        };
        // Three seats: the owner and two invitations.
        invite_as(&boss, "a@corp.example", &LIMITS).expect("first seat");
        let boss = load(&db, "boss");
        invite_as(&boss, "b@corp.example", &LIMITS).expect("second seat");
        let full = invite_as(&boss, "c@corp.example", &LIMITS).expect_err("no seat left");
        assert_eq!(full.status_code(), 409);
        assert!(full.to_string().contains("3 seats"), "{full}");
        // Inviting an address already invited again takes no new seat.
        invite_as(&boss, "a@corp.example", &LIMITS).expect("a repeat");
        let count: Vec<serde_json::Value> =
            block_on(db.query(Statement::new("SELECT COUNT(*) AS n FROM email_outbox"))).expect("q");
        assert_eq!(count[0]["n"], 3, "no email for the refused invitation");
        // And the owner's invitations are rate-limited whatever the seats.
        let slow = OrgLimits { default_seats: 100, invitations: Limit { max: 1, window_ms: 60_000 } };
        db.run("UPDATE stripe_subscriptions SET quantity = 100");
        let refused = invite_as(&boss, "d@corp.example", &slow).expect_err("rate-limited");
        assert_eq!(refused.status_code(), 429);
    }
}
