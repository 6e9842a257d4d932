//! Storage behind traits: [`Database`] (D1 in the worker, SQLite in native tests, the same SQL) and
//! [`KeyValue`] (Workers KV, or an in-memory map).
//!
//! SQL is `&'static str`: statements are written in the code and values always travel as bound
//! parameters, so a request can never change the shape of a query.

mod memory_kv;
#[cfg(any(test, feature = "sqlite"))]
pub mod sqlite;

pub use memory_kv::MemoryKv;

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;

/// One bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        Self::Integer(v)
    }
}
impl From<u16> for SqlValue {
    fn from(v: u16) -> Self {
        Self::Integer(i64::from(v))
    }
}
impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        Self::Integer(i64::from(v))
    }
}
impl From<f64> for SqlValue {
    fn from(v: f64) -> Self {
        Self::Real(v)
    }
}
impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}
impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// A statement and its parameters (`?1`, `?2`, ... in the SQL).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: &'static str,
    pub params: Vec<SqlValue>,
}

impl Statement {
    pub fn new(sql: &'static str) -> Self {
        Self { sql, params: Vec::new() }
    }

    pub fn bind(mut self, value: impl Into<SqlValue>) -> Self {
        self.params.push(value.into());
        self
    }
}

pub trait Database {
    /// Runs a statement that returns no rows; answers how many rows it changed.
    async fn execute(&self, statement: Statement) -> Result<u64>;
    /// Runs a query and deserializes each row (an object keyed by column name).
    async fn query<T: DeserializeOwned>(&self, statement: Statement) -> Result<Vec<T>>;
    /// Runs statements atomically: all apply or none do.
    async fn batch(&self, statements: Vec<Statement>) -> Result<()>;

    async fn query_first<T: DeserializeOwned>(&self, statement: Statement) -> Result<Option<T>> {
        Ok(self.query(statement).await?.into_iter().next())
    }
}

/// A list of strings as one JSON array parameter, for `IN (SELECT value FROM json_each(?n))`: one
/// statement for any number of keys, with no SQL built from them.
pub fn json_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    serde_json::Value::from(items.into_iter().collect::<Vec<_>>()).to_string()
}

/// Whether `error` is the database refusing a row because `table.column` must be unique (a primary
/// key or a UNIQUE constraint), as SQLite and D1 both word it: `UNIQUE constraint failed:
/// users.email` (a constraint over several columns names each, comma-separated).
pub fn is_unique_violation(error: &Error, table: &str, column: &str) -> bool {
    let Error::Storage { detail, .. } = error else { return false };
    let Some((_, columns)) = detail.split_once("UNIQUE constraint failed: ") else { return false };
    let wanted = format!("{table}.{column}");
    columns
        .split(',')
        .map(|c| c.trim().split(|ch: char| ch.is_whitespace() || ch == ':').next().unwrap_or_default())
        .any(|c| c == wanted)
}

/// `result`, with a unique violation on `table.column` turned into the domain's error (a duplicate
/// sign-up is a 409, a redelivered webhook a no-op): realworld's `on_constraint`.
pub fn on_unique<T>(result: Result<T>, table: &str, column: &str, to: impl FnOnce() -> Error) -> Result<T> {
    match result {
        Err(e) if is_unique_violation(&e, table, column) => Err(to()),
        other => other,
    }
}

pub trait KeyValue {
    async fn get(&self, key: &str) -> Result<Option<String>>;
    /// `ttl_seconds`: Workers KV's minimum is 60.
    async fn put(&self, key: &str, value: &str, ttl_seconds: Option<u64>) -> Result<()>;
    async fn delete(&self, key: &str) -> Result<()>;
    /// One page of the keys starting with `prefix`, in key order, from `cursor` (the previous page's).
    async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<KeyPage>;
}

/// A page of keys, and the cursor of the next page (`None`: this was the last).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPage {
    pub keys: Vec<String>,
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    fn failure(db: &SqliteDb, sql: &'static str) -> Error {
        block_on(db.execute(Statement::new(sql))).expect_err("refused")
    }

    #[test]
    fn a_unique_violation_is_told_by_its_table_and_column_on_sqlite() {
        let db = SqliteDb::with_schema();
        db.run("INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES ('u1', 'a@b.org', 'x', 0, 0)");
        let email = failure(
            &db,
            "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES ('u2', 'a@b.org', 'x', 0, 0)",
        );
        assert!(is_unique_violation(&email, "users", "email"), "{email:?}");
        assert!(!is_unique_violation(&email, "users", "id"));
        assert!(!is_unique_violation(&email, "sessions", "email"));
        let id = failure(
            &db,
            "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES ('u1', 'c@d.org', 'x', 0, 0)",
        );
        assert!(is_unique_violation(&id, "users", "id"), "{id:?}");
        let other = failure(&db, "INSERT INTO no_such_table VALUES (1)");
        assert!(!is_unique_violation(&other, "users", "email"));
        let mapped = on_unique::<u64>(Err(email), "users", "email", || Error::Conflict("taken".into()));
        assert_eq!(mapped.expect_err("mapped").status_code(), 409);
        let passed = on_unique::<u64>(Err(other), "users", "email", || Error::Conflict("taken".into()));
        assert_eq!(passed.expect_err("passed through").status_code(), 503);
    }

    #[test]
    fn a_unique_violation_is_told_as_d1_words_it() {
        // D1's message, as the Workers runtime reports it.
        let d1 = Error::storage(
            "running SQL on D1",
            "D1_ERROR: UNIQUE constraint failed: stripe_events.id: SQLITE_CONSTRAINT",
        );
        assert!(is_unique_violation(&d1, "stripe_events", "id"));
        assert!(!is_unique_violation(&d1, "stripe_events", "type"));
        let composite = Error::storage(
            "running SQL on D1",
            "UNIQUE constraint failed: enrollments.user_id, enrollments.course_slug",
        );
        assert!(is_unique_violation(&composite, "enrollments", "course_slug"));
        assert!(!is_unique_violation(
            &Error::Conflict("UNIQUE constraint failed: users.email".into()),
            "users",
            "email"
        ));
    }
}
