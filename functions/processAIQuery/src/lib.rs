//! `POST /_functions/processAIQuery`: the FHIR assistant. A thin adapter over `shared::assistant`:
//! the caller comes from the site worker (authorized there and again here for the assistant), the
//! answer is JSON, or server-sent events with `Accept: text/event-stream`.
#![cfg(target_arch = "wasm32")]

use shared::assistant::request::Ask;
use shared::assistant::service::{self, Asker, Ctx};
use shared::settings::Settings;
use shared::web::routes::PROCESS_AI_QUERY;
use shared::workers::function::{self, Call};
use shared::workers::{self, EdgeClient, WorkerClock};
use worker::{Context, Env, Response};

mod stream;

/// Questions and histories larger than this are refused before parsing.
const MAX_BODY: usize = 256 * 1024;

shared::function_worker!(PROCESS_AI_QUERY, MAX_BODY, |call, env, ctx| answer(call, &env, &ctx));

async fn answer(call: Call, env: &Env, worker_ctx: &Context) -> shared::Result<Response> {
    let caller = call.signed_in()?;
    let ask = Ask::parse(&call.body)?;
    let settings = Settings::new(env);
    let (ai, quotas) = (settings.ai()?, *settings.quotas()?);
    let asker = Asker { user_id: caller.user_id.clone(), role: caller.role };
    if call.header("accept").is_some_and(|accept| accept.contains("text/event-stream")) {
        return stream::answer(&settings, worker_ctx, ai.clone(), quotas, asker, ask).await;
    }
    let (db, kb) = (workers::database(env)?, workers::knowledge(env)?);
    let embedder = settings.embedder()?;
    let vectors = workers::vectors(env, &kb);
    let http = EdgeClient::new(env)?;
    let ctx = Ctx {
        db: &db,
        kb: &kb,
        http: &http,
        clock: &WorkerClock,
        ai,
        quotas: &quotas,
        embedder: embedder.as_ref(),
        vectors: &vectors,
    };
    let (answer, failures) = service::ask(&ctx, &asker, &ask).await?;
    for failure in failures {
        workers::log::warn("assistant.provider_fallback", &failure.to_string());
    }
    function::json(&answer, 200)
}
