//! An in-memory [`KeyValue`] for native tests, which can be told to fail like an unreachable binding.

use super::KeyValue;
use crate::error::{Error, Result};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

#[derive(Default)]
pub struct MemoryKv {
    entries: RefCell<HashMap<String, (String, Option<u64>)>>,
    failing: Cell<bool>,
}

impl MemoryKv {
    pub fn new() -> Self {
        Self::default()
    }

    /// From now on every call fails, as KV does when the binding is unavailable.
    pub fn fail(&self) {
        self.failing.set(true);
    }

    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn check(&self) -> Result<()> {
        if self.failing.get() { Err(Error::storage("using KV", "binding unavailable")) } else { Ok(()) }
    }
}

impl KeyValue for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        self.check()?;
        Ok(self.entries.borrow().get(key).map(|(v, _)| v.clone()))
    }

    async fn put(&self, key: &str, value: &str, ttl_seconds: Option<u64>) -> Result<()> {
        self.check()?;
        if ttl_seconds.is_some_and(|ttl| ttl < 60) {
            return Err(Error::storage("writing KV", "expiration_ttl must be at least 60 seconds"));
        }
        self.entries.borrow_mut().insert(key.to_owned(), (value.to_owned(), ttl_seconds));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.check()?;
        self.entries.borrow_mut().remove(key);
        Ok(())
    }
}
