//! Daily rollups: raw events (browser events and the server's shared logger, one view
//! `analytics_all`) aggregated per UTC day, for the platform (`scope = '*'`) and for each
//! organisation (its members' events), so reports read a few rows per day however many events there
//! were. Raw events are kept for the retention period; rollups indefinitely. Each run recomputes the
//! days since the last finished one (today included), so late events and re-runs converge.

use super::ingest::day_of;
use crate::error::Result;
use crate::storage::{Database, Statement};
use crate::time::{DAY, Millis, start_of_day};
use serde::Deserialize;

/// At most this many days per run (a first run over a long history catches up over several runs).
pub const MAX_DAYS_PER_RUN: i64 = 62;

fn day_statements(start: Millis, day: &str) -> Vec<Statement> {
    let end = start + DAY;
    let with = |sql: &'static str| Statement::new(sql).bind(start).bind(end).bind(day);
    vec![
        Statement::new("DELETE FROM analytics_daily WHERE day = ?1").bind(day),
        Statement::new("DELETE FROM analytics_daily_pages WHERE day = ?1").bind(day),
        Statement::new("DELETE FROM analytics_daily_ai WHERE day = ?1").bind(day),
        // Every event type, the platform.
        with(
            "INSERT INTO analytics_daily (day, scope, event_type, events, users, visitors, sessions, session_seconds)
             SELECT ?3, '*', event_type, COUNT(*), COUNT(DISTINCT user_id), COUNT(DISTINCT visitor), COUNT(DISTINCT session_id), 0
             FROM analytics_all WHERE created_at >= ?1 AND created_at < ?2 GROUP BY event_type",
        ),
        // Every event type, each organisation's members.
        with(
            "INSERT INTO analytics_daily (day, scope, event_type, events, users, visitors, sessions, session_seconds)
             SELECT ?3, u.org_id, a.event_type, COUNT(*), COUNT(DISTINCT a.user_id), COUNT(DISTINCT a.visitor),
                    COUNT(DISTINCT a.session_id), 0
             FROM analytics_all a JOIN users u ON u.id = a.user_id
             WHERE a.created_at >= ?1 AND a.created_at < ?2 AND u.org_id IS NOT NULL GROUP BY u.org_id, a.event_type",
        ),
        // The day as a whole (a row even when nothing happened), with the sessions' total duration.
        with(
            "INSERT INTO analytics_daily (day, scope, event_type, events, users, visitors, sessions, session_seconds)
             SELECT ?3, '*', '*', COUNT(*), COUNT(DISTINCT user_id), COUNT(DISTINCT visitor), COUNT(DISTINCT session_id),
                    coalesce((SELECT SUM(d) FROM (SELECT (MAX(created_at) - MIN(created_at)) / 1000 AS d
                              FROM analytics_events WHERE created_at >= ?1 AND created_at < ?2 GROUP BY session_id)), 0)
             FROM analytics_all WHERE created_at >= ?1 AND created_at < ?2",
        ),
        // Each organisation's day (a row for every organisation), aggregated once for all of them: a join
        // from each member onto the events view made SQLite rescan the day's events per member.
        with(
            "INSERT INTO analytics_daily (day, scope, event_type, events, users, visitors, sessions, session_seconds)
             SELECT ?3, o.id, '*', coalesce(s.events, 0), coalesce(s.users, 0), coalesce(s.visitors, 0),
                    coalesce(s.sessions, 0), coalesce(d.seconds, 0)
             FROM organisations o
             LEFT JOIN (SELECT u.org_id, COUNT(*) AS events, COUNT(DISTINCT a.user_id) AS users,
                               COUNT(DISTINCT a.visitor) AS visitors, COUNT(DISTINCT a.session_id) AS sessions
                        FROM analytics_all a JOIN users u ON u.id = a.user_id
                        WHERE a.created_at >= ?1 AND a.created_at < ?2 AND u.org_id IS NOT NULL
                        GROUP BY u.org_id) s ON s.org_id = o.id
             LEFT JOIN (SELECT org_id, SUM(d) AS seconds
                        FROM (SELECT v.org_id, (MAX(e.created_at) - MIN(e.created_at)) / 1000 AS d
                              FROM analytics_events e JOIN users v ON v.id = e.user_id
                              WHERE e.created_at >= ?1 AND e.created_at < ?2 AND v.org_id IS NOT NULL
                              GROUP BY v.org_id, e.session_id)
                        GROUP BY org_id) d ON d.org_id = o.id",
        ),
        // Page views per page.
        with(
            "INSERT INTO analytics_daily_pages (day, scope, page, views, visitors)
             SELECT ?3, '*', page, COUNT(*), COUNT(DISTINCT visitor) FROM analytics_events
             WHERE event_type = 'page.view' AND created_at >= ?1 AND created_at < ?2 AND page IS NOT NULL GROUP BY page",
        ),
        with(
            "INSERT INTO analytics_daily_pages (day, scope, page, views, visitors)
             SELECT ?3, u.org_id, e.page, COUNT(*), COUNT(DISTINCT e.visitor)
             FROM analytics_events e JOIN users u ON u.id = e.user_id
             WHERE e.event_type = 'page.view' AND e.created_at >= ?1 AND e.created_at < ?2 AND e.page IS NOT NULL
               AND u.org_id IS NOT NULL GROUP BY u.org_id, e.page",
        ),
        // The assistant: questions, tokens and latency per provider.
        with(
            "INSERT INTO analytics_daily_ai (day, scope, provider, questions, users, input_tokens, output_tokens, latency_ms)
             SELECT ?3, '*', provider, COUNT(*), COUNT(DISTINCT user_id), SUM(input_tokens), SUM(output_tokens), SUM(latency_ms)
             FROM chat_logs WHERE created_at >= ?1 AND created_at < ?2 GROUP BY provider",
        ),
        with(
            "INSERT INTO analytics_daily_ai (day, scope, provider, questions, users, input_tokens, output_tokens, latency_ms)
             SELECT ?3, u.org_id, c.provider, COUNT(*), COUNT(DISTINCT c.user_id), SUM(c.input_tokens), SUM(c.output_tokens),
                    SUM(c.latency_ms)
             FROM chat_logs c JOIN users u ON u.id = c.user_id
             WHERE c.created_at >= ?1 AND c.created_at < ?2 AND u.org_id IS NOT NULL GROUP BY u.org_id, c.provider",
        ),
    ]
}

