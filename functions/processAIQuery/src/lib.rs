//! `POST /_functions/processAIQuery`: the FHIR assistant. A thin adapter over `shared::assistant`:
//! the caller comes from the site worker (already authorized for the assistant), the answer is JSON,
//! or server-sent events with `Accept: text/event-stream`.
#![cfg(target_arch = "wasm32")]

use shared::Error;
use shared::assistant::providers::AiConfig;
use shared::assistant::quota::Quotas;
use shared::assistant::request::Ask;
use shared::assistant::service::{self, Asker, Ctx};
use shared::auth::internal::Identity;
use shared::web::routes::PROCESS_AI_QUERY;
use shared::workers::{self, EdgeClient, WorkerClock, forwarded, respond};
use worker::{Context, Env, Method, Request, Response, Result, event};

mod stream;

/// Questions and histories larger than this are refused before parsing.
const MAX_BODY: usize = 256 * 1024;

#[event(fetch)]
async fn fetch(request: Request, env: Env, ctx: Context) -> Result<Response> {
    shared::workers::RequestLog::start(PROCESS_AI_QUERY.name, &request).run(handle_request(request, env, ctx)).await
}

/// The request, answered; the entry point above writes its log line.
async fn handle_request(mut request: Request, env: Env, ctx: Context) -> Result<Response> {
    // Only the site worker's signed requests are answered (shared::auth::internal).
    let caller = match forwarded::verified(&request, &env) {
        Ok(caller) => caller,
        Err(e) => return respond::error(&e),
    };
    if request.path() != "/_functions/processAIQuery" || request.method() != Method::Post {
        return shared::workers::function::other_route(&PROCESS_AI_QUERY, &request);
    }
    match answer(&mut request, &env, &ctx, caller).await {
        Ok(response) => Ok(response),
        Err(e) => respond::error(&e),
    }
}

async fn answer(
    request: &mut Request,
    env: &Env,
    worker_ctx: &Context,
    caller: Option<Identity>,
) -> shared::Result<Response> {
    let Identity { user_id, role, .. } =
        caller.ok_or_else(|| Error::Unauthorized("Sign in to ask the assistant.".into()))?;
    let body = workers::request::body(request, MAX_BODY).await?;
    let ask = Ask::parse(&body)?;
    let ai = AiConfig::from_env(env)?;
    let quotas = Quotas::from_env(env)?;
    let asker = Asker { user_id, role };
    let wants_stream =
        request.headers().get("accept").ok().flatten().is_some_and(|accept| accept.contains("text/event-stream"));
    if wants_stream {
        return stream::answer(env, worker_ctx, ai, quotas, asker, ask).await;
    }
    let (db, kb) = (workers::database(env)?, workers::knowledge(env)?);
    let embedder = shared::knowledge::embeddings::from_env(env)?;
    let vectors = workers::vectors(env, &kb);
    let http = EdgeClient::new(env)?;
    let ctx = Ctx {
        db: &db,
        kb: &kb,
        http: &http,
        clock: &WorkerClock,
        ai: &ai,
        quotas: &quotas,
        embedder: embedder.as_ref(),
        vectors: &vectors,
    };
    let (answer, failures) = service::ask(&ctx, &asker, &ask).await?;
    for failure in failures {
        shared::workers::log::warn("assistant.provider_fallback", &failure.to_string());
    }
    respond::json(&answer, 200).map_err(|e| Error::internal("writing the answer", e))
}
