//! The events queue between `POST /api/events` and D1. The request validates a browser's batch,
//! hashes its visitor and enqueues the rows (`Queued`); it never waits on D1. The platformApi worker
//! consumes the queue in batches of up to 100 messages and writes every row of a batch in one D1 batch
//! (`ingest::store`). A batch that fails is retried (`max_retries` in functions/platformApi/wrangler.toml);
//! a message still failing then goes to the dead-letter queue, whose consumer keeps it in R2 under
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
    /// Messages written whose object could not be deleted afterwards: delete these by hand, or the
    /// next replay writes them again.
    pub undeleted: Vec<String>,
    /// Dead letters left for the next call (at most [`REPLAY_PER_CALL`] are taken per call).
    pub remaining: usize,
}

/// Messages one replay call takes: each is about four subrequests (read, write, rollup, delete),
/// well under a Worker invocation's limit.
pub const REPLAY_PER_CALL: usize = 25;

/// Writes dead-lettered messages kept in `bucket` to D1 again, [`REPLAY_PER_CALL`] at a time: each in
/// one D1 batch, then its object deleted, and the rollup sent back to the day its events fall on. A
/// message is written twice only if its object cannot be deleted after its rows were written; the
/// answer names those.
pub async fn replay(db: &impl Database, bucket: &impl Bucket) -> Result<Replayed> {
    let keys = bucket.list(DEAD_LETTER_PREFIX).await?;
    let mut replayed = Replayed { messages: 0, rows: 0, unreadable: Vec::new(), undeleted: Vec::new(), remaining: 0 };
    let mut taken = 0;
    for key in &keys {
        if taken == REPLAY_PER_CALL {
            replayed.remaining += 1;
            continue;
        }
        let Some(text) = bucket.read(key).await? else { continue };
        let Ok(queued) = serde_json::from_str::<Queued>(&text) else {
            replayed.unreadable.push(key.clone());
            continue;
        };
        taken += 1;
        replayed.rows += ingest::store(db, &queued.rows).await?;
        if let Some(first) = queued.rows.iter().map(|r| r.at).min() {
            super::rollup::redo_from(db, first).await?;
        }
        replayed.messages += 1;
        if bucket.delete(key).await.is_err() {
            replayed.undeleted.push(key.clone());
        }
    }
    Ok(replayed)
}

/// Largest message body to send (Queues take 128 KB a message, metadata included).
pub const MAX_MESSAGE_BYTES: usize = 96 * 1024;

/// `rows` as messages of at most [`MAX_MESSAGE_BYTES`] each (one, for any ordinary beacon; a body of
/// escaped text can grow past a queue message when serialized again).
pub fn messages(rows: Vec<EventRow>) -> Result<Vec<Queued>> {
    Ok(ingest::by_size(&rows, MAX_MESSAGE_BYTES)?
        .into_iter()
        .map(|(group, _)| Queued { rows: group.to_vec() })
        .collect())
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
        assert_eq!((replayed.messages, replayed.rows, replayed.remaining), (1, 2, 0));
        assert!(replayed.undeleted.is_empty());
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
    fn a_large_backlog_is_replayed_a_call_at_a_time() {
        use crate::backup::bucket::testing::MemoryBucket;
        let db = SqliteDb::with_schema();
        let bucket = MemoryBucket::default();
        for i in 0..(REPLAY_PER_CALL + 3) {
            let message = serde_json::to_string(&Queued { rows: vec![row(&format!("s-{i:08}"))] }).expect("JSON");
            block_on(bucket.put(&dead_letter_key("2026-12-03", &format!("m{i}")), message)).expect("kept");
        }
        let first = block_on(replay(&db, &bucket)).expect("replayed");
        assert_eq!((first.messages, first.remaining), (REPLAY_PER_CALL, 3));
        let second = block_on(replay(&db, &bucket)).expect("replayed");
        assert_eq!((second.messages, second.remaining), (3, 0));
        let rows: Vec<Value> = block_on(db.query(Statement::new("SELECT id FROM analytics_events"))).expect("rows");
        assert_eq!(rows.len(), REPLAY_PER_CALL + 3, "each once");
    }

    #[test]
    fn a_beacon_too_large_for_one_message_is_split_and_nothing_is_lost() {
        // 50 events of 2 KB properties made of quotes: each doubles when the row is serialized.
        let rows: Vec<EventRow> =
            (0..50).map(|i| EventRow { properties: "\"".repeat(2000), ..row(&format!("s-{i:08}")) }).collect();
        let split = messages(rows.clone()).expect("split");
        assert!(split.len() > 1, "more than one message");
        for message in &split {
            assert!(serde_json::to_string(message).expect("JSON").len() <= MAX_MESSAGE_BYTES + 16);
        }
        assert_eq!(split.into_iter().flat_map(|m| m.rows).collect::<Vec<_>>(), rows);
        assert_eq!(messages(vec![row("s-00000001")]).expect("one").len(), 1);
        assert!(messages(Vec::new()).expect("none").is_empty());
    }

    #[test]
    fn queues_and_dead_letter_keys_are_named_safely() {
        assert!(is_dead_letter("fhir-iq-events-dlq-staging") && is_dead_letter("fhir-iq-events-dlq"));
        assert!(!is_dead_letter("fhir-iq-events-staging"));
        assert_eq!(dead_letter_key("2026-12-03", "ab/../c d"), "dead-letters/events/2026-12-03/abcd.json");
    }
}
