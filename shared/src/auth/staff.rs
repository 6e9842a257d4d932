//! What staff do to accounts from `/admin/users`: find them by email, grant or revoke staff, disable
//! (every session ends at once and sign-in is refused) or enable them, and send a new verification or
//! password-reset email. Each action is refused on the staff member's own account where it would
//! lock them out, and each is written to the audit log in the same batch as the change.

use super::audit;
use super::roles::{Caller, Role, derive_role};
use super::store::role_columns;
use super::{service, session, verify};
use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::{Deserialize, Serialize};

/// One account in the staff search.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserLine {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub admin: bool,
    pub verified: bool,
    pub organisation: Option<String>,
    pub created_at: Millis,
    /// The newest session's last activity: when they were last signed in.
    pub last_seen_at: Option<Millis>,
    pub disabled: bool,
}

#[derive(Deserialize)]
struct UserRowFull {
    id: String,
    email: String,
    admin: i64,
    verified: i64,
    organisation: Option<String>,
    created_at: Millis,
    last_seen_at: Option<Millis>,
    disabled: i64,
    own_plan: Option<String>,
    org_plan: Option<String>,
    completed_order: i64,
}

/// The most accounts one search lists.
pub const SEARCH_LIMIT: i64 = 100;

/// Accounts whose email contains `query` (all, newest first, when it is empty). `instr`, not
/// `LIKE`: what staff type is plain text, and D1 caps a LIKE pattern at 50 bytes.
pub async fn search(db: &impl Database, query: &str) -> Result<Vec<UserLine>> {
    let rows: Vec<UserRowFull> = db
        .query(
            Statement::new(concat!(
                "SELECT u.id, u.email, u.admin, u.email_verified_at IS NOT NULL AS verified, o.name AS organisation,
                        u.created_at, (SELECT MAX(s.last_seen_at) FROM sessions s WHERE s.user_id = u.id) AS last_seen_at,
                        u.disabled_at IS NOT NULL AS disabled, ",
                role_columns!("''", "''"),
                " FROM users u LEFT JOIN organisations o ON o.id = u.org_id
                 WHERE instr(u.email, ?1) > 0
                 ORDER BY u.created_at DESC LIMIT ?2",
            ))
            .bind(query.trim().to_lowercase())
            .bind(SEARCH_LIMIT),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| UserLine {
            role: derive_role(
                r.own_plan.as_deref().and_then(Role::parse),
                r.org_plan.as_deref().and_then(Role::parse),
                r.completed_order == 1,
            ),
            id: r.id,
            email: r.email,
            admin: r.admin == 1,
            verified: r.verified == 1,
            organisation: r.organisation,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            disabled: r.disabled == 1,
        })
        .collect())
}

#[derive(Deserialize)]
struct Target {
    id: String,
    email: String,
    verified: i64,
}

async fn target(db: &impl Database, user_id: &str) -> Result<Target> {
    db.query_first(
        Statement::new("SELECT id, email, email_verified_at IS NOT NULL AS verified FROM users WHERE id = ?1")
            .bind(user_id),
    )
    .await?
    .ok_or_else(|| Error::NotFound("No such account.".into()))
}

/// `POST /api/admin/users/{id}/staff {admin}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetStaff {
    pub admin: bool,
}

/// `POST /api/admin/users/{id}/disable {disabled}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetDisabled {
    pub disabled: bool,
}

/// `POST /api/admin/users/{id}/resend {kind}`: `verification` or `reset`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resend {
    pub kind: String,
}

fn not_yourself(staff: &Caller, user_id: &str, what: &str) -> Result<()> {
    if staff.user_id == user_id {
        return Err(Error::Conflict(format!("You cannot {what} your own account; ask another member of staff.")));
    }
    Ok(())
}

/// Grants or revokes staff. Revoking one's own is refused (409), so staff never lock themselves out.
pub async fn set_staff(db: &impl Database, staff: &Caller, user_id: &str, input: &SetStaff, now: Millis) -> Result<()> {
    if !input.admin {
        not_yourself(staff, user_id, "revoke staff from")?;
    }
    let user = target(db, user_id).await?;
    let action = if input.admin { "staff.grant" } else { "staff.revoke" };
    db.batch(vec![
        Statement::new("UPDATE users SET admin = ?2 WHERE id = ?1").bind(user.id.as_str()).bind(i64::from(input.admin)),
        audit::entry(staff, action, &user.email, now),
    ])
    .await
}

