//! `POST /_functions/createVectorEmbedding`: adds the platform's own content to the knowledge base,
//! embedded with the configured provider. Staff only: the site checks the session, and the caller it
//! signs is authorized again here against the same route (`AdminOrService`).
#![cfg(target_arch = "wasm32")]

use shared::knowledge::ingest;
use shared::settings::Settings;
use shared::web::routes::CREATE_VECTOR_EMBEDDING;
use shared::workers::function::{self, Call};
use shared::workers::{self, EdgeClient};
use worker::{Env, Response};

const MAX_BODY: usize = 2 * 1024 * 1024;

shared::function_worker!(CREATE_VECTOR_EMBEDDING, MAX_BODY, |call, env, _ctx| create(call, &env));

async fn create(call: Call, env: &Env) -> shared::Result<Response> {
    let db = workers::knowledge(env)?;
    let settings = Settings::new(env);
    let embedder = settings.embedder()?;
    let vectors = workers::vectors(env, &db);
    let ingested = ingest::ingest(&db, &EdgeClient::new(env)?, embedder.as_ref(), &vectors, &call.body).await?;
    function::json(&ingested, 201)
}
