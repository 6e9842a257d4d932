//! The accounts tables' SQL: users, and the one query that loads a caller with their derived role.

use super::roles::{Caller, Role, derive_role};
use crate::error::Result;
use crate::storage::{Database, Statement};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    /// Staff disabled the account: it cannot sign in.
    pub disabled_at: Option<i64>,
}

pub async fn user_by_email(db: &impl Database, email: &str) -> Result<Option<UserRow>> {
    db.query_first(
        Statement::new("SELECT id, email, password_hash, disabled_at FROM users WHERE email = ?1").bind(email),
    )
    .await
}

pub fn insert_user(id: &str, email: &str, password_hash: &str, now: i64) -> Statement {
    Statement::new(
        "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    )
    .bind(id)
    .bind(email)
    .bind(password_hash)
    .bind(now)
}

pub fn set_password(user_id: &str, password_hash: &str, now: i64) -> Statement {
    Statement::new("UPDATE users SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1")
        .bind(user_id)
        .bind(password_hash)
        .bind(now)
}

#[derive(Deserialize)]
struct CallerRow {
    id: String,
    email: String,
    admin: i64,
    org_id: Option<String>,
    org_owner: i64,
    verified: i64,
    own_plan: Option<String>,
    org_plan: Option<String>,
    completed_order: i64,
}

/// Plans rank enterprise > pro > student; a subscription counts while active or trialing. `?2` is a
/// subscription and `?3` an order to leave out (the empty string leaves out none): billing asks what
/// the role would be once a subscription changes or an order is refunded.
/// The columns [`derive_role`] reads, for the user row `u`: their own best plan (not counting
/// subscription `$subscription`), their organisation owner's best plan, and whether they completed an
/// order (other than `$order`). Both arguments are SQL parameters, such as `"?2"`; bind `""` to
/// exclude nothing.
macro_rules! role_columns {
    ($subscription:literal, $order:literal) => {
        concat!(
            "(SELECT s.plan FROM subscriptions s
               WHERE s.user_id = u.id AND s.id <> ",
            $subscription,
            " AND s.status IN ('active', 'trialing')
               ORDER BY CASE s.plan WHEN 'enterprise' THEN 3 WHEN 'pro' THEN 2 ELSE 1 END DESC LIMIT 1) AS own_plan,
             (SELECT s.plan FROM subscriptions s JOIN organisations og ON og.owner_id = s.user_id
               WHERE og.id = u.org_id AND og.owner_id <> u.id AND s.status IN ('active', 'trialing')
               ORDER BY CASE s.plan WHEN 'enterprise' THEN 3 WHEN 'pro' THEN 2 ELSE 1 END DESC LIMIT 1) AS org_plan,
             EXISTS (SELECT 1 FROM orders r WHERE r.user_id = u.id AND r.status = 'completed' AND r.id <> ",
            $order,
            ") AS completed_order"
        )
    };
}
pub(crate) use role_columns;

const CALLER_SQL: &str = concat!(
    "SELECT u.id, u.email, u.admin, u.org_id,
       EXISTS (SELECT 1 FROM organisations o WHERE o.id = u.org_id AND o.owner_id = u.id) AS org_owner,
       u.email_verified_at IS NOT NULL AS verified, ",
    role_columns!("?2", "?3"),
    " FROM users u WHERE u.id = ?1"
);

pub async fn caller(db: &impl Database, user_id: &str) -> Result<Option<Caller>> {
    let row: Option<CallerRow> = db.query_first(Statement::new(CALLER_SQL).bind(user_id).bind("").bind("")).await?;
    Ok(row.map(|r| Caller {
        role: derive_role(
            r.own_plan.as_deref().and_then(Role::parse),
            r.org_plan.as_deref().and_then(Role::parse),
            r.completed_order == 1,
        ),
        user_id: r.id,
        email: r.email,
        admin: r.admin == 1,
        org_id: r.org_id,
        org_owner: r.org_owner == 1,
        verified: r.verified == 1,
    }))
}

/// The role the user would have if subscription `excluding` granted `grant` instead of what it
/// grants now, and (with `order_completes`) one more order completed, and order `refunded` (if not
/// empty) no longer counted. `None`: no such user.
pub async fn role_with(
    db: &impl Database,
    user_id: &str,
    excluding: &str,
    grant: Option<Role>,
    order_completes: bool,
    refunded: &str,
) -> Result<Option<Role>> {
    let statement = Statement::new(CALLER_SQL).bind(user_id).bind(excluding).bind(refunded);
    let row: Option<CallerRow> = db.query_first(statement).await?;
    Ok(row.map(|r| {
        derive_role(
            r.own_plan.as_deref().and_then(Role::parse).max(grant),
            r.org_plan.as_deref().and_then(Role::parse),
            r.completed_order == 1 || order_completes,
        )
    }))
}

pub async fn caller_by_email(db: &impl Database, email: &str) -> Result<Option<Caller>> {
    match user_by_email(db, email).await? {
        Some(user) => caller(db, &user.id).await,
        None => Ok(None),
    }
}

pub fn log_role_change(user_id: &str, from: Role, to: Role, reason: &str, now: i64) -> Statement {
    Statement::new(
        "INSERT INTO role_changes (user_id, from_role, to_role, reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(user_id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(reason)
    .bind(now)
}
