//! Embeddings from Workers AI (`@cf/baai/bge-base-en-v1.5` through the production `AI` binding), any
//! OpenAI-compatible endpoint (`POST {base}/v1/embeddings`), or none. With none, retrieval is BM25
//! alone.

use super::vectors::IndexInfo;
use crate::config::{EnvSource, Secret, required_secret};
use crate::error::{Error, Result};
use crate::http::{HttpClient, OutboundRequest};
use serde_json::{Value, json};

/// Texts per Workers AI call (the bge models take at most 100).
const WORKERS_AI_BATCH: usize = 100;

#[derive(Debug, Clone)]
pub enum Source {
    /// An OpenAI-compatible endpoint.
    OpenAi { base_url: String, api_key: Secret },
    /// A Workers AI model through the `AI` binding (production only).
    WorkersAi,
}

#[derive(Debug, Clone)]
pub struct Embedder {
    pub source: Source,
    pub model: String,
    /// Asked of models that can shorten their vectors (text-embedding-3-*).
    pub dimensions: Option<u64>,
}

impl Embedder {
    /// The name recorded with the index.
    pub fn provider(&self) -> &'static str {
        match self.source {
            Source::OpenAi { .. } => "openai",
            Source::WorkersAi => "workers-ai",
        }
    }
}

/// `EMBEDDING_PROVIDER`: `none` (default), `openai` (any OpenAI-compatible endpoint) or `workers-ai`.
pub fn from_env(env: &impl EnvSource) -> Result<Option<Embedder>> {
    match env.var("EMBEDDING_PROVIDER").as_deref().map(str::trim) {
        None | Some("") | Some("none") => Ok(None),
        Some("openai") => {
            let base_url = env.var("EMBEDDING_BASE_URL").unwrap_or_else(|| "https://api.openai.com".into());
            if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
                return Err(Error::Config("EMBEDDING_BASE_URL must be an http(s) URL".into()));
            }
            let dimensions = match env.var("EMBEDDING_DIMENSIONS") {
                Some(raw) => {
                    Some(raw.trim().parse::<u64>().ok().filter(|d| (1..=4_096).contains(d)).ok_or_else(|| {
                        Error::Config(format!(
                            "EMBEDDING_DIMENSIONS must be a whole number from 1 to 4096, not {raw:?}"
                        ))
                    })?)
                }
                None => None,
            };
            Ok(Some(Embedder {
                source: Source::OpenAi {
                    base_url: base_url.trim_end_matches('/').into(),
                    api_key: required_secret(env, "EMBEDDING_API_KEY")?,
                },
                model: env.var("EMBEDDING_MODEL").unwrap_or_else(|| "text-embedding-3-small".into()),
                dimensions,
            }))
        }
        Some("workers-ai") => {
            let model = env.var("EMBEDDING_MODEL").unwrap_or_else(|| "@cf/baai/bge-base-en-v1.5".into());
            if !model.starts_with("@cf/") {
                return Err(Error::Config(format!("EMBEDDING_MODEL for workers-ai is a @cf/ model id, not {model:?}")));
            }
            Ok(Some(Embedder { source: Source::WorkersAi, model, dimensions: None }))
        }
        Some(other) => {
            Err(Error::Config(format!("EMBEDDING_PROVIDER must be none, openai or workers-ai, not {other:?}")))
        }
    }
}

/// Embeds `inputs` (at most 2,048 a request), in order.
pub async fn embed(http: &impl HttpClient, embedder: &Embedder, inputs: &[String]) -> Result<Vec<Vec<f32>>> {
    let vectors = match &embedder.source {
        Source::OpenAi { base_url, api_key } => embed_openai(http, embedder, base_url, api_key, inputs).await?,
        Source::WorkersAi => {
            let mut all = Vec::with_capacity(inputs.len());
            for batch in inputs.chunks(WORKERS_AI_BATCH) {
                let output = http.run_model(&embedder.model, &json!({ "text": batch })).await?;
                all.extend(read_workers_ai(&output, batch.len())?);
            }
            all
        }
    };
    if vectors.len() != inputs.len() || vectors.iter().any(Vec::is_empty) {
        return Err(Error::upstream(
            "reading embeddings",
            format!("{} vectors for {} inputs", vectors.len(), inputs.len()),
        ));
    }
    Ok(vectors)
}

async fn embed_openai(
    http: &impl HttpClient,
    embedder: &Embedder,
    base_url: &str,
    api_key: &Secret,
    inputs: &[String],
) -> Result<Vec<Vec<f32>>> {
    let mut body = json!({"input": inputs, "model": embedder.model, "encoding_format": "float"});
    if let Some(dimensions) = embedder.dimensions {
        body["dimensions"] = json!(dimensions);
    }
    let mut request = OutboundRequest::post_json(format!("{base_url}/v1/embeddings"), &body);
    request.headers.push(("authorization".into(), format!("Bearer {}", api_key.expose())));
    let response = http.send(request).await?;
    let response = response.success("embedding")?;
    let parsed: Value = serde_json::from_str(&response.body).map_err(|e| Error::upstream("reading embeddings", e))?;
    let mut data: Vec<(u64, Vec<f32>)> = parsed["data"]
        .as_array()
        .ok_or_else(|| Error::upstream("reading embeddings", "no data"))?
        .iter()
        .map(|d| (d["index"].as_u64().unwrap_or(0), floats(&d["embedding"])))
        .collect();
    data.sort_by_key(|(i, _)| *i);
    Ok(data.into_iter().map(|(_, v)| v).collect())
}

