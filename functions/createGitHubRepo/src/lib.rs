//! `POST /_functions/createGitHubRepo {repoName, description, private?, generationId, owner?}`: a
//! Builder generation pushed to a new repository, in one commit. The caller comes from the site worker,
//! authorized there and again here against the same route (a verified account with
//! `create_github_repos`). A thin adapter over `shared::github`.
#![cfg(target_arch = "wasm32")]

use shared::Error;
use shared::builder::{project, store};
use shared::github::client::GitHub;
use shared::github::oauth::OAuth;
use shared::github::repo::{Owner, Push, PushInput, PushRequest};
use shared::settings::Settings;
use shared::time::Clock;
use shared::web::routes::CREATE_GITHUB_REPO;
use shared::workers::function::{self, Call};
use shared::workers::{self, FetchClient, WebCrypto, WorkerClock};
use worker::{Env, Response};

const MAX_BODY: usize = 16 * 1024;

shared::function_worker!(CREATE_GITHUB_REPO, MAX_BODY, |call, env, _ctx| create(call, &env));

async fn create(call: Call, env: &Env) -> shared::Result<Response> {
    let user_id = &call.signed_in()?.user_id;
    let input: PushInput = serde_json::from_slice(&call.body)
        .map_err(|e| Error::BadRequest(format!("The body is not the JSON this endpoint takes: {e}")))?;
    let input = PushRequest::parse(input)?;
    let settings = Settings::new(env);
    let db = workers::database(env)?;
    let (_, files, spec) = store::generation(&db, &input.generation_id, user_id).await?;
    let config = settings.github()?;
    let cache = workers::cache(env)?;
    let github = GitHub { http: &FetchClient, cache: &cache, crypto: &WebCrypto, config, now_ms: WorkerClock.now_ms() };
    let as_user = if input.owner == Owner::User {
        let oauth = settings.github_oauth()?;
        Some(
            shared::github::oauth::user_token(
                &db,
                &FetchClient,
                &OAuth { config: oauth, crypto: &WebCrypto },
                user_id,
                WorkerClock.now_ms(),
            )
            .await?,
        )
    } else {
        None
    };
    let pushes_per_day = settings.builder_limits()?.pushes_per_day;
    let push = Push { db: &db, github: &github, clock: &WorkerClock, retry_delay_ms: 500, as_user, pushes_per_day };
    let pushed =
        push.run(user_id, &input, &files, spec.use_case.title(), &project::deployment_instructions(&spec)).await?;
    function::json(&pushed, 201)
}