#[derive(Deserialize)]
pub(crate) struct Rolled {
    pub rolled_through: i64,
}

#[derive(Deserialize)]
struct First {
    at: i64,
}

/// The time of the oldest raw event (`now` when there is none): each table's own MIN, an index
/// lookup, where a MIN over the view would read every event.
pub(crate) async fn first_event(db: &impl Database, now: Millis) -> Result<Millis> {
    let first: Option<First> = db
        .query_first(
            Statement::new(
                "SELECT min(coalesce((SELECT MIN(created_at) FROM analytics_events), ?1),
                            coalesce((SELECT MIN(created_at) FROM user_events), ?1)) AS at",
            )
            .bind(now),
        )
        .await?;
    Ok(first.map_or(now, |f| f.at))
}

/// Has the next [`run`] start at the day of `at` (never later than it would anyway): for events
/// written after their day was rolled up (a replay of dead-lettered events).
pub async fn redo_from(db: &impl Database, at: Millis) -> Result<()> {
    db.execute(
        Statement::new("UPDATE analytics_rollup_state SET rolled_through = MIN(rolled_through, ?1) WHERE id = 1")
            .bind(start_of_day(at) + DAY),
    )
    .await?;
    Ok(())
}

/// Rolls up every day from the last finished one through today; deletes salts of past days (their
/// visitor hashes can then never be recomputed). Answers the days rolled up.
pub async fn run(db: &impl Database, now: Millis) -> Result<Vec<String>> {
    let rolled: Option<Rolled> =
        db.query_first(Statement::new("SELECT rolled_through FROM analytics_rollup_state WHERE id = 1")).await?;
    let today = start_of_day(now);
    // The last finished day is redone too: events may arrive just after midnight.
    let mut start = match rolled {
        Some(r) => (r.rolled_through - DAY).min(today),
        None => start_of_day(first_event(db, now).await?).min(today),
    };
    let last = today.min(start + (MAX_DAYS_PER_RUN - 1) * DAY);
    let mut days = Vec::new();
    while start <= last {
        let day = day_of(start);
        let mut statements = day_statements(start, &day);
        let finished = (start + DAY).min(today);
        statements.push(
            Statement::new(
                "INSERT INTO analytics_rollup_state (id, rolled_through) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET rolled_through = excluded.rolled_through",
            )
            .bind(finished),
        );
        db.batch(statements).await?;
        days.push(day);
        start += DAY;
    }
    db.execute(Statement::new("DELETE FROM analytics_salts WHERE day < ?1").bind(day_of(now))).await?;
    Ok(days)
}

