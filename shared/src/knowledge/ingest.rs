//! `POST /_functions/createVectorEmbedding`: the platform's own content (courses, lessons, posts, tool
//! docs) joins the knowledge base: a chunk for BM25 and a vector for semantic search.
//! `{content, contentType, metadata}` or `{items: [...]}` answers `{vectorId | vectorIds, dimensions,
//! provider}`.

use super::chunk::{Chunk, Kind};
use super::embeddings::{self, Embedder};
use super::search::index_statements;
use super::vectors::VectorStore;
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::storage::Database;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const CONTENT_TYPES: [&str; 5] = ["course", "lesson", "blog-post", "tool-doc", "fhir-guide"];
pub const MAX_CONTENT_CHARS: usize = 16_000;
pub const MAX_ITEMS: usize = 100;

#[derive(Debug, Deserialize)]
struct Item {
    content: Option<String>,
    #[serde(rename = "contentType")]
    content_type: Option<String>,
    metadata: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Body {
    items: Option<Vec<Item>>,
    #[serde(flatten)]
    single: Item,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Ingested {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_ids: Option<Vec<String>>,
    pub dimensions: usize,
    pub provider: String,
}

fn chunk(index: usize, item: Item) -> Result<Chunk> {
    let at = |what: &str| if index == usize::MAX { what.to_owned() } else { format!("items[{index}].{what}") };
    let content = item.content.map(|c| c.trim().to_owned()).unwrap_or_default();
    if content.is_empty() {
        return Err(Error::BadRequest(format!("{} is empty", at("content"))));
    }
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(Error::PayloadTooLarge(format!(
            "{} is longer than {MAX_CONTENT_CHARS} characters; split it",
            at("content")
        )));
    }
    let content_type = item.content_type.unwrap_or_default();
    if !CONTENT_TYPES.contains(&content_type.as_str()) {
        return Err(Error::Unprocessable(format!(
            "{} {content_type:?} is not one of {}",
            at("contentType"),
            CONTENT_TYPES.join(", ")
        )));
    }
    let metadata = item.metadata.unwrap_or(Value::Null);
    if !(metadata.is_null() || metadata.is_object()) || metadata.to_string().len() > 4_096 {
        return Err(Error::BadRequest(format!("{} must be an object of at most 4 KiB", at("metadata"))));
    }
    let text = |key: &str| metadata.get(key).and_then(Value::as_str).map(str::to_owned);
    let id = format!("content:{}", &hex::encode(Sha256::digest(format!("{content_type}\n{content}").as_bytes()))[..32]);
    Ok(Chunk {
        id,
        kind: Kind::Content,
        resource: text("resource"),
        element: None,
        title: text("title").unwrap_or_else(|| content.chars().take(80).collect()),
        terms: content_type.replace('-', " "),
        url: text("url").unwrap_or_default(),
        body: content,
        maturity: 0,
        position: 0,
    })
}

pub async fn ingest(
    db: &impl Database,
    http: &impl HttpClient,
    embedder: Option<&Embedder>,
    store: &impl VectorStore,
    body: &[u8],
) -> Result<Ingested> {
    let body: Body =
        serde_json::from_slice(body).map_err(|e| Error::BadRequest(format!("The body is not valid JSON: {e}")))?;
    let (chunks, batch) = match body.items {
        Some(items) => {
            if items.is_empty() {
                return Err(Error::BadRequest("items is empty".into()));
            }
            if items.len() > MAX_ITEMS {
                return Err(Error::PayloadTooLarge(format!("{} items; at most {MAX_ITEMS} a request", items.len())));
            }
            (items.into_iter().enumerate().map(|(i, item)| chunk(i, item)).collect::<Result<Vec<_>>>()?, true)
        }
        None => (vec![chunk(usize::MAX, body.single)?], false),
    };
    let embedder = embedder.ok_or_else(|| {
        Error::Unavailable(
            "No embedding provider is configured (EMBEDDING_PROVIDER); content cannot be embedded here.".into(),
        )
    })?;
    let vectors = embeddings::embed(http, embedder, &chunks.iter().map(|c| c.body.clone()).collect::<Vec<_>>()).await?;
    let dimensions = vectors.first().map_or(0, Vec::len);
    let info = embeddings::index_info(embedder, dimensions);
    let items: Vec<(String, Vec<f32>)> = chunks.iter().map(|c| c.id.clone()).zip(vectors).collect();
    store.upsert(&info, &items).await?;
    db.batch(chunks.iter().flat_map(index_statements).collect()).await?;
    let ids: Vec<String> = chunks.into_iter().map(|c| c.id).collect();
    Ok(Ingested {
        vector_id: (!batch).then(|| ids[0].clone()),
        vector_ids: batch.then_some(ids),
        dimensions,
        provider: info.provider,
    })
}

#[cfg(test)]
mod tests {
    use super::super::vectors::D1Vectors;
    use super::*;
    use crate::http::testing::RecordingHttp;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;
    use serde_json::json;

    fn embedder() -> Embedder {
        Embedder {
            source: super::embeddings::Source::OpenAi {
                base_url: "http://127.0.0.1:3".into(),
                api_key: crate::config::Secret::new("k"),
            },
            model: "m".into(),
            dimensions: None,
        }
    }

    fn status(body: Value) -> Option<u16> {
        let db = SqliteDb::with_schema();
        let http = RecordingHttp::answering(200, r#"{"data":[{"index":0,"embedding":[1,0]}]}"#);
        block_on(ingest(&db, &http, Some(&embedder()), &D1Vectors(&db), body.to_string().as_bytes()))
            .err()
            .map(|e| e.status_code())
    }

    #[test]
    fn bad_content_is_refused_before_anything_is_embedded() {
        assert_eq!(status(json!({"content": "", "contentType": "course"})), Some(400), "empty");
        assert_eq!(status(json!({"content": "x", "contentType": "novel"})), Some(422), "unknown contentType");
        assert_eq!(status(json!({"content": "x".repeat(MAX_CONTENT_CHARS + 1), "contentType": "course"})), Some(413));
        let many: Vec<Value> = (0..=MAX_ITEMS).map(|_| json!({"content": "x", "contentType": "course"})).collect();
        assert_eq!(status(json!({ "items": many })), Some(413), "too many items");
        assert_eq!(status(json!({"content": "x", "contentType": "course", "metadata": [1]})), Some(400));
    }

    #[test]
    fn content_is_stored_for_bm25_and_as_a_vector() {
        let db = SqliteDb::with_schema();
        let http = RecordingHttp::answering(200, r#"{"data":[{"index":0,"embedding":[0.6,0.8]}]}"#);
        let body = json!({"content": "SMART on FHIR launch sequence explained", "contentType": "lesson", "metadata": {"title": "SMART launch", "url": "https://fhiriq.dev/courses/smart"}});
        let done = block_on(ingest(&db, &http, Some(&embedder()), &D1Vectors(&db), body.to_string().as_bytes()))
            .expect("ingested");
        assert_eq!(done.dimensions, 2);
        let id = done.vector_id.expect("one id");
        let near = block_on(D1Vectors(&db).query(&[0.6, 0.8], 1)).expect("q");
        assert_eq!(near[0].0, id);
        let hits = block_on(crate::knowledge::search::passages(&db, "smart launch sequence", 3)).expect("bm25");
        assert_eq!(hits[0].title, "SMART launch");
        let none =
            block_on(ingest(&db, &http, None, &D1Vectors(&db), body.to_string().as_bytes())).expect_err("no provider");
        assert_eq!(none.status_code(), 503);
    }
}
