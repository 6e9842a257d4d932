//! Bindings workers-rs does not wrap usefully: Workers AI (its `Ai::run` converts JSON objects to JS
//! `Map`s, which models do not read) and Vectorize (no wrapper at all). Both are reached through
//! `Reflect`, passing JSON across as text so the shapes are exactly the documented ones.

use super::D1;
use super::fetch::FetchClient;
use crate::error::{Error, Result};
use crate::http::{HttpClient, OutboundRequest, OutboundResponse};
use crate::knowledge::vectors::{D1Vectors, IndexInfo, VectorStore, check_compatible, vectorize_id};
use serde_json::{Value, json};
use worker::js_sys::{self, Array, Function, Promise, Reflect};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

/// The Workers AI binding (production only).
pub const AI: &str = "AI";
/// The Vectorize index binding (production only).
pub const VECTORIZE: &str = "VECTORIZE";
/// Vectors per Vectorize upsert from a Worker.
const UPSERT_BATCH: usize = 1_000;
/// Nearest neighbours asked of Vectorize: its limit when metadata is returned.
const TOP_K_WITH_METADATA: usize = 20;

/// A binding by name, when the environment has it.
fn binding(env: &worker::Env, name: &str) -> Option<JsValue> {
    Reflect::get(env, &JsValue::from_str(name)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

fn describe(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

/// `target.method(...args)`, awaited when it answers a promise.
async fn call(target: &JsValue, method: &str, args: &[JsValue]) -> std::result::Result<JsValue, String> {
    let function: Function = Reflect::get(target, &JsValue::from_str(method))
        .map_err(describe)?
        .dyn_into()
        .map_err(|_| format!("{method} is not a function"))?;
    let arguments: Array = args.iter().collect();
    // Reflect.apply, not `function.apply`: on an RPC stub `apply` is itself a remote method.
    let returned = Reflect::apply(&function, target, &arguments).map_err(describe)?;
    JsFuture::from(Promise::resolve(&returned)).await.map_err(describe)
}

fn to_js(value: &Value) -> Result<JsValue> {
    js_sys::JSON::parse(&value.to_string()).map_err(|e| Error::internal("passing JSON to a binding", describe(e)))
}

fn from_js(value: &JsValue) -> Result<Value> {
    let text = js_sys::JSON::stringify(value)
        .map_err(|e| Error::upstream("reading a binding's answer", describe(e)))?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| Error::upstream("reading a binding's answer", e))
}

/// Outbound calls from a worker: `fetch`, plus Workers AI through the `AI` binding when it exists
/// (production), else through the REST API when an account and token are configured.
pub struct EdgeClient {
    ai: Option<JsValue>,
    rest: Option<crate::workers_ai::RestConfig>,
}

impl EdgeClient {
    pub fn new(env: &worker::Env) -> Result<Self> {
        Ok(Self { ai: binding(env, AI), rest: crate::workers_ai::RestConfig::from_env(env)? })
    }
}

impl HttpClient for EdgeClient {
    async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse> {
        FetchClient.send(request).await
    }

    async fn run_model(&self, model: &str, input: &Value) -> Result<Value> {
        let Some(ai) = &self.ai else {
            return match &self.rest {
                Some(rest) => crate::workers_ai::run(self, rest, model, input).await,
                None => Err(Error::Unavailable(format!(
                    "Workers AI ({model}) needs the {AI} binding (production) or WORKERS_AI_ACCOUNT_ID and \
                     WORKERS_AI_API_TOKEN."
                ))),
            };
        };
        let output = call(ai, "run", &[JsValue::from_str(model), to_js(input)?])
            .await
            .map_err(|e| Error::upstream(format!("running {model}"), e))?;
        from_js(&output)
    }
}

/// The vector store: Vectorize where the binding exists (production), D1 elsewhere.
pub enum Vectors<'a> {
    D1(D1Vectors<'a, D1>),
    Vectorize(Vectorize<'a>),
}

pub fn vectors<'a>(env: &worker::Env, db: &'a D1) -> Vectors<'a> {
    match binding(env, VECTORIZE) {
        Some(index) => Vectors::Vectorize(Vectorize { index, db }),
        None => Vectors::D1(D1Vectors(db)),
    }
}

impl VectorStore for Vectors<'_> {
    async fn info(&self) -> Result<Option<IndexInfo>> {
        match self {
            Self::D1(store) => store.info().await,
            Self::Vectorize(store) => store.info().await,
        }
    }

    async fn upsert(&self, info: &IndexInfo, items: &[(String, Vec<f32>)]) -> Result<()> {
        match self {
            Self::D1(store) => store.upsert(info, items).await,
            Self::Vectorize(store) => store.upsert(info, items).await,
        }
    }

    async fn query(&self, vector: &[f32], k: usize) -> Result<Vec<(String, f32)>> {
        match self {
            Self::D1(store) => store.query(vector, k).await,
            Self::Vectorize(store) => store.query(vector, k).await,
        }
    }
}

