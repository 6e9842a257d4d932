//! The daily job that deletes KV page-cache entries of superseded content generations. Pages are
//! cached under `page:v{generation}:{path}` (shared::content::cache), and every content change bumps
//! `content_meta.generation`, so entries of an older generation are never read again. They expire on
//! their own within an hour; deleting them keeps the namespace to what can still be served.

use crate::content::store;
use crate::error::Result;
use crate::storage::{Database, KeyValue};

/// The prefix every cached page's key starts with.
pub const PREFIX: &str = "page:v";
/// KV deletes one key per call, and a Worker invocation may make 1,000 calls to KV: stay well below,
/// and leave the rest for the next night.
pub const MAX_DELETES: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCacheSummary {
    pub generation: i64,
    pub deleted: usize,
    pub kept: usize,
    /// False when [`MAX_DELETES`] was reached before the listing ended.
    pub complete: bool,
}

impl PageCacheSummary {
    pub fn describe(&self) -> String {
        let more = if self.complete { "" } else { "; more remain for the next run" };
        format!(
            "deleted {} cached pages of generations before {}, kept {}{more}",
            self.deleted, self.generation, self.kept
        )
    }
}

/// The generation a page-cache key belongs to (`None`: not a page-cache key).
pub fn generation_of(key: &str) -> Option<i64> {
    let (generation, _path) = key.strip_prefix(PREFIX)?.split_once(':')?;
    if generation.is_empty() || !generation.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    generation.parse().ok()
}

/// Lists every page-cache key and deletes those of a generation before the current one, at most
/// `max_deletes` of them.
pub async fn delete_superseded(db: &impl Database, kv: &impl KeyValue, max_deletes: usize) -> Result<PageCacheSummary> {
    let generation = store::generation(db).await?;
    let mut summary = PageCacheSummary { generation, deleted: 0, kept: 0, complete: true };
    let mut cursor: Option<String> = None;
    loop {
        let page = kv.list(PREFIX, cursor.as_deref()).await?;
        for key in &page.keys {
            match generation_of(key) {
                Some(g) if g < generation => {
                    if summary.deleted == max_deletes {
                        summary.complete = false;
                        return Ok(summary);
                    }
                    kv.delete(key).await?;
                    summary.deleted += 1;
                }
                _ => summary.kept += 1,
            }
        }
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(summary),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::cache;
    use crate::storage::MemoryKv;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    fn at_generation(generation: i64) -> SqliteDb {
        let db = SqliteDb::with_schema();
        db.run(&format!("UPDATE content_meta SET generation = {generation} WHERE id = 1"));
        db
    }

    fn put(kv: &MemoryKv, key: &str) {
        block_on(kv.put(key, "<html>", None)).expect("put");
    }

    /// Keeps [`generation_of`] in step with the key the cache writes.
    fn key_round_trips(generation: i64, path: &str) -> bool {
        generation_of(&cache::key(generation, path)) == Some(generation)
    }

    #[test]
    fn keys_parse_as_the_cache_writes_them() {
        assert!(key_round_trips(12, "/blog?page=2"));
        assert!(key_round_trips(1, "/courses/a:b"));
        for other in ["health:probe:1", "page:v:/x", "page:vx:/x", "page:v12", "github:installation-token:1"] {
            assert_eq!(generation_of(other), None, "{other}");
        }
    }

    #[test]
    fn entries_of_older_generations_go_and_the_current_ones_stay() {
        let kv = MemoryKv::with_page_size(2);
        for key in [
            cache::key(3, "/blog"),
            cache::key(3, "/tools"),
            cache::key(9, "/blog"),
            cache::key(10, "/blog"),
            cache::key(10, "/tools"),
            "github:installation-token:7".to_owned(),
        ] {
            put(&kv, &key);
        }
        let summary = block_on(delete_superseded(&at_generation(10), &kv, MAX_DELETES)).expect("runs");
        assert_eq!(summary, PageCacheSummary { generation: 10, deleted: 3, kept: 2, complete: true });
        assert_eq!(
            kv.keys(),
            ["github:installation-token:7".to_owned(), cache::key(10, "/blog"), cache::key(10, "/tools")]
        );
        assert!(summary.describe().starts_with("deleted 3 cached pages of generations before 10, kept 2"));
    }

    #[test]
    fn deletes_stop_at_the_limit_and_say_more_remain() {
        let kv = MemoryKv::new();
        for path in ["/a", "/b", "/c"] {
            put(&kv, &cache::key(1, path));
        }
        let summary = block_on(delete_superseded(&at_generation(2), &kv, 2)).expect("runs");
        assert_eq!((summary.deleted, summary.complete), (2, false));
        assert_eq!(kv.len(), 1);
        assert!(summary.describe().ends_with("more remain for the next run"));
    }

    #[test]
    fn a_kv_failure_fails_the_job() {
        let kv = MemoryKv::new();
        kv.fail();
        assert!(block_on(delete_superseded(&at_generation(2), &kv, 10)).is_err());
    }
}
