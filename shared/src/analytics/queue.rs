//! The events queue between `POST /api/events` and D1. The request validates a browser's batch,
//! hashes its visitor and enqueues the rows (`Queued`); it never waits on D1. The site worker consumes
//! the queue in batches of up to 100 messages and writes every row of a batch in one D1 batch
//! (`ingest::store`). A batch that fails is retried (`max_retries` in wrangler.toml); a message still
//! failing then goes to the dead-letter queue, whose consumer keeps it in R2 under
//! [`DEAD_LETTER_PREFIX`] for an operator to replay (docs/operations.md). Nothing is dropped.

use super::ingest::{self, EventRow};
use crate::backup::bucket::Bucket;
use crate::error::Result;
use crate::storage::Database;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The producer binding of the events queue (site worker).
pub const BINDING: &str = "EVENTS";

/// The rate-limit binding beacons count against, per IP (Workers Rate Limiting, wrangler.toml).
pub const RATE_LIMIT_BINDING: &str = "EVENTS_RATE_LIMIT";

/// Where dead-lettered messages are kept in the `BACKUPS` bucket: `<prefix><day>/<message id>.json`.
pub const DEAD_LETTER_PREFIX: &str = "dead-letters/events/";

/// One message: a browser's batch, accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    pub rows: Vec<EventRow>,
}

/// Whether a queue is the events' dead-letter queue (`fhir-iq-events-dlq[-env]`), by its name.
pub fn is_dead_letter(queue: &str) -> bool {
    queue.contains("-events-dlq")
}

/// What a consumed batch came to.
#[derive(Debug, PartialEq, Eq)]
pub struct Consumed {
    /// Rows written.
    pub rows: usize,
    /// The messages that are not a [`Queued`] (by index): retried, so they end up dead-lettered.
    pub malformed: Vec<usize>,
}

/// Writes the rows of every well-formed message in `bodies` at once: all of them or, on an error,
/// none (the caller retries the whole batch).
pub async fn consume(db: &impl Database, bodies: &[Value]) -> Result<Consumed> {
    let mut rows = Vec::new();
    let mut malformed = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        match Queued::deserialize(body) {
            Ok(queued) => rows.extend(queued.rows),
            Err(_) => malformed.push(i),
        }
    }
    Ok(Consumed { rows: ingest::store(db, &rows).await?, malformed })
}

/// What a replay of the dead letters came to.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Replayed {
    /// Messages written and removed from R2.
    pub messages: usize,
    pub rows: usize,
    /// Objects that are not an events message: left in R2, named, for a person to look at.
    pub unreadable: Vec<String>,
}

/// Writes every dead-lettered message kept in `bucket` to D1 again (each in one D1 batch, then its
/// object deleted, so a replay that stops half-way is simply run again), and has the rollup redo the
/// days its events fall on.
pub async fn replay(db: &impl Database, bucket: &impl Bucket) -> Result<Replayed> {
    let mut replayed = Replayed { messages: 0, rows: 0, unreadable: Vec::new() };
    for key in bucket.list(DEAD_LETTER_PREFIX).await? {
        let Some(text) = bucket.read(&key).await? else { continue };
        match serde_json::from_str::<Queued>(&text) {
            Ok(queued) => {
                replayed.rows += ingest::store(db, &queued.rows).await?;
                // The rollup redoes the days these events fall on at its next run.
                if let Some(first) = queued.rows.iter().map(|r| r.at).min() {
                    super::rollup::redo_from(db, first).await?;
                }
                bucket.delete(&key).await?;
                replayed.messages += 1;
            }
            Err(_) => replayed.unreadable.push(key),
        }
    }
    Ok(replayed)
}

