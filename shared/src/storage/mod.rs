//! Storage behind traits: [`Database`] (D1 in the worker, SQLite in native tests, the same SQL) and
//! [`KeyValue`] (Workers KV, or an in-memory map).
//!
//! SQL is `&'static str`: statements are written in the code and values always travel as bound
//! parameters, so a request can never change the shape of a query.

mod memory_kv;
#[cfg(any(test, feature = "sqlite"))]
pub mod sqlite;

pub use memory_kv::MemoryKv;

use crate::error::Result;
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