/// Disables an account (its sessions end in the same batch; sign-in is refused from then on) or
/// enables it again. Disabling one's own account is refused (409).
pub async fn set_disabled(
    db: &impl Database,
    staff: &Caller,
    user_id: &str,
    input: &SetDisabled,
    now: Millis,
) -> Result<()> {
    if input.disabled {
        not_yourself(staff, user_id, "disable")?;
    }
    let user = target(db, user_id).await?;
    let mut statements = vec![
        Statement::new("UPDATE users SET disabled_at = ?2 WHERE id = ?1")
            .bind(user.id.as_str())
            .bind(input.disabled.then_some(now)),
    ];
    if input.disabled {
        statements.push(session::revoke_all(&user.id));
    }
    let action = if input.disabled { "account.disable" } else { "account.enable" };
    statements.push(audit::entry(staff, action, &user.email, now));
    db.batch(statements).await
}

/// Sends the account a new verification link (409 when already verified) or a password-reset link.
/// Answers the outbox id to deliver.
pub async fn resend(
    db: &impl Database,
    staff: &Caller,
    user_id: &str,
    input: &Resend,
    site_url: &str,
    now: Millis,
) -> Result<String> {
    let user = target(db, user_id).await?;
    let (outbox_id, mut statements, action) = match input.kind.as_str() {
        "verification" if user.verified == 1 => {
            return Err(Error::Conflict(format!("{} is already verified.", user.email)));
        }
        "verification" => {
            let link = verify::new_link(&user.id, &user.email, site_url, now)?;
            (link.outbox_id, link.statements, "email.verification")
        }
        "reset" => {
            let (outbox_id, statements) = service::reset_link(&user.id, &user.email, site_url, now)?;
            (outbox_id, statements, "email.reset")
        }
        _ => return Err(Error::Unprocessable("kind must be verification or reset".into())),
    };
    statements.push(audit::entry(staff, action, &user.email, now));
    db.batch(statements).await?;
    Ok(outbox_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    fn staff() -> Caller {
        Caller {
            user_id: "s".into(),
            email: "staff@fhiriq.test".into(),
            role: Role::Free,
            admin: true,
            org_id: None,
            org_owner: false,
            verified: true,
        }
    }

    fn db() -> SqliteDb {
        let db = SqliteDb::with_schema();
        for (id, email) in
            [("s", "staff@fhiriq.test"), ("u", "ada_lovelace@example.org"), ("v", "adaXlovelace@example.org")]
        {
            block_on(db.execute(
                Statement::new(
                    "INSERT INTO users (id, email, password_hash, created_at, password_changed_at, admin, email_verified_at)
                     VALUES (?1, ?2, 'x', 0, 0, ?3, NULL)",
                )
                .bind(id)
                .bind(email)
                .bind(i64::from(id == "s")),
            ))
            .expect("user");
        }
        db
    }

    use crate::testing::count;

    #[test]
    fn search_treats_wildcards_as_text() {
        let db = db();
        let found = block_on(search(&db, "ADA_")).expect("search");
        assert_eq!(found.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), ["ada_lovelace@example.org"]);
        assert_eq!(block_on(search(&db, "")).expect("all").len(), 3);
        assert_eq!(found[0].role, Role::Free);
    }

    #[test]
    fn staff_actions_change_the_account_and_are_audited_but_never_lock_staff_out() {
        let db = db();
        let s = staff();
        block_on(db.execute(session::revoke_all("u"))).expect("no sessions yet");
        block_on(set_disabled(&db, &s, "u", &SetDisabled { disabled: true }, 5)).expect("disabled");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM users WHERE disabled_at = 5"), 1);
        let own = block_on(set_disabled(&db, &s, "s", &SetDisabled { disabled: true }, 6)).expect_err("self");
        assert_eq!(own.status_code(), 409);
        assert_eq!(
            block_on(set_staff(&db, &s, "s", &SetStaff { admin: false }, 7)).expect_err("self").status_code(),
            409
        );
        block_on(set_staff(&db, &s, "u", &SetStaff { admin: true }, 8)).expect("granted");
        let missing = block_on(set_staff(&db, &s, "nobody", &SetStaff { admin: true }, 9)).expect_err("404");
        assert_eq!(missing.status_code(), 404);
        block_on(resend(&db, &s, "u", &Resend { kind: "verification".into() }, "https://x.test", 10)).expect("sent");
        block_on(resend(&db, &s, "u", &Resend { kind: "reset".into() }, "https://x.test", 11)).expect("sent");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM email_outbox WHERE to_email = 'ada_lovelace@example.org'"), 2);
        let bad = block_on(resend(&db, &s, "u", &Resend { kind: "spam".into() }, "", 12)).expect_err("kind");
        assert_eq!(bad.status_code(), 422);
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM admin_audit WHERE target = 'ada_lovelace@example.org'"),
            4,
            "disable, grant, two emails"
        );
    }
}
