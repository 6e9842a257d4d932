use crate::error::{Error, Result};
use crate::storage::KeyValue;

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
}