/// A Vectorize index. Vectorize knows its dimensions but not which model made the vectors, so the
/// index's identity (provider, model, dimensions) is kept in D1 as for the local store, and checked
/// against the index's own dimensions before the first write.
pub struct Vectorize<'a> {
    index: JsValue,
    db: &'a D1,
}

impl Vectorize<'_> {
    fn fail(&self, action: &str) -> impl Fn(String) -> Error {
        let context = format!("Vectorize {action}");
        move |e| Error::upstream(&context, e)
    }
}

impl VectorStore for Vectorize<'_> {
    async fn info(&self) -> Result<Option<IndexInfo>> {
        D1Vectors(self.db).info().await
    }

    async fn upsert(&self, info: &IndexInfo, items: &[(String, Vec<f32>)]) -> Result<()> {
        check_compatible(self.info().await?.as_ref(), info)?;
        let described = from_js(&call(&self.index, "describe", &[]).await.map_err(self.fail("describe"))?)?;
        // Vectorize v2 answers `{dimensions}`; v1 answered `{config: {dimensions}}`.
        let dimensions = described["dimensions"].as_i64().or_else(|| described.pointer("/config/dimensions")?.as_i64());
        if dimensions.is_some_and(|d| d != info.dimensions) {
            return Err(Error::Conflict(format!(
                "The Vectorize index has {} dimensions but {}/{} makes {}; create the index with --dimensions={}.",
                dimensions.unwrap_or_default(),
                info.provider,
                info.model,
                info.dimensions,
                info.dimensions
            )));
        }
        for batch in items.chunks(UPSERT_BATCH) {
            let vectors: Vec<Value> = batch
                .iter()
                .map(|(id, values)| json!({"id": vectorize_id(id), "values": values, "metadata": {"chunk": id}}))
                .collect();
            call(&self.index, "upsert", &[to_js(&Value::Array(vectors))?]).await.map_err(self.fail("upsert"))?;
        }
        // Record the identity once the vectors are in.
        D1Vectors(self.db).upsert(info, &[]).await
    }

    async fn query(&self, vector: &[f32], k: usize) -> Result<Vec<(String, f32)>> {
        let options = json!({"topK": k.min(TOP_K_WITH_METADATA), "returnValues": false, "returnMetadata": "all"});
        let answer = call(&self.index, "query", &[to_js(&json!(vector))?, to_js(&options)?])
            .await
            .map_err(self.fail("query"))?;
        let answer = from_js(&answer)?;
        Ok(answer["matches"]
            .as_array()
            .map(|matches| {
                matches
                    .iter()
                    .filter_map(|m| {
                        let id = m.pointer("/metadata/chunk").or_else(|| m.get("id"))?.as_str()?.to_owned();
                        Some((id, m["score"].as_f64().unwrap_or(0.0) as f32))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}
