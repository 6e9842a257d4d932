//! The JSON API of the platform, reached only through the site worker's service binding: accounts,
//! billing, content, search and analytics (`/api/*`; the Builder's is `generateFHIRCode`'s), and the
//! analytics events queue's consumer. The site routes and authorizes each request, then signs the
//! caller; `shared::workers::api::serve` verifies that, authorizes again against the same route table
//! and hands the route to [`dispatch`]. Each domain's adapter matches its own enum exhaustively, so a
//! route added to the table and not answered here fails to compile.
#![cfg(target_arch = "wasm32")]

mod accounts;
mod analytics;
mod billing;
mod content;
mod search;

use shared::web::routes::{Api, PLATFORM_API};
use shared::workers::api::ApiRequest;
use worker::{Context, Env, Response};
use worker_macros::event;

shared::api_worker!(PLATFORM_API, dispatch);

async fn dispatch(api: Api, call: &mut ApiRequest<'_>) -> shared::Result<Response> {
    match api {
        Api::Accounts(api) => accounts::api(api, call).await,
        Api::Billing(api) => billing::api(api, call).await,
        Api::Search => search::api(call).await,
        Api::Content(api) => content::api(api, call).await,
        Api::Analytics(api) => analytics::api(api, call).await,
        Api::Builder(_) => Err(shared::Error::NotFound("The Builder's API is the generateFHIRCode function's.".into())),
    }
}

/// The events queue and its dead-letter queue (see `analytics::consume`).
#[event(queue)]
async fn queue(batch: worker::MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> worker::Result<()> {
    analytics::consume(batch, &env).await;
    Ok(())
}
