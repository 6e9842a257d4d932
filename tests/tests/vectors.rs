//! Semantic search through the platform: createVectorEmbedding embeds content with a fake speaking
//! OpenAI's embeddings API, /api/search fuses vector and BM25 rankings, and an index built with one
//! embedding size refuses queries of another. Workers AI is exercised both over its REST API and,
//! with Vectorize, through the production bindings' APIs (served by tests/fakes/bindings).

use fhir_iq_tests::{DEMO, FakeService, Options, Platform};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A toy embedding model: counts of a few words, padded to `dimensions`.
fn embedding(text: &str, dimensions: usize) -> Vec<f64> {
    let text = text.to_lowercase();
    let mut v: Vec<f64> =
        ["smart", "launch", "bulk", "export", "patient"].iter().map(|w| text.matches(w).count() as f64).collect();
    v.push(1.0);
    v.resize(dimensions, 0.0);
    v
}

/// The toy model as an OpenAI-compatible embeddings endpoint.
fn embeddings_server(dimensions: Arc<AtomicUsize>) -> FakeService {
    let provider = FakeService::start();
    provider.answer_with("/v1/embeddings", move |request| {
        let inputs: Vec<String> = request.json()["input"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let n = dimensions.load(Ordering::SeqCst);
        let data: Vec<Value> =
            inputs.iter().enumerate().map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": embedding(t, n)})).collect();
        (200, json!({"object": "list", "data": data, "model": "text-embedding-3-small", "usage": {"prompt_tokens": 3, "total_tokens": 3}}).to_string())
    });
    provider
}

/// The items staff send createVectorEmbedding: a lesson (its text, title and URL) and the Bulk FHIR course.
fn lesson_and_bulk_course(lesson: &str, title: &str, url: &str) -> Value {
    json!({"items": [
        {"content": lesson, "contentType": "lesson", "metadata": {"title": title, "url": url}},
        {"content": "Bulk data export with $export for population analytics.", "contentType": "course",
         "metadata": {"title": "Bulk FHIR", "url": "https://fhiriq.test/courses/bulk"}}
    ]})
}

#[test]
fn make_kb_embeds_every_specification_chunk_when_a_provider_is_configured() {
    let provider = embeddings_server(Arc::new(AtomicUsize::new(8)));
    let platform = Platform::start_with(Options {
        knowledge: true,
        ..Options::default()
            .var("EMBEDDING_PROVIDER", "openai")
            .var("EMBEDDING_BASE_URL", &provider.url(""))
            .var("EMBEDDING_API_KEY", "sk-embed")
    });
    let chunks = platform.query_kb("SELECT COUNT(*) AS n FROM kb_chunks")[0]["n"].clone();
    let vectors = platform.query_kb("SELECT COUNT(*) AS n FROM kb_vectors")[0]["n"].clone();
    assert_eq!(vectors, chunks, "every chunk has a vector");
    let index = &platform.query_kb("SELECT provider, model, dimensions FROM kb_vector_index")[0];
    assert_eq!((index["provider"].clone(), index["dimensions"].clone()), (json!("openai"), json!(8)));
    assert!(
        provider
            .received("/v1/embeddings")
            .iter()
            .all(|r| r.json()["input"].as_array().is_some_and(|a| a.len() <= 256))
    );
    let hits = platform.get("/api/search?q=patient+birth+date&k=5");
    assert_eq!(hits.status, 200, "{}", hits.body);
    assert!(
        hits.json().as_array().is_some_and(|h| h.iter().any(|x| x["id"] == "element:Patient.birthDate")),
        "{}",
        hits.body
    );
}

#[test]
fn content_is_embedded_searched_by_meaning_and_mismatched_dimensions_are_refused() {
    let dimensions = Arc::new(AtomicUsize::new(8));
    let provider = embeddings_server(Arc::clone(&dimensions));
    let platform = Platform::start_with(
        Options::default()
            .var("EMBEDDING_PROVIDER", "openai")
            .var("EMBEDDING_BASE_URL", &provider.url(""))
            .var("EMBEDDING_API_KEY", "sk-embed")
            .var("INTERNAL_SERVICE_TOKEN", "internal-token-for-content-sync-0001"),
    );
    let admin = platform.sign_in(DEMO[4].1, DEMO[4].2);
    let items = lesson_and_bulk_course(
        "How a SMART app launch works, step by step: launch context, authorize, token.",
        "SMART launch, explained",
        "https://fhiriq.test/courses/smart/launch",
    );
    let created = platform.send_as(&admin, "POST", "/_functions/createVectorEmbedding", Some(&items));
    assert_eq!(created.status, 201, "{}", created.body);
    let body = created.json();
    assert_eq!(body["vectorIds"].as_array().map(Vec::len), Some(2));
    assert_eq!((body["dimensions"].clone(), body["provider"].clone()), (json!(8), json!("openai")));
    let sent = provider.received("/v1/embeddings");
    assert_eq!(sent[0].header("authorization"), Some("Bearer sk-embed"));
    assert_eq!(sent[0].json()["encoding_format"], "float");
    assert_eq!(sent[0].json()["input"].as_array().map(Vec::len), Some(2), "one request for the batch");

    // "launch" finds the SMART lesson by meaning and by words, fused.
    let found = platform.get("/api/search?q=smart+launch&k=3");
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.json()[0]["title"], "SMART launch, explained", "{}", found.body);
    assert_eq!(provider.received("/v1/embeddings").len(), 2, "the question was embedded too");

    // Bad input, and who may add content.
    let status = |cookie: &str, body: Value| {
        platform.send_as(cookie, "POST", "/_functions/createVectorEmbedding", Some(&body)).status
    };
    assert_eq!(status(&admin, json!({"content": "x", "contentType": "novel"})), 422);
    assert_eq!(status(&admin, json!({"content": "", "contentType": "course"})), 400);
    let many: Vec<Value> = (0..101).map(|i| json!({"content": format!("item {i}"), "contentType": "course"})).collect();
    assert_eq!(status(&admin, json!({ "items": many })), 413);
    let pro = platform.sign_in(DEMO[2].1, DEMO[2].2);
    assert_eq!(status(&pro, json!({"content": "x", "contentType": "course"})), 403, "staff only");
    // Another service (the content sync) uses the internal token instead of a session.
    let as_service = |token: &str| {
        let body = json!({"content": "Bulk data export kick-off: $export with _type.", "contentType": "tool-doc"});
        platform.send(
            "POST",
            "/_functions/createVectorEmbedding",
            &[("authorization", &format!("Bearer {token}"))],
            Some(&body),
        )
    };
    assert_eq!(as_service("internal-token-for-content-sync-0001").status, 201);
    assert_eq!(as_service("internal-token-for-content-sync-0002").status, 401, "a wrong token is no identity");

    // The provider now answers with another size: the index refuses to compare.
    dimensions.store(12, Ordering::SeqCst);
    let mismatch = platform.get("/api/search?q=smart+launch");
    assert_eq!(mismatch.status, 409, "{}", mismatch.body);
    assert!(
        mismatch.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("8 dimensions") && m.contains("12 dimensions"))
    );
    assert_eq!(status(&admin, json!({"content": "more", "contentType": "course"})), 409);
}

