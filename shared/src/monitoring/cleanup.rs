//! The daily clean-up cron: delete rows past their retention, atomically.

use super::store;
use crate::auth::{rate_limit, session};
use crate::config::RetentionConfig;
use crate::error::Result;
use crate::events;
use crate::storage::Database;
use crate::storage::Statement;
use crate::time::{DAY, Millis};

#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct CleanupSummary {
    pub health_checks_before: Millis,
    pub events_deleted: u64,
    pub sessions_deleted: u64,
}

pub async fn run(
    db: &impl Database,
    retention: &RetentionConfig,
    sessions: &session::SessionConfig,
    now: Millis,
) -> Result<CleanupSummary> {
    let health_cutoff = now - days(retention.health_check_days);
    db.batch(vec![
        store::delete_checks_before(health_cutoff),
        store::delete_alerts_before(health_cutoff),
        rate_limit::delete_stale(now),
        // Reset links and invitations past expiry (used or not), and sent email past retention.
        Statement::new("DELETE FROM password_resets WHERE expires_at < ?1").bind(now),
        Statement::new("DELETE FROM org_invitations WHERE expires_at < ?1").bind(now),
        Statement::new("DELETE FROM email_outbox WHERE status <> 'pending' AND created_at < ?1").bind(health_cutoff),
        Statement::new("DELETE FROM chat_logs WHERE created_at < ?1").bind(now - days(retention.chat_days)),
    ])
    .await?;
    let sessions_deleted = db.execute(session::delete_expired(now, sessions)).await?;
    // Raw events (the server's and the browser's); their daily rollups are kept.
    let cutoff = now - days(retention.event_days);
    let events_deleted =
        events::delete_before(db, cutoff).await? + crate::analytics::rollup::delete_before(db, cutoff).await?;
    Ok(CleanupSummary { health_checks_before: health_cutoff, events_deleted, sessions_deleted })
}

fn days(n: u64) -> Millis {
    Millis::try_from(n).unwrap_or(Millis::MAX / DAY) * DAY
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Statement;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    #[test]
    fn rows_past_retention_go_and_recent_rows_stay() {
        let db = SqliteDb::with_schema();
        let now = 100 * DAY;
        db.run(&format!(
            "INSERT INTO health_checks (endpoint, response_time_ms, healthy, state, checked_at) VALUES
               ('/', 1, 1, 'up', {old}), ('/', 1, 1, 'up', {recent});
             INSERT INTO user_events (event_type, created_at) VALUES ('page.view', {old_event}), ('page.view', {recent});
             INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES ('u', 'a@b.org', 'x', 0, 0);
             INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at) VALUES
               ('expired', 'u', 0, {recent}, {old}), ('idle', 'u', 0, {old}, {future}), ('live', 'u', 0, {recent}, {future});",
            old = now - 31 * DAY,
            recent = now - DAY,
            old_event = now - 91 * DAY,
            future = now + DAY,
        ));
        let retention = RetentionConfig { health_check_days: 30, event_days: 90, chat_days: 90 };
        let sessions = session::SessionConfig { idle_ms: 7 * DAY, absolute_ms: 30 * DAY, touch_every_ms: DAY };
        let summary = block_on(run(&db, &retention, &sessions, now)).expect("clean-up runs");
        assert_eq!(summary.events_deleted, 1);
        assert_eq!(summary.sessions_deleted, 2, "past the absolute expiry, and idle too long");
        #[derive(serde::Deserialize)]
        struct N {
            n: i64,
        }
        let left: Option<N> =
            block_on(db.query_first(Statement::new("SELECT COUNT(*) AS n FROM health_checks"))).expect("query");
        assert_eq!(left.map(|r| r.n), Some(1));
    }
}