/// Workers AI's `{shape: [n, d], data: [[d floats] x n]}`.
fn read_workers_ai(output: &Value, expected: usize) -> Result<Vec<Vec<f32>>> {
    let data = output["data"].as_array().ok_or_else(|| Error::upstream("reading Workers AI embeddings", "no data"))?;
    let vectors: Vec<Vec<f32>> = data.iter().map(floats).collect();
    let shape: Vec<u64> =
        output["shape"].as_array().map(|s| s.iter().filter_map(Value::as_u64).collect()).unwrap_or_default();
    let consistent = shape.len() == 2
        && shape[0] as usize == vectors.len()
        && vectors.iter().all(|v| v.len() == shape[1] as usize)
        && vectors.len() == expected;
    if !consistent {
        return Err(Error::upstream(
            "reading Workers AI embeddings",
            format!("shape {shape:?} with {} vectors for {expected} texts", vectors.len()),
        ));
    }
    Ok(vectors)
}

fn floats(value: &Value) -> Vec<f32> {
    value.as_array().map(|v| v.iter().filter_map(Value::as_f64).map(|x| x as f32).collect()).unwrap_or_default()
}

pub fn index_info(embedder: &Embedder, dimensions: usize) -> IndexInfo {
    IndexInfo { provider: embedder.provider().into(), model: embedder.model.clone(), dimensions: dimensions as i64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::RecordingHttp;
    use futures::executor::block_on;
    use std::collections::HashMap;

    #[test]
    fn embeddings_are_requested_in_openais_format_and_returned_in_input_order() {
        let env = HashMap::from([
            ("EMBEDDING_PROVIDER", "openai"),
            ("EMBEDDING_API_KEY", "sk-e"),
            ("EMBEDDING_BASE_URL", "http://127.0.0.1:3"),
            ("EMBEDDING_DIMENSIONS", "3"),
        ]);
        let embedder = from_env(&env).expect("valid").expect("configured");
        let http = RecordingHttp::answering(
            200,
            r#"{"object":"list","data":[{"object":"embedding","index":1,"embedding":[0,1,0]},{"object":"embedding","index":0,"embedding":[1,0,0]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":4,"total_tokens":4}}"#,
        );
        let vectors = block_on(embed(&http, &embedder, &["a".into(), "b".into()])).expect("embedded");
        assert_eq!(vectors, vec![vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]]);
        let sent = &http.sent.borrow()[0];
        assert_eq!(sent.url, "http://127.0.0.1:3/v1/embeddings");
        let body: Value = serde_json::from_str(sent.body.as_deref().unwrap_or_default()).expect("json");
        assert_eq!(
            body,
            json!({"input": ["a", "b"], "model": "text-embedding-3-small", "encoding_format": "float", "dimensions": 3})
        );
    }

    #[test]
    fn workers_ai_is_run_with_its_text_input_in_batches_of_100_and_its_shape_is_checked() {
        let env = HashMap::from([("EMBEDDING_PROVIDER", "workers-ai")]);
        let embedder = from_env(&env).expect("valid").expect("configured");
        assert_eq!(embedder.model, "@cf/baai/bge-base-en-v1.5");
        let texts: Vec<String> = (0..101).map(|i| format!("text {i}")).collect();
        let hundred = json!({"shape": [100, 2], "data": vec![[0.5, 0.5]; 100]}).to_string();
        let one = json!({"shape": [1, 2], "data": [[1.0, 0.0]]}).to_string();
        let http = RecordingHttp::answering(200, &hundred).then(200, &one);
        let vectors = block_on(embed(&http, &embedder, &texts)).expect("embedded");
        assert_eq!(vectors.len(), 101);
        assert_eq!(vectors[100], vec![1.0, 0.0]);
        let sent = http.sent.borrow();
        assert_eq!(sent[0].url, "workers-ai:@cf/baai/bge-base-en-v1.5");
        let first: Value = serde_json::from_str(sent[0].body.as_deref().unwrap_or_default()).expect("json");
        assert_eq!(first["text"].as_array().map(Vec::len), Some(100));
        assert_eq!(index_info(&embedder, 2).provider, "workers-ai");

        let wrong_shape = RecordingHttp::answering(200, r#"{"shape":[2,2],"data":[[1,0]]}"#);
        assert!(block_on(embed(&wrong_shape, &embedder, &["a".into(), "b".into()])).is_err());
    }

    #[test]
    fn configuration_errors_name_the_variable() {
        let missing_key = HashMap::from([("EMBEDDING_PROVIDER", "openai")]);
        assert!(from_env(&missing_key).expect_err("key required").to_string().contains("EMBEDDING_API_KEY"));
        let unknown = HashMap::from([("EMBEDDING_PROVIDER", "magic")]);
        assert!(from_env(&unknown).is_err());
        let not_a_workers_model = HashMap::from([("EMBEDDING_PROVIDER", "workers-ai"), ("EMBEDDING_MODEL", "bge")]);
        assert!(from_env(&not_a_workers_model).expect_err("refused").to_string().contains("EMBEDDING_MODEL"));
        assert!(from_env(&HashMap::new()).expect("valid").is_none());
    }
}
