//! The JSON API of the platform, reached only through the site worker's service binding: accounts,
//! billing, content, search, analytics and the support desk (`/api/*`; the Builder's is
//! `generateFHIRCode`'s), and the analytics events queue's consumer. The site routes and authorizes
//! each request, then signs the caller; `shared::workers::api::serve` verifies that, authorizes again
//! against the same route table and hands the route to [`dispatch`]. Each domain's adapter matches its
//! own enum exhaustively, so a route added to the table and not answered here fails to compile.
#![cfg(target_arch = "wasm32")]

mod accounts;
mod analytics;
mod billing;
mod content;
mod search;
mod support;

use shared::web::routes::{Api, PLATFORM_API, Target};
use shared::workers::api::ApiRequest;
use worker::{Context, Env, Response};
use worker_macros::event;

shared::api_worker!(PLATFORM_API, dispatch);

async fn dispatch(target: Target, call: &mut ApiRequest<'_>) -> shared::Result<Response> {
    match target {
        Target::Api(Api::Accounts(api)) => accounts::api(api, call).await,
        Target::Api(Api::Billing(api)) => billing::api(api, call).await,
        Target::Api(Api::Search) => search::api(call).await,
        Target::Api(Api::Content(api)) => content::api(api, call).await,
        Target::Api(Api::Analytics(api)) => analytics::api(api, call).await,
        Target::Api(Api::Support(api)) => support::api(api, call).await,
        // Never routed here (routes::Target::host); answered as the 404 it would be.
        _ => Err(shared::Error::NotFound("platformApi hosts the JSON API but the Builder's.".into())),
    }
}

/// The events queue and its dead-letter queue (see `analytics::consume`).
#[event(queue)]
async fn queue(batch: worker::MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> worker::Result<()> {
    analytics::consume(batch, &env).await;
    Ok(())
}
