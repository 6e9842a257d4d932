//! `generateFHIRCode`, as the original design named it: the FHIR Builder's API (`/api/builder/*`:
//! options, preview, generation, the ZIP) and the GitHub account it pushes with (OAuth connect,
//! callback, status, disconnect), reached only through the site worker's service binding. The
//! generator and the ZIP writer live here, not in the site. Thin adapters over `shared::builder`
//! and `shared::github`; the push itself is the `createGitHubRepo` function.
#![cfg(target_arch = "wasm32")]

use shared::Error;
use shared::builder::service;
use shared::github::oauth;
use shared::time::Clock;
use shared::web::routes::{Api, BuilderApi, GENERATE_FHIR_CODE, Target};
use shared::workers::api::{ApiRequest, json, redirect};
use shared::workers::{self, FetchClient, WebCrypto, WorkerClock};
use worker::Response;

shared::api_worker!(GENERATE_FHIR_CODE, dispatch);

async fn dispatch(target: Target, call: &mut ApiRequest<'_>) -> shared::Result<Response> {
    match target {
        Target::Api(Api::Builder(api)) => builder(api, call).await,
        _ => Err(Error::NotFound("Only the Builder's API is generateFHIRCode's.".into())),
    }
}

async fn builder(api: BuilderApi, call: &mut ApiRequest<'_>) -> shared::Result<Response> {
    let env = call.settings.env();
    let db = workers::database(env)?;
    let now = WorkerClock.now_ms();
    match api {
        BuilderApi::Options => json(&service::options(), 200),
        BuilderApi::Preview => {
            let input: shared::builder::spec::GenerateRequest = call.json().await?;
            json(&service::preview(&input)?, 200)
        }
        BuilderApi::Generate => {
            let input: shared::builder::spec::GenerateRequest = call.json().await?;
            let caller = call.signed_in()?;
            let limit = call.settings.builder_limits()?.generations_per_day;
            json(&service::generate(&db, &caller.user_id, &input, now, limit).await?, 201)
        }
        BuilderApi::Zip => {
            let file = call.param("file");
            let id = service::zip_id(file)?;
            let (name, bytes) = service::zip(&db, id, &call.signed_in()?.user_id).await?;
            let failed = |e: worker::Error| Error::internal("sending the ZIP", e);
            let mut response = Response::from_bytes(bytes).map_err(failed)?;
            let headers = response.headers_mut();
            headers.set("content-type", "application/zip").map_err(failed)?;
            headers.set("content-disposition", &format!("attachment; filename=\"{name}\"")).map_err(failed)?;
            headers.set("cache-control", "private, no-store").map_err(failed)?;
            Ok(response)
        }
        BuilderApi::GithubConnect => {
            let config = call.settings.github_oauth()?;
            let url = oauth::begin(&db, config, &call.signed_in()?.user_id, call.settings.site_url()?, now).await?;
            redirect(&url)
        }
        BuilderApi::GithubCallback => {
            let url = call.request.url().map_err(|e| Error::BadRequest(format!("bad URL: {e}")))?;
            let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
            let callback = oauth::Callback {
                code: param("code").ok_or_else(|| Error::BadRequest("GitHub sent no code".into()))?,
                state: param("state").ok_or_else(|| Error::BadRequest("GitHub sent no state".into()))?,
            };
            let config = call.settings.github_oauth()?;
            let user_id = call.signed_in()?.user_id.clone();
            oauth::complete(
                &db,
                &FetchClient,
                &oauth::OAuth { config, crypto: &WebCrypto },
                &user_id,
                &callback,
                call.settings.site_url()?,
                now,
            )
            .await?;
            redirect("/tools/fhir-builder?github=connected")
        }
        BuilderApi::GithubAccount => {
            let login = oauth::connected_login(&db, &call.signed_in()?.user_id).await?;
            json(&serde_json::json!({"connected": login.is_some(), "login": login}), 200)
        }
        BuilderApi::GithubDisconnect => {
            shared::storage::Database::execute(&db, oauth::disconnect(&call.signed_in()?.user_id)).await?;
            json(&serde_json::json!({"connected": false}), 200)
        }
    }
}
