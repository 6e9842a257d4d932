//! Staff actions on plans: set a user's subscription or record a one-time purchase (beside what the
//! Stripe webhook records). Every change of the derived role is logged in `role_changes` with its
//! reason, and every action in the staff audit log (`admin_audit`).

use super::email::Email;
use super::roles::{Caller, Role};
use super::store;
use crate::error::{Error, Result};
use crate::ids;
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::{Deserialize, Serialize};

const STATUSES: [&str; 8] =
    ["active", "trialing", "past_due", "incomplete", "unpaid", "canceled", "incomplete_expired", "paused"];

#[derive(Deserialize)]
pub struct SetSubscription {
    pub email: String,
    pub plan: String,
    pub status: String,
}

#[derive(Deserialize)]
pub struct RecordOrder {
    pub email: String,
    pub product: String,
    pub status: String,
}

#[derive(Debug, Serialize)]
pub struct RoleOutcome {
    pub email: String,
    #[serde(rename = "previousRole")]
    pub previous_role: Role,
    pub role: Role,
}

async fn target(db: &impl Database, email: &str) -> Result<Caller> {
    let email = Email::parse(email)?;
    store::caller_by_email(db, email.as_ref())
        .await?
        .ok_or_else(|| Error::NotFound(format!("no account for {}", email.as_ref())))
}

/// Applies `change` with its staff audit entry, if a staff member acts (one batch), then logs the role
/// change (if any) with `reason`.
pub async fn apply_and_log(
    db: &impl Database,
    before: &Caller,
    change: Statement,
    audit: Option<Statement>,
    reason: &str,
    now: Millis,
) -> Result<RoleOutcome> {
    db.batch([change].into_iter().chain(audit).collect()).await?;
    let after = store::caller(db, &before.user_id).await?.ok_or_else(|| Error::internal("reloading a user", "gone"))?;
    if after.role != before.role {
        db.execute(store::log_role_change(&after.user_id, before.role, after.role, reason, now)).await?;
    }
    Ok(RoleOutcome { email: after.email, previous_role: before.role, role: after.role })
}

/// An admin-granted subscription (one per user; a Stripe subscription will have its own row).
pub async fn set_subscription(
    db: &impl Database,
    staff: &Caller,
    input: &SetSubscription,
    now: Millis,
) -> Result<RoleOutcome> {
    let plan = Role::parse_plan(&input.plan)?;
    if !STATUSES.contains(&input.status.as_str()) {
        return Err(Error::Unprocessable(format!(
            "unknown status {:?}; use one of {}",
            input.status,
            STATUSES.join(", ")
        )));
    }
    let user = target(db, &input.email).await?;
    let change = Statement::new(
        "INSERT INTO subscriptions (id, user_id, plan, status, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET plan = excluded.plan, status = excluded.status, updated_at = excluded.updated_at",
    )
    .bind(format!("admin:{}", user.user_id))
    .bind(user.user_id.as_str())
    .bind(plan.as_str())
    .bind(input.status.as_str())
    .bind(now);
    let detail = format!("{} {}", plan.as_str(), input.status);
    let audit = super::audit::detailed(staff, "plan.set", &user.email, Some(&detail), now);
    apply_and_log(db, &user, change, Some(audit), &format!("admin {} set subscription {detail}", staff.email), now)
        .await
}

pub async fn record_order(db: &impl Database, staff: &Caller, input: &RecordOrder, now: Millis) -> Result<RoleOutcome> {
    if !["pending", "completed", "refunded"].contains(&input.status.as_str()) {
        return Err(Error::Unprocessable("status must be pending, completed or refunded".into()));
    }
    let product = input.product.trim();
    if product.is_empty() || product.len() > 200 {
        return Err(Error::Unprocessable("product must be 1 to 200 characters".into()));
    }
    let user = target(db, &input.email).await?;
    let order_id = ids::new_id()?;
    let change =
        Statement::new("INSERT INTO orders (id, user_id, product, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(order_id.as_str())
            .bind(user.user_id.as_str())
            .bind(product)
            .bind(input.status.as_str())
            .bind(now);
    let detail = format!("order {order_id}: {product} {}", input.status);
    let audit = super::audit::detailed(staff, "order.record", &user.email, Some(&detail), now);
    apply_and_log(db, &user, change, Some(audit), &format!("admin {} recorded order {order_id}", staff.email), now)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    fn staff() -> Caller {
        Caller {
            user_id: "s".into(),
            email: "admin@fhiriq.dev".into(),
            role: Role::Free,
            admin: true,
            org_id: None,
            org_owner: false,
            verified: true,
        }
    }

    #[derive(Deserialize)]
    struct Change {
        from_role: String,
        to_role: String,
        reason: String,
    }

    #[test]
    fn roles_follow_subscriptions_and_orders_and_each_change_is_logged() {
        let db = SqliteDb::with_schema();
        db.run("INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES ('u', 'ada@example.org', 'x', 0, 0)");
        let set = |plan: &str, status: &str| {
            block_on(set_subscription(
                &db,
                &staff(),
                &SetSubscription { email: "ada@example.org".into(), plan: plan.into(), status: status.into() },
                1,
            ))
            .expect("applies")
        };
        let order = RecordOrder {
            email: "ada@example.org".into(),
            product: "course:fhir-101".into(),
            status: "completed".into(),
        };
        assert_eq!(block_on(record_order(&db, &staff(), &order, 1)).expect("applies").role, Role::Student);
        assert_eq!(set("pro", "active").role, Role::Pro);
        assert_eq!(set("pro", "past_due").role, Role::Student, "no paid access while past due; the order still counts");
        assert_eq!(set("pro", "past_due").role, Role::Student, "no change, no log");
        let log: Vec<Change> =
            block_on(db.query(Statement::new("SELECT from_role, to_role, reason FROM role_changes ORDER BY id")))
                .expect("q");
        let steps: Vec<(String, String)> = log.iter().map(|c| (c.from_role.clone(), c.to_role.clone())).collect();
        assert_eq!(
            steps,
            [("free".into(), "student".into()), ("student".into(), "pro".into()), ("pro".into(), "student".into())]
        );
        assert!(log[1].reason.contains("admin@fhiriq.dev"));
    }

    #[test]
    fn bad_plans_statuses_and_unknown_users_are_rejected() {
        let db = SqliteDb::with_schema();
        let input = |email: &str, plan: &str, status: &str| SetSubscription {
            email: email.into(),
            plan: plan.into(),
            status: status.into(),
        };
        let status =
            |i: SetSubscription| block_on(set_subscription(&db, &staff(), &i, 0)).err().map(|e| e.status_code());
        assert_eq!(status(input("ada@example.org", "platinum", "active")), Some(422));
        assert_eq!(status(input("ada@example.org", "pro", "sort-of")), Some(422));
        assert_eq!(status(input("nobody@example.org", "pro", "active")), Some(404));
    }
}
