//! The daily clean-up jobs: rows past their retention (health checks, sessions, events, expired
//! tokens), webhook delivery records once no provider will retry them, and code generations past
//! their retention unless a repository was made from them.

use super::store;
use crate::auth::{rate_limit, session};
use crate::config::{EnvSource, RetentionConfig, number};
use crate::error::Result;
use crate::events;
use crate::storage::Database;
use crate::storage::Statement;
use crate::time::{DAY, Millis, to_rfc3339};

/// Variable names (documented in README's configuration table).
pub const WEBHOOK_RETENTION_DAYS: &str = "WEBHOOK_RETENTION_DAYS";
pub const CODE_GENERATION_RETENTION_DAYS: &str = "CODE_GENERATION_RETENTION_DAYS";

/// How long the records the daily jobs prune are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanupConfig {
    /// `stripe_events` and `github_deliveries`: a delivery record must outlive every retry of its
    /// event, or a late retry would be applied twice. Stripe retries for up to 3 days and GitHub's
    /// redeliveries are manual within 3 days, so at least 4 days; 30 by default leaves room to replay
    /// a failed delivery by hand during a longer incident.
    pub webhook_days: u64,
    /// `code_generations`: what a user generated can be downloaded or pushed again for this long.
    pub code_generation_days: u64,
}

impl CleanupConfig {
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        Ok(Self {
            webhook_days: number(env, WEBHOOK_RETENTION_DAYS, 30, 4..=3_650)?,
            code_generation_days: number(env, CODE_GENERATION_RETENTION_DAYS, 90, 1..=3_650)?,
        })
    }
}

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
        crate::auth::device::delete_stale(now),
        crate::usage::delete_stale(now),
        // Reset and verification links and invitations past expiry (used or not), and sent email past retention.
        Statement::new("DELETE FROM password_resets WHERE expires_at < ?1").bind(now),
        Statement::new("DELETE FROM email_verifications WHERE expires_at < ?1").bind(now),
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

impl CleanupSummary {
    pub fn describe(&self) -> String {
        format!(
            "deleted {} events and {} sessions; health checks kept from {}",
            self.events_deleted,
            self.sessions_deleted,
            &to_rfc3339(self.health_checks_before)[..10]
        )
    }
}

/// Deletes Stripe event and GitHub delivery records older than `days`: (Stripe, GitHub) rows deleted.
pub async fn webhook_records(db: &impl Database, days: u64, now: Millis) -> Result<(u64, u64)> {
    let cutoff = now - self::days(days);
    let stripe = db.execute(Statement::new("DELETE FROM stripe_events WHERE processed_at < ?1").bind(cutoff)).await?;
    let github =
        db.execute(Statement::new("DELETE FROM github_deliveries WHERE received_at < ?1").bind(cutoff)).await?;
    Ok((stripe, github))
}

/// Deletes code generations older than `days` that no repository was made from (`github_repos`
/// keeps its generation: a `created` repository resumes from it, a `pushed` one is its history).
pub async fn code_generations(db: &impl Database, days: u64, now: Millis) -> Result<u64> {
    db.execute(
        Statement::new(
            "DELETE FROM code_generations
             WHERE created_at < ?1 AND id NOT IN (SELECT generation_id FROM github_repos)",
        )
        .bind(now - self::days(days)),
    )
    .await
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
        assert_eq!(summary.describe(), "deleted 1 events and 2 sessions; health checks kept from 1970-03-12");
    }

    fn ids(db: &SqliteDb, sql: &'static str) -> Vec<String> {
        #[derive(serde::Deserialize)]
        struct Id {
            id: String,
        }
        block_on(db.query::<Id>(Statement::new(sql))).expect("query").into_iter().map(|r| r.id).collect()
    }

    #[test]
    fn webhook_records_go_after_their_retention() {
        let db = SqliteDb::with_schema();
        let now = 100 * DAY;
        db.run(&format!(
            "INSERT INTO stripe_events (id, type, processed_at) VALUES ('evt_old', 'x', {old}), ('evt_new', 'x', {recent});
             INSERT INTO github_deliveries (id, event, received_at) VALUES ('d-old', 'push', {old}), ('d-new', 'push', {recent});",
            old = now - 31 * DAY,
            recent = now - 29 * DAY,
        ));
        assert_eq!(block_on(webhook_records(&db, 30, now)).expect("runs"), (1, 1));
        assert_eq!(ids(&db, "SELECT id FROM stripe_events"), ["evt_new"]);
        assert_eq!(ids(&db, "SELECT id FROM github_deliveries"), ["d-new"]);
    }

    #[test]
    fn old_code_generations_go_unless_a_repository_was_made_from_them() {
        let db = SqliteDb::with_schema();
        let now = 200 * DAY;
        let generation = |id: &str, at: Millis| {
            format!(
                "INSERT INTO code_generations (id, user_id, use_case, language, auth, spec, files, generator, created_at)
                 VALUES ('{id}', 'u', 'x', 'typescript', 'none', '{{}}', '[]', 'templates', {at});"
            )
        };
        db.run(&format!(
            "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES ('u', 'a@b.org', 'x', 0, 0);
             {} {} {} {}
             INSERT INTO github_repos (owner, name, user_id, generation_id, status, repo_url, clone_url, branch, created_at, updated_at)
             VALUES ('o', 'pushed', 'u', 'old-pushed', 'pushed', 'u', 'c', 'main', 0, 0),
                    ('o', 'resumable', 'u', 'old-created', 'created', 'u', 'c', 'main', 0, 0);",
            generation("old", now - 91 * DAY),
            generation("old-pushed", now - 91 * DAY),
            generation("old-created", now - 91 * DAY),
            generation("recent", now - 89 * DAY),
        ));
        assert_eq!(block_on(code_generations(&db, 90, now)).expect("runs"), 1);
        assert_eq!(ids(&db, "SELECT id FROM code_generations ORDER BY id"), ["old-created", "old-pushed", "recent"]);
    }

    #[test]
    fn retention_defaults_and_the_webhook_floor() {
        use std::collections::HashMap;
        let defaults = CleanupConfig::from_env(&HashMap::<&str, &str>::new()).expect("defaults");
        assert_eq!(defaults, CleanupConfig { webhook_days: 30, code_generation_days: 90 });
        // Shorter than Stripe's three days of retries would let a late retry apply twice.
        let error = CleanupConfig::from_env(&HashMap::from([(WEBHOOK_RETENTION_DAYS, "3")])).expect_err("too short");
        assert!(error.to_string().contains(WEBHOOK_RETENTION_DAYS));
    }
}
