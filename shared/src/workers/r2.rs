//! [`Bucket`] on R2: the nightly backups (binding `BACKUPS`).

use crate::backup::bucket::Bucket;
use crate::error::{Error, Result};
use worker::HttpMetadata;

pub struct R2(pub worker::Bucket);

fn failed(action: &str, e: worker::Error) -> Error {
    Error::storage(format!("{action} R2"), e)
}

impl Bucket for R2 {
    async fn put(&self, key: &str, body: String) -> Result<()> {
        let metadata =
            HttpMetadata { content_type: Some("application/sql; charset=utf-8".into()), ..Default::default() };
        self.0.put(key, body).http_metadata(metadata).execute().await.map_err(|e| failed("writing to", e))?;
        Ok(())
    }

    /// Pages through `list({prefix, cursor})` (1,000 objects a page) until it is no longer truncated.
    async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut list = self.0.list().prefix(prefix);
            if let Some(cursor) = cursor.take() {
                list = list.cursor(cursor);
            }
            let page = list.execute().await.map_err(|e| failed("listing", e))?;
            keys.extend(page.objects().iter().map(worker::Object::key));
            match page.cursor() {
                Some(next) if page.truncated() => cursor = Some(next),
                _ => return Ok(keys),
            }
        }
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.0.delete(key).await.map_err(|e| failed("deleting from", e))
    }
}
