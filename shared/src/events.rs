//! The analytics event logger. Every feature records what users do through [`log`] (or puts
//! [`statement`] in the same atomic batch as the change it describes), into `user_events`.

use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde_json::Value;

/// Properties larger than this are refused: events are facts, not payloads.
pub const MAX_PROPERTIES_BYTES: usize = 8 * 1024;

/// An event type: lower case words joined by `.` or `_`, such as `page.view` or `builder.generated`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventType(String);

impl EventType {
    pub fn parse(raw: &str) -> Result<Self> {
        let valid = (1..=64).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Error::BadRequest(format!(
                "event type {raw:?} must be 1 to 64 characters of a-z, 0-9, '.' and '_', starting with a letter"
            )))
        }
    }
}

impl AsRef<str> for EventType {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The insert for one event, for callers that need it inside their own atomic batch.
pub fn statement(user_id: Option<&str>, event_type: &EventType, properties: &Value, at: Millis) -> Result<Statement> {
    if !properties.is_object() {
        return Err(Error::BadRequest("event properties must be a JSON object".into()));
    }
    let json = properties.to_string();
    if json.len() > MAX_PROPERTIES_BYTES {
        return Err(Error::BadRequest(format!(
            "event properties are {} bytes; the limit is {MAX_PROPERTIES_BYTES}",
            json.len()
        )));
    }
    Ok(Statement::new("INSERT INTO user_events (user_id, event_type, properties, created_at) VALUES (?1, ?2, ?3, ?4)")
        .bind(user_id)
        .bind(event_type.as_ref())
        .bind(json)
        .bind(at))
}

/// Records one event.
pub async fn log(
    db: &impl Database,
    user_id: Option<&str>,
    event_type: &EventType,
    properties: &Value,
    at: Millis,
) -> Result<()> {
    db.execute(statement(user_id, event_type, properties, at)?).await?;
    Ok(())
}

/// Deletes raw events older than `cutoff`; answers how many.
pub async fn delete_before(db: &impl Database, cutoff: Millis) -> Result<u64> {
    db.execute(Statement::new("DELETE FROM user_events WHERE created_at < ?1").bind(cutoff)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Row {
        user_id: Option<String>,
        event_type: String,
        properties: String,
        created_at: i64,
    }

    #[test]
    fn an_event_is_stored_with_its_user_type_properties_and_time() {
        let db = SqliteDb::with_schema();
        let kind = EventType::parse("builder.generated").expect("valid type");
        block_on(log(&db, Some("user-1"), &kind, &json!({"language": "python"}), 1_000)).expect("stored");
        let rows: Vec<Row> = block_on(db.query(Statement::new("SELECT * FROM user_events"))).expect("query");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].user_id.as_deref(), Some("user-1"));
        assert_eq!(rows[0].event_type, "builder.generated");
        assert_eq!(serde_json::from_str::<Value>(&rows[0].properties).expect("json"), json!({"language": "python"}));
        assert_eq!(rows[0].created_at, 1_000);
    }

    #[test]
    fn bad_event_types_are_rejected() {
        // Empty; upper case; spaces (would break reports); too long; starts with a digit.
        for bad in ["", "Page.View", "page view", &"a".repeat(65), "1st"] {
            assert!(EventType::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn properties_must_be_a_small_object() {
        let kind = EventType::parse("page.view").expect("valid");
        assert!(statement(None, &kind, &json!([1, 2]), 0).is_err(), "an array is not an object");
        let big = json!({"blob": "x".repeat(MAX_PROPERTIES_BYTES)});
        let error = statement(None, &kind, &big, 0).expect_err("too large");
        assert_eq!(error.status_code(), 400);
    }

    #[test]
    fn old_events_are_deleted_and_recent_ones_kept() {
        let db = SqliteDb::with_schema();
        let kind = EventType::parse("page.view").expect("valid");
        for at in [10, 20, 30] {
            block_on(log(&db, None, &kind, &json!({}), at)).expect("stored");
        }
        assert_eq!(block_on(delete_before(&db, 25)).expect("deleted"), 2);
        let left: Vec<Row> = block_on(db.query(Statement::new("SELECT * FROM user_events"))).expect("query");
        assert_eq!(left.iter().map(|r| r.created_at).collect::<Vec<_>>(), vec![30]);
    }
}
