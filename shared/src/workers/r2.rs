//! [`Bucket`] on R2 (binding `BACKUPS`): the nightly backups, and dead-lettered events messages.

use crate::backup::bucket::Bucket;
use crate::error::{Error, Result};
use worker::HttpMetadata;

pub struct R2(pub worker::Bucket);

fn failed(action: &str, e: worker::Error) -> Error {
    Error::storage(format!("{action} R2"), e)
}

impl Bucket for R2 {
    async fn put(&self, key: &str, body: String) -> Result<()> {
        // Backups are SQL; dead-lettered queue messages are JSON.
        let kind = if key.ends_with(".json") { "application/json" } else { "application/sql; charset=utf-8" };
        let metadata = HttpMetadata { content_type: Some(kind.into()), ..Default::default() };
        self.0.put(key, body).http_metadata(metadata).execute().await.map_err(|e| failed("writing to", e))?;
        Ok(())
    }

    async fn read(&self, key: &str) -> Result<Option<String>> {
        let Some(object) = self.0.get(key).execute().await.map_err(|e| failed("reading from", e))? else {
            return Ok(None);
        };
        match object.body() {
            Some(body) => Ok(Some(body.text().await.map_err(|e| failed("reading from", e))?)),
            None => Ok(Some(String::new())),
        }
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
