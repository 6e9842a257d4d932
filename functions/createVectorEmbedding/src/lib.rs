//! `POST /_functions/createVectorEmbedding`: adds the platform's own content to the knowledge base,
//! embedded with the configured provider. Staff only (the site worker checks the session; the
//! identity it passes on is checked again here).
#![cfg(target_arch = "wasm32")]

use shared::Error;
use shared::auth::internal::Identity;
use shared::knowledge::{embeddings, ingest};
use shared::web::routes::CREATE_VECTOR_EMBEDDING;
use shared::workers::{self, EdgeClient, forwarded, respond};
use worker::{Context, Env, Method, Request, Response, Result, event};

const MAX_BODY: usize = 2 * 1024 * 1024;

#[event(fetch)]
async fn fetch(request: Request, env: Env, ctx: Context) -> Result<Response> {
    shared::workers::RequestLog::start(CREATE_VECTOR_EMBEDDING.name, &request)
        .run(handle_request(request, env, ctx))
        .await
}

/// The request, answered; the entry point above writes its log line.
async fn handle_request(mut request: Request, env: Env, _ctx: Context) -> Result<Response> {
    // Only the site worker's signed requests are answered (shared::auth::internal).
    let caller = match forwarded::verified(&request, &env) {
        Ok(caller) => caller,
        Err(e) => return respond::error(&e),
    };
    if request.path() != "/_functions/createVectorEmbedding" || request.method() != Method::Post {
        return shared::workers::function::other_route(&CREATE_VECTOR_EMBEDDING, &request);
    }
    match create(&mut request, &env, caller).await {
        Ok(done) => respond::json(&done, 201),
        Err(e) => respond::error(&e),
    }
}

async fn create(request: &mut Request, env: &Env, caller: Option<Identity>) -> shared::Result<ingest::Ingested> {
    match caller {
        Some(Identity { admin: true, .. }) => {}
        Some(_) => return Err(Error::Forbidden("Only FHIR IQ staff can add to the knowledge base.".into())),
        None => return Err(Error::Unauthorized("Sign in to continue.".into())),
    }
    let body = workers::request::body(request, MAX_BODY).await?;
    let db = workers::knowledge(env)?;
    let embedder = embeddings::from_env(env)?;
    let vectors = workers::vectors(env, &db);
    ingest::ingest(&db, &EdgeClient::new(env)?, embedder.as_ref(), &vectors, &body).await
}
