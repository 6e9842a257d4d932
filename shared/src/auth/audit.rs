//! The staff audit log (`admin_audit`): every staff action (a support reply, a plan granted, an order
//! recorded) as who, what, on what, and when, written in the same batch as the action. Shown at
//! `/admin/audit`.

use super::roles::Caller;
use crate::error::Result;
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::{Deserialize, Serialize};

/// The statement that records `action` by `staff` on `target` (an id or an email).
pub fn entry(staff: &Caller, action: &str, target: &str, now: Millis) -> Statement {
    detailed(staff, action, target, None, now)
}

/// [`entry`] with a detail (what was set).
pub fn detailed(staff: &Caller, action: &str, target: &str, detail: Option<&str>, now: Millis) -> Statement {
    Statement::new(
        "INSERT INTO admin_audit (staff_id, staff_email, action, target, detail, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(staff.user_id.as_str())
    .bind(staff.email.as_str())
    .bind(action)
    .bind(target)
    .bind(detail)
    .bind(now)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub staff_email: String,
    pub action: String,
    pub target: String,
    pub detail: Option<String>,
    pub created_at: Millis,
}

/// The newest entries first.
pub async fn recent(db: &impl Database, limit: i64) -> Result<Vec<AuditEntry>> {
    db.query(
        Statement::new(
            "SELECT staff_email AS staffEmail, action, target, detail, created_at AS createdAt
             FROM admin_audit ORDER BY id DESC LIMIT ?1",
        )
        .bind(limit),
    )
    .await
}
