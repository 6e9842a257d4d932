//! An in-memory [`KeyValue`] for native tests, which can be told to fail like an unreachable binding.

use super::{KeyPage, KeyValue};
use crate::error::{Error, Result};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

/// Workers KV lists at most 1,000 keys a page.
const PAGE_SIZE: usize = 1_000;

#[derive(Default)]
pub struct MemoryKv {
    entries: RefCell<BTreeMap<String, (String, Option<u64>)>>,
    failing: Cell<bool>,
    /// Keys per `list` page; 0 means Workers KV's 1,000.
    page_size: Cell<usize>,
}

impl MemoryKv {
    pub fn new() -> Self {
        Self::default()
    }

    /// Lists in pages of `size` keys, so a test can cross page boundaries with a few keys.
    pub fn with_page_size(size: usize) -> Self {
        let kv = Self::default();
        kv.page_size.set(size);
        kv
    }

    /// Every key, in order (test assertions).
    pub fn keys(&self) -> Vec<String> {
        self.entries.borrow().keys().cloned().collect()
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

    /// The cursor is the last key of the previous page, as opaque to callers as Workers KV's.
    async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<KeyPage> {
        self.check()?;
        let size = match self.page_size.get() {
            0 => PAGE_SIZE,
            n => n,
        };
        let entries = self.entries.borrow();
        let mut matching =
            entries.keys().filter(|k| k.starts_with(prefix) && cursor.is_none_or(|after| k.as_str() > after)).cloned();
        let keys: Vec<String> = matching.by_ref().take(size).collect();
        let more = matching.next().is_some();
        let cursor = if more { keys.last().cloned() } else { None };
        Ok(KeyPage { keys, cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn listing_pages_through_the_keys_with_a_prefix_in_order() {
        let kv = MemoryKv::with_page_size(2);
        for key in ["page:v1:/b", "page:v1:/a", "page:v2:/a", "other", "page:v1:/c"] {
            block_on(kv.put(key, "x", None)).expect("put");
        }
        let first = block_on(kv.list("page:v1:", None)).expect("list");
        assert_eq!(first.keys, ["page:v1:/a", "page:v1:/b"]);
        let second = block_on(kv.list("page:v1:", first.cursor.as_deref())).expect("list");
        assert_eq!(second, KeyPage { keys: vec!["page:v1:/c".into()], cursor: None });
        assert_eq!(block_on(kv.list("none:", None)).expect("list"), KeyPage::default());
    }
}
