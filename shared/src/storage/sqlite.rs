//! [`Database`] on SQLite (rusqlite, bundled), for native tests: the statements D1 runs in production
//! run here unchanged, against the real `schema.sql`.

use super::{Database, SqlValue, Statement};
use crate::error::{Error, Result};
use rusqlite::types::{Value, ValueRef};
use serde::de::DeserializeOwned;
use std::cell::RefCell;

pub struct SqliteDb {
    conn: RefCell<rusqlite::Connection>,
}

/// The project's schema, applied exactly as `make dev` applies it to D1.
pub const SCHEMA: &str = include_str!("../../../schema.sql");

impl SqliteDb {
    /// A fresh in-memory database with `schema.sql` applied.
    pub fn with_schema() -> Self {
        let conn = rusqlite::Connection::open_in_memory().expect("an in-memory SQLite database opens");
        conn.execute_batch(SCHEMA).expect("schema.sql applies to an empty database");
        Self { conn: RefCell::new(conn) }
    }

    /// A database with no tables: every query fails, as D1 does before the schema is applied.
    pub fn empty() -> Self {
        let conn = rusqlite::Connection::open_in_memory().expect("an in-memory SQLite database opens");
        Self { conn: RefCell::new(conn) }
    }

    /// Runs raw SQL (test set-up only).
    pub fn run(&self, sql: &str) {
        self.conn.borrow().execute_batch(sql).expect("test SQL is valid");
    }
}

fn to_sql(value: &SqlValue) -> Value {
    match value {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => Value::Integer(*i),
        SqlValue::Real(f) => Value::Real(*f),
        SqlValue::Text(s) => Value::Text(s.clone()),
    }
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::storage("running SQL on SQLite", e)
}

impl Database for SqliteDb {
    async fn execute(&self, statement: Statement) -> Result<u64> {
        let conn = self.conn.borrow();
        let params: Vec<Value> = statement.params.iter().map(to_sql).collect();
        let changed = conn.execute(statement.sql, rusqlite::params_from_iter(params)).map_err(failed)?;
        Ok(changed as u64)
    }

    async fn query<T: DeserializeOwned>(&self, statement: Statement) -> Result<Vec<T>> {
        let conn = self.conn.borrow();
        let mut stmt = conn.prepare(statement.sql).map_err(failed)?;
        let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let params: Vec<Value> = statement.params.iter().map(to_sql).collect();
        let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(failed)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(failed)? {
            let mut object = serde_json::Map::new();
            for (i, name) in names.iter().enumerate() {
                let value = match row.get_ref(i).map_err(failed)? {
                    ValueRef::Null => serde_json::Value::Null,
                    ValueRef::Integer(n) => n.into(),
                    ValueRef::Real(f) => f.into(),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
                    ValueRef::Blob(b) => hex::encode(b).into(),
                };
                object.insert(name.clone(), value);
            }
            out.push(serde_json::from_value(object.into()).map_err(failed)?);
        }
        Ok(out)
    }

    async fn batch(&self, statements: Vec<Statement>) -> Result<()> {
        let mut conn = self.conn.borrow_mut();
        let tx = conn.transaction().map_err(failed)?;
        for statement in statements {
            let params: Vec<Value> = statement.params.iter().map(to_sql).collect();
            tx.execute(statement.sql, rusqlite::params_from_iter(params)).map_err(failed)?;
        }
        tx.commit().map_err(failed)
    }
}
