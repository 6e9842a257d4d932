use crate::error::{Error, Result};
use crate::storage::{KeyPage, KeyValue};

/// [`KeyValue`] on Workers KV.
pub struct Kv(pub worker::KvStore);

fn failed(action: &str, e: worker::KvError) -> Error {
    Error::storage(format!("{action} KV"), e)
}

impl KeyValue for Kv {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        self.0.get(key).text().await.map_err(|e| failed("reading", e))
    }

    async fn put(&self, key: &str, value: &str, ttl_seconds: Option<u64>) -> Result<()> {
        let mut put = self.0.put(key, value).map_err(|e| failed("writing", e))?;
        if let Some(ttl) = ttl_seconds {
            put = put.expiration_ttl(ttl);
        }
        put.execute().await.map_err(|e| failed("writing", e))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.0.delete(key).await.map_err(|e| failed("deleting from", e))
    }

    /// `KV.list({prefix, cursor})`: up to 1,000 keys a page; `list_complete` ends the listing.
    async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<KeyPage> {
        let mut list = self.0.list().prefix(prefix.to_owned());
        if let Some(cursor) = cursor {
            list = list.cursor(cursor.to_owned());
        }
        let page = list.execute().await.map_err(|e| failed("listing", e))?;
        let cursor = if page.list_complete { None } else { page.cursor.filter(|c| !c.is_empty()) };
        Ok(KeyPage { keys: page.keys.into_iter().map(|k| k.name).collect(), cursor })
    }
}