/// Raw browser events older than `cutoff` go (the rollups keep their counts).
pub async fn delete_before(db: &impl Database, cutoff: Millis) -> Result<u64> {
    db.execute(Statement::new("DELETE FROM analytics_events WHERE created_at < ?1").bind(cutoff)).await
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    pub(crate) const T0: Millis = 1_764_547_200_000; // 2025-12-01T00:00:00Z

    pub(crate) fn event(db: &SqliteDb, kind: &str, user: Option<&str>, session: &str, page: Option<&str>, at: Millis) {
        block_on(db.execute(
            Statement::new(
                "INSERT INTO analytics_events (event_type, properties, page, session_id, visitor, user_id, created_at)
                 VALUES (?1, '{}', ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(kind)
            .bind(page)
            .bind(session)
            .bind(format!("v-{session}"))
            .bind(user)
            .bind(at),
        ))
        .expect("event");
    }

    /// Users `a` (a member of organisation `org1`, its owner) and `b` (in no organisation).
    pub(crate) fn two_users_one_in_org1() -> SqliteDb {
        let db = SqliteDb::with_schema();
        db.run(
            "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES
               ('a', 'a@x.org', 'x', 0, 0), ('b', 'b@x.org', 'x', 0, 0);
             INSERT INTO organisations (id, name, owner_id, created_at) VALUES ('org1', 'Org', 'a', 0);
             UPDATE users SET org_id = 'org1' WHERE id = 'a';",
        );
        db
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Daily {
        day: String,
        scope: String,
        event_type: String,
        events: i64,
        users: i64,
        sessions: i64,
        session_seconds: i64,
    }

    #[test]
    fn a_long_history_is_rolled_up_over_several_runs_oldest_first() {
        let db = SqliteDb::with_schema();
        let now = T0 + 69 * DAY + 10;
        event(&db, "page.view", None, "s1", Some("/"), T0 + 5);
        event(&db, "page.view", None, "s2", Some("/"), now - 5);
        let first = block_on(run(&db, now)).expect("first run");
        assert_eq!((first.len(), first[0].as_str()), (MAX_DAYS_PER_RUN as usize, "2025-12-01"));
        let second = block_on(run(&db, now)).expect("second run");
        assert_eq!(
            second.first().map(String::as_str),
            Some(day_of(T0 + (MAX_DAYS_PER_RUN - 1) * DAY).as_str()),
            "the last day is redone"
        );
        assert_eq!(second.last(), Some(&day_of(now)), "caught up through today");
        let rolled: Vec<Daily> = block_on(db.query(Statement::new(
            "SELECT day, scope, event_type, events, users, sessions, session_seconds FROM analytics_daily
             WHERE scope = '*' AND event_type = '*' AND events > 0 ORDER BY day",
        )))
        .expect("rows");
        assert_eq!(rolled.iter().map(|r| r.day.clone()).collect::<Vec<_>>(), [day_of(T0), day_of(now)]);
    }

    #[test]
    fn rollups_equal_the_raw_counts_per_day_and_organisation() {
        let db = two_users_one_in_org1();
        event(&db, "page.view", Some("a"), "s1", Some("/pricing"), T0 + 1_000);
        event(&db, "page.view", Some("a"), "s1", Some("/tools"), T0 + 61_000);
        event(&db, "page.view", Some("b"), "s2", Some("/pricing"), T0 + 5_000);
        event(&db, "page.view", None, "s3", Some("/"), T0 + DAY + 5);
        db.run(&format!(
            "INSERT INTO user_events (user_id, event_type, created_at) VALUES ('a', 'builder.generated', {})",
            T0 + 2_000
        ));
        let days = block_on(run(&db, T0 + DAY + 10)).expect("rolled up");
        assert_eq!(days, ["2025-12-01", "2025-12-02"]);
        let rows: Vec<Daily> = block_on(db.query(Statement::new(
            "SELECT day, scope, event_type, events, users, sessions, session_seconds FROM analytics_daily
             WHERE day = '2025-12-01' ORDER BY scope, event_type",
        )))
        .expect("rows");
        let find =
            |scope: &str, kind: &str| rows.iter().find(|r| r.scope == scope && r.event_type == kind).expect(kind);
        let all = find("*", "*");
        assert_eq!((all.events, all.users, all.sessions, all.session_seconds), (4, 2, 2, 60));
        assert_eq!(find("*", "page.view").events, 3);
        assert_eq!(find("*", "builder.generated").users, 1);
        let org = find("org1", "*");
        assert_eq!((org.events, org.users, org.session_seconds), (3, 1, 60), "only the member's events");
        // Rolling up again changes nothing.
        block_on(run(&db, T0 + DAY + 20)).expect("again");
        let again: Vec<Daily> = block_on(db.query(Statement::new(
            "SELECT day, scope, event_type, events, users, sessions, session_seconds FROM analytics_daily
             WHERE day = '2025-12-01' ORDER BY scope, event_type",
        )))
        .expect("rows");
        assert_eq!(again, rows);
    }
}
