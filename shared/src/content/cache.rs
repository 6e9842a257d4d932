//! Rendered content pages and lists cached in KV. The key carries the content generation (one row in
//! D1, bumped by every content change, enrolment and sync), so a change is never served stale: the
//! next request reads the new generation and misses. `hit` tells the truth for `X-Cache`. A deploy
//! that changes a stylesheet or script changes the key too (see [`key`]).

use crate::error::Result;
use crate::storage::KeyValue;

/// Pages with seat counts expire sooner: a lapsed checkout hold frees a seat without a content change.
pub const COURSE_TTL_SECONDS: u64 = 300;
pub const PAGE_TTL_SECONDS: u64 = 3_600;

/// The key also carries the version of the static files the worker links to
/// (`web::assets::version`): during a deploy, a page rendered by the old worker links to the old
/// fingerprinted files, and the new worker must never serve it.
pub fn key(generation: i64, path_and_query: &str) -> String {
    format!("page:v{generation}:{}:{path_and_query}", crate::web::assets::version())
}

/// The cached page, or `render`'s (stored for next time). A KV failure never fails the page: it is
/// rendered, and the failure is answered for the log.
pub async fn page<K: KeyValue, F: std::future::Future<Output = Result<String>>>(
    kv: &K,
    key: &str,
    ttl_seconds: u64,
    render: F,
) -> Result<(String, bool, Option<crate::Error>)> {
    match kv.get(key).await {
        Ok(Some(html)) => return Ok((html, true, None)),
        Ok(None) => {}
        Err(e) => return Ok((render.await?, false, Some(e))),
    }
    let html = render.await?;
    let stored = kv.put(key, &html, Some(ttl_seconds.max(60))).await.err();
    Ok((html, false, stored))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryKv;
    use futures::executor::block_on;

    #[test]
    fn a_miss_renders_and_stores_then_hits_until_the_generation_moves() {
        let kv = MemoryKv::default();
        let first = block_on(page(&kv, &key(1, "/blog"), 60, async { Ok("v1".to_owned()) })).expect("page");
        assert_eq!((first.0.as_str(), first.1), ("v1", false));
        let second = block_on(page(&kv, &key(1, "/blog"), 60, async { Ok("never".to_owned()) })).expect("page");
        assert_eq!((second.0.as_str(), second.1), ("v1", true));
        let changed = block_on(page(&kv, &key(2, "/blog"), 60, async { Ok("v2".to_owned()) })).expect("page");
        assert_eq!((changed.0.as_str(), changed.1), ("v2", false));
    }
}