const ACCOUNT: &str = "0123abcd";
const EMBED_PATH: &str = "/client/v4/accounts/0123abcd/ai/run/@cf/baai/bge-base-en-v1.5";
const CHAT_PATH: &str = "/client/v4/accounts/0123abcd/ai/run/@cf/meta/llama-3.1-8b-instruct";

/// Workers AI's REST API: the toy model for bge embeddings, and a chat model, in Cloudflare's envelope.
fn workers_ai_server() -> FakeService {
    let cloudflare = FakeService::start();
    cloudflare.answer_with(EMBED_PATH, |request| {
        let texts: Vec<String> = request.json()["text"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let data: Vec<Vec<f64>> = texts.iter().map(|t| embedding(t, 8)).collect();
        let result = json!({"shape": [data.len(), 8], "data": data});
        (200, json!({"result": result, "success": true, "errors": [], "messages": []}).to_string())
    });
    cloudflare.answer(
        CHAT_PATH,
        200,
        &json!({"result": {"response": "Record it in Patient.birthDate [1].",
                           "usage": {"prompt_tokens": 900, "completion_tokens": 9, "total_tokens": 909}},
                "success": true, "errors": [], "messages": []})
        .to_string(),
    );
    cloudflare
}

#[test]
fn workers_ai_embeds_the_specification_and_answers_through_cloudflares_api() {
    let cloudflare = workers_ai_server();
    let platform = Platform::start_with(Options {
        knowledge: true,
        ..Options::default()
            .var("EMBEDDING_PROVIDER", "workers-ai")
            .var("AI_PROVIDERS", "workers-ai")
            .var("WORKERS_AI_ACCOUNT_ID", ACCOUNT)
            .var("WORKERS_AI_API_TOKEN", "cf-api-token")
            .var("WORKERS_AI_BASE_URL", &cloudflare.url(""))
    });
    // make kb embedded every chunk with the bge model and recorded it with the index.
    let chunks = platform.query_kb("SELECT COUNT(*) AS n FROM kb_chunks")[0]["n"].clone();
    assert_eq!(platform.query_kb("SELECT COUNT(*) AS n FROM kb_vectors")[0]["n"], chunks);
    let index = &platform.query_kb("SELECT provider, model, dimensions FROM kb_vector_index")[0];
    assert_eq!(index, &json!({"provider": "workers-ai", "model": "@cf/baai/bge-base-en-v1.5", "dimensions": 8}));
    let embeds = cloudflare.received(EMBED_PATH);
    assert!(embeds.iter().all(|r| r.header("authorization") == Some("Bearer cf-api-token")));
    assert!(embeds.iter().all(|r| r.json()["text"].as_array().is_some_and(|t| !t.is_empty() && t.len() <= 100)));

    // The site worker embeds the question with the same model.
    let before = cloudflare.received(EMBED_PATH).len();
    let hits = platform.get("/api/search?q=patient+birth+date&k=5");
    assert_eq!(hits.status, 200, "{}", hits.body);
    assert!(hits.json().as_array().is_some_and(|h| h.iter().any(|x| x["id"] == "element:Patient.birthDate")));
    assert_eq!(cloudflare.received(EMBED_PATH).len(), before + 1, "the question was embedded");

    // The assistant answers with the Workers AI chat model, as JSON and as a stream.
    let pro = platform.sign_in(DEMO[2].1, DEMO[2].2);
    let reply = platform.send_as(&pro, "POST", "/_functions/processAIQuery", Some(&json!({"message": "patient dob?"})));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer = reply.json();
    assert_eq!(
        (answer["provider"].clone(), answer["model"].clone()),
        (json!("workers-ai"), json!("@cf/meta/llama-3.1-8b-instruct"))
    );
    assert_eq!(answer["tokens_used"], json!({"input": 900, "output": 9}));
    let input = cloudflare.received(CHAT_PATH)[0].json();
    assert_eq!(input["messages"][0]["role"], "system");
    assert!(input["messages"][0]["content"].as_str().is_some_and(|s| s.contains("R4")));
    let streamed = platform.send(
        "POST",
        "/_functions/processAIQuery",
        &[("cookie", &pro), ("accept", "text/event-stream")],
        Some(&json!({"message": "patient dob?"})),
    );
    assert!(streamed.body.contains("Record it in Patient.birthDate [1]."), "{}", streamed.body);
    assert!(streamed.body.contains(r#""provider":"workers-ai""#), "{}", streamed.body);

    // Cloudflare failing costs the vector half of search, not the search.
    cloudflare.answer(EMBED_PATH, 500, r#"{"result":null,"success":false,"errors":[{"code":3040,"message":"Capacity temporarily exceeded"}],"messages":[]}"#);
    let degraded = platform.get("/api/search?q=patient+birth+date&k=5");
    assert_eq!(degraded.status, 200, "{}", degraded.body);
    assert!(degraded.json().as_array().is_some_and(|h| h.iter().any(|x| x["id"] == "element:Patient.birthDate")));
}

/// A toy model for the binding test: "launch" and "startup" share a dimension, so only vector
/// search can connect them.
fn synonym_embedding(text: &str) -> Vec<f64> {
    let text = text.to_lowercase();
    let count = |words: &[&str]| words.iter().map(|w| text.matches(w).count() as f64).sum::<f64>();
    vec![count(&["launch", "startup"]), count(&["bulk", "export"]), count(&["patient"]), 0.1, 0.0, 0.0, 0.0, 0.0]
}

#[test]
fn the_production_ai_and_vectorize_bindings_embed_store_search_and_answer() {
    let ai = FakeService::start();
    ai.answer_with("/ai/run/@cf/baai/bge-base-en-v1.5", |request| {
        let texts: Vec<String> = request.json()["text"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let data: Vec<Vec<f64>> = texts.iter().map(|t| synonym_embedding(t)).collect();
        (200, json!({"shape": [data.len(), 8], "data": data}).to_string())
    });
    ai.answer(
        "/ai/run/@cf/meta/llama-3.1-8b-instruct",
        200,
        r#"{"response":"Start from the EHR's launch context [1].","usage":{"prompt_tokens":700,"completion_tokens":8,"total_tokens":708}}"#,
    );
    let platform = Platform::start_with(Options {
        binding_fakes: true,
        ..Options::default()
            .var("EMBEDDING_PROVIDER", "workers-ai")
            .var("AI_PROVIDERS", "workers-ai")
            .var("FAKE_AI_URL", &ai.url(""))
    });
    let admin = platform.sign_in(DEMO[4].1, DEMO[4].2);
    let items = lesson_and_bulk_course(
        "The startup sequence of an app inside the EHR: context, authorize, token.",
        "EHR startup sequence",
        "https://fhiriq.test/courses/smart/ehr",
    );
    let created = platform.send_as(&admin, "POST", "/_functions/createVectorEmbedding", Some(&items));
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        (created.json()["provider"].clone(), created.json()["dimensions"].clone()),
        (json!("workers-ai"), json!(8))
    );
    // The vectors went to Vectorize; D1 keeps only the index's identity.
    assert_eq!(platform.query_kb("SELECT COUNT(*) AS n FROM kb_vectors")[0]["n"], json!(0));
    assert_eq!(platform.query_kb("SELECT provider FROM kb_vector_index")[0]["provider"], "workers-ai");

    // "launch" shares no word with the lesson: only the Vectorize query can find it.
    let found = platform.get("/api/search?q=launch&k=3");
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.json()[0]["title"], "EHR startup sequence", "{}", found.body);

    // The assistant answers through the AI binding's chat model.
    let pro = platform.sign_in(DEMO[2].1, DEMO[2].2);
    let reply = platform.send_as(
        &pro,
        "POST",
        "/_functions/processAIQuery",
        Some(&json!({"message": "how does launch work?"})),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["provider"], "workers-ai");
    assert_eq!(reply.json()["message"], "Start from the EHR's launch context [1].");
    let chat = ai.received("/ai/run/@cf/meta/llama-3.1-8b-instruct");
    assert_eq!(chat[0].json()["messages"][0]["role"], "system");
    assert!(chat[0].json()["messages"][0]["content"].as_str().is_some_and(|s| s.contains("EHR startup sequence")));
}