/// The R2 key a dead-lettered message is kept under.
pub fn dead_letter_key(day: &str, message_id: &str) -> String {
    let id: String = message_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(64).collect();
    format!("{DEAD_LETTER_PREFIX}{day}/{id}.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Statement;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;
    use serde_json::json;

    fn row(session: &str) -> EventRow {
        EventRow {
            kind: "page.view".into(),
            properties: "{}".into(),
            page: Some("/".into()),
            referrer: None,
            session: session.into(),
            visitor: "v".into(),
            user: None,
            at: 1,
        }
    }

    #[test]
    fn a_batch_of_messages_is_written_at_once_and_malformed_ones_are_named() {
        let db = SqliteDb::with_schema();
        let good = |s: &str| serde_json::to_value(Queued { rows: vec![row(s), row(s)] }).expect("JSON");
        let bodies = vec![good("s-00000001"), json!({"rows": "not rows"}), good("s-00000002"), json!(42)];
        let consumed = block_on(consume(&db, &bodies)).expect("consumed");
        assert_eq!(consumed, Consumed { rows: 4, malformed: vec![1, 3] });
        let sessions: Vec<Value> =
            block_on(db.query(Statement::new("SELECT session_id FROM analytics_events ORDER BY id"))).expect("rows");
        assert_eq!(sessions.len(), 4);
    }

    #[test]
    fn a_failed_write_stores_nothing_so_the_retry_is_whole() {
        let db = SqliteDb::with_schema();
        block_on(db.execute(Statement::new("ALTER TABLE analytics_events RENAME TO analytics_events_away")))
            .expect("renamed");
        let bodies = vec![serde_json::to_value(Queued { rows: vec![row("s-00000001")] }).expect("JSON")];
        assert!(block_on(consume(&db, &bodies)).is_err(), "the error reaches the consumer, which retries");
        let kept: Vec<Value> = block_on(db.query(Statement::new("SELECT * FROM analytics_events_away"))).expect("rows");
        assert!(kept.is_empty());
    }

    #[test]
    fn dead_letters_are_replayed_once_and_unreadable_ones_are_kept() {
        use crate::backup::bucket::testing::MemoryBucket;
        let db = SqliteDb::with_schema();
        let bucket = MemoryBucket::default();
        let message =
            serde_json::to_string(&Queued { rows: vec![row("s-00000001"), row("s-00000002")] }).expect("JSON");
        block_on(bucket.put(&dead_letter_key("2026-12-03", "m1"), message)).expect("kept");
        block_on(bucket.put(&dead_letter_key("2026-12-03", "m2"), "not JSON".into())).expect("kept");
        block_on(bucket.put("daily/2026-12-03.sql", "-- a backup".into())).expect("kept");
        let replayed = block_on(replay(&db, &bucket)).expect("replayed");
        assert_eq!((replayed.messages, replayed.rows), (1, 2));
        assert_eq!(replayed.unreadable, vec!["dead-letters/events/2026-12-03/m2.json".to_owned()]);
        assert_eq!(bucket.keys(), vec!["daily/2026-12-03.sql", "dead-letters/events/2026-12-03/m2.json"]);
        let again = block_on(replay(&db, &bucket)).expect("replayed");
        assert_eq!((again.messages, again.rows), (0, 0), "a replayed message is gone");
        let rows: Vec<Value> = block_on(db.query(Statement::new("SELECT id FROM analytics_events"))).expect("rows");
        assert_eq!(rows.len(), 2);
        // Rolled up through a later day: the replay sends the rollup back to the events' day.
        block_on(db.execute(Statement::new(
            "INSERT INTO analytics_rollup_state (id, rolled_through) VALUES (1, 10 * 86400000)",
        )))
        .expect("state");
        let late =
            serde_json::to_string(&Queued { rows: vec![EventRow { at: 3 * 86_400_000 + 5, ..row("s-00000003") }] })
                .expect("JSON");
        block_on(bucket.put(&dead_letter_key("2026-12-04", "m3"), late)).expect("kept");
        block_on(replay(&db, &bucket)).expect("replayed");
        let state: Vec<Value> =
            block_on(db.query(Statement::new("SELECT rolled_through FROM analytics_rollup_state"))).expect("state");
        assert_eq!(state[0]["rolled_through"], 4 * 86_400_000, "the next run starts at the events' day");
    }

    #[test]
    fn queues_and_dead_letter_keys_are_named_safely() {
        assert!(is_dead_letter("fhir-iq-events-dlq-staging") && is_dead_letter("fhir-iq-events-dlq"));
        assert!(!is_dead_letter("fhir-iq-events-staging"));
        assert_eq!(dead_letter_key("2026-12-03", "ab/../c d"), "dead-letters/events/2026-12-03/abcd.json");
    }
}
