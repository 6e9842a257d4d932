//! `GET /api/search?q=&k=`: the knowledge base's passages for a question, hybrid (BM25 and vectors,
//! fused by score) when an embedding provider is configured.

use shared::Error;
use shared::knowledge::search;
use shared::workers;
use shared::workers::api::{ApiRequest, json};
use worker::Response;

/// `GET /api/search?q=&k=`: the knowledge base's passages for a question (hybrid when an embedding
/// provider is configured).
pub async fn api(call: &ApiRequest<'_>) -> shared::Result<Response> {
    let url = call.request.url().map_err(|e| Error::BadRequest(format!("bad URL: {e}")))?;
    let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let (q, k) = search::parse_request(param("q").as_deref(), param("k").as_deref())?;
    let embedder = call.settings.embedder()?;
    let kb = workers::knowledge(call.env())?;
    let vectors = workers::vectors(call.env(), &kb);
    let http = workers::EdgeClient::new(call.env())?;
    json(&search::hybrid(&kb, &http, embedder.as_ref(), &vectors, &q, k).await?, 200)
}
