//! The monitoring tables' SQL (`health_checks`, `monitor_state`, `monitor_alerts`).

use super::probe::{Alert, Probe, State};
use crate::error::Result;
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::Deserialize;

pub fn insert_check(probe: &Probe) -> Statement {
    Statement::new(
        "INSERT INTO health_checks (endpoint, status_code, response_time_ms, healthy, state, error, checked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(probe.endpoint.as_str())
    .bind(probe.status_code)
    .bind(i64::try_from(probe.response_ms).unwrap_or(i64::MAX))
    .bind(probe.state == State::Up)
    .bind(probe.state.as_str())
    .bind(probe.error.clone())
    .bind(probe.checked_at)
}

/// Records what the endpoint is now; `since` moves only when the state changes.
pub fn upsert_state(probe: &Probe) -> Statement {
    Statement::new(
        "INSERT INTO monitor_state (endpoint, state, since, notified_state, last_checked_at)
         VALUES (?1, ?2, ?3, 'up', ?3)
         ON CONFLICT (endpoint) DO UPDATE SET
             since = CASE WHEN monitor_state.state = excluded.state THEN monitor_state.since ELSE excluded.since END,
             state = excluded.state,
             last_checked_at = excluded.last_checked_at",
    )
    .bind(probe.endpoint.as_str())
    .bind(probe.state.as_str())
    .bind(probe.checked_at)
}

pub fn set_notified(endpoint: &str, state: State) -> Statement {
    Statement::new("UPDATE monitor_state SET notified_state = ?2 WHERE endpoint = ?1")
        .bind(endpoint)
        .bind(state.as_str())
}

pub fn insert_alert(alert: &Alert, delivered: bool, error: Option<String>, at: Millis) -> Statement {
    Statement::new(
        "INSERT INTO monitor_alerts (endpoint, kind, message, delivered, error, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(alert.endpoint.as_str())
    .bind(alert.kind.as_str())
    .bind(alert.message())
    .bind(delivered)
    .bind(error)
    .bind(at)
}

#[derive(Debug, Deserialize)]
struct NotifiedRow {
    notified_state: String,
}

/// The state Slack was last told about, if the endpoint has been seen before.
pub async fn notified_state(db: &impl Database, endpoint: &str) -> Result<Option<State>> {
    let row: Option<NotifiedRow> = db
        .query_first(Statement::new("SELECT notified_state FROM monitor_state WHERE endpoint = ?1").bind(endpoint))
        .await?;
    Ok(row.and_then(|r| State::parse(&r.notified_state)))
}

/// One stored probe, as the status page reads it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CheckRow {
    pub endpoint: String,
    pub status_code: Option<i64>,
    pub response_time_ms: i64,
    pub state: String,
    pub error: Option<String>,
    pub checked_at: i64,
}

pub async fn checks_since(db: &impl Database, since: Millis) -> Result<Vec<CheckRow>> {
    db.query(
        Statement::new(
            "SELECT endpoint, status_code, response_time_ms, state, error, checked_at
             FROM health_checks WHERE checked_at >= ?1 ORDER BY endpoint, checked_at",
        )
        .bind(since),
    )
    .await
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AlertRow {
    pub endpoint: String,
    pub kind: String,
    pub message: String,
    pub delivered: i64,
    pub created_at: i64,
}

pub async fn recent_alerts(db: &impl Database, limit: i64) -> Result<Vec<AlertRow>> {
    db.query(
        Statement::new(
            "SELECT endpoint, kind, message, delivered, created_at FROM monitor_alerts ORDER BY created_at DESC, id DESC LIMIT ?1",
        )
        .bind(limit),
    )
    .await
}

pub fn delete_checks_before(cutoff: Millis) -> Statement {
    Statement::new("DELETE FROM health_checks WHERE checked_at < ?1").bind(cutoff)
}

pub fn delete_alerts_before(cutoff: Millis) -> Statement {
    Statement::new("DELETE FROM monitor_alerts WHERE created_at < ?1").bind(cutoff)
}
