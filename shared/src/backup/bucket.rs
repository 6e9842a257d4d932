//! Where backups are written: an R2 bucket in the Workers runtime (`shared::workers::R2`), a map in
//! native tests.

use crate::error::Result;

pub trait Bucket {
    /// Writes (or overwrites) `key`.
    async fn put(&self, key: &str, body: String) -> Result<()>;
    /// The object at `key` as text, if there is one.
    async fn read(&self, key: &str) -> Result<Option<String>>;
    /// Every key starting with `prefix`, across pages.
    async fn list(&self, prefix: &str) -> Result<Vec<String>>;
    async fn delete(&self, key: &str) -> Result<()>;
}

#[cfg(test)]
pub mod testing {
    use super::Bucket;
    use crate::error::{Error, Result};
    use std::cell::{Cell, RefCell};
    use std::collections::BTreeMap;

    /// An in-memory bucket that can be told to refuse writes.
    #[derive(Default)]
    pub struct MemoryBucket {
        pub objects: RefCell<BTreeMap<String, String>>,
        pub refuse_writes: Cell<bool>,
    }

    impl MemoryBucket {
        pub fn keys(&self) -> Vec<String> {
            self.objects.borrow().keys().cloned().collect()
        }
        pub fn get(&self, key: &str) -> Option<String> {
            self.objects.borrow().get(key).cloned()
        }
    }

    impl Bucket for MemoryBucket {
        async fn put(&self, key: &str, body: String) -> Result<()> {
            if self.refuse_writes.get() {
                return Err(Error::storage("writing to R2", "the bucket refused the write"));
            }
            self.objects.borrow_mut().insert(key.to_owned(), body);
            Ok(())
        }
        async fn read(&self, key: &str) -> Result<Option<String>> {
            Ok(self.get(key))
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>> {
            Ok(self.objects.borrow().keys().filter(|k| k.starts_with(prefix)).cloned().collect())
        }
        async fn delete(&self, key: &str) -> Result<()> {
            self.objects.borrow_mut().remove(key);
            Ok(())
        }
    }
}
