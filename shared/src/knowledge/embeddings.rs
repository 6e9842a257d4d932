//! Embeddings from any OpenAI-compatible endpoint (`POST {base}/v1/embeddings`), or none. With none,
//! retrieval is BM25 alone. (Workers AI's `@cf/baai/bge-base-en-v1.5` needs the remote AI binding and
//! is not wired yet.)

use super::vectors::IndexInfo;
use crate::config::{EnvSource, Secret, required_secret};
use crate::error::{Error, Result};
use crate::http::{HttpClient, OutboundRequest};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Embedder {
    pub base_url: String,
    pub api_key: Secret,
    pub model: String,
    /// Asked of models that can shorten their vectors (text-embedding-3-*).
    pub dimensions: Option<u64>,
}

/// `EMBEDDING_PROVIDER`: `none` (default) or `openai` (any OpenAI-compatible endpoint).
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
                base_url: base_url.trim_end_matches('/').into(),
                api_key: required_secret(env, "EMBEDDING_API_KEY")?,
                model: env.var("EMBEDDING_MODEL").unwrap_or_else(|| "text-embedding-3-small".into()),
                dimensions,
            }))
        }
        Some(other) => Err(Error::Config(format!("EMBEDDING_PROVIDER must be none or openai, not {other:?}"))),
    }
}

/// Embeds `inputs` (at most 2,048 a request), in order.
pub async fn embed(http: &impl HttpClient, embedder: &Embedder, inputs: &[String]) -> Result<Vec<Vec<f32>>> {
    let mut body = json!({"input": inputs, "model": embedder.model, "encoding_format": "float"});
    if let Some(dimensions) = embedder.dimensions {
        body["dimensions"] = json!(dimensions);
    }
    let mut request = OutboundRequest::post_json(format!("{}/v1/embeddings", embedder.base_url), &body);
    request.headers.push(("authorization".into(), format!("Bearer {}", embedder.api_key.expose())));
    let response = http.send(request).await?;
    let response = response.success("embedding")?;
    let parsed: Value = serde_json::from_str(&response.body).map_err(|e| Error::upstream("reading embeddings", e))?;
    let mut data: Vec<(u64, Vec<f32>)> = parsed["data"]
        .as_array()
        .ok_or_else(|| Error::upstream("reading embeddings", "no data"))?
        .iter()
        .map(|d| {
            let vector = d["embedding"]
                .as_array()
                .map(|v| v.iter().filter_map(Value::as_f64).map(|x| x as f32).collect())
                .unwrap_or_default();
            (d["index"].as_u64().unwrap_or(0), vector)
        })
        .collect();
    data.sort_by_key(|(i, _)| *i);
    if data.len() != inputs.len() || data.iter().any(|(_, v)| v.is_empty()) {
        return Err(Error::upstream(
            "reading embeddings",
            format!("{} vectors for {} inputs", data.len(), inputs.len()),
        ));
    }
    Ok(data.into_iter().map(|(_, v)| v).collect())
}

pub fn index_info(embedder: &Embedder, dimensions: usize) -> IndexInfo {
    IndexInfo { provider: "openai".into(), model: embedder.model.clone(), dimensions: dimensions as i64 }
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
    fn configuration_errors_name_the_variable() {
        let missing_key = HashMap::from([("EMBEDDING_PROVIDER", "openai")]);
        assert!(from_env(&missing_key).expect_err("key required").to_string().contains("EMBEDDING_API_KEY"));
        let unknown = HashMap::from([("EMBEDDING_PROVIDER", "magic")]);
        assert!(from_env(&unknown).is_err());
        assert!(from_env(&HashMap::new()).expect("valid").is_none());
    }
}
