//! `POST /_functions/createGitHubRepo {repoName, description, private?, generationId}`: a Builder
//! generation pushed to a new repository in the platform's GitHub organisation, in one commit. The
//! caller comes from the site worker (already authorized for `create_github_repos`); the permission
//! is checked again here. A thin adapter over `shared::github`.
#![cfg(target_arch = "wasm32")]

use shared::Error;
use shared::auth::Permission;
use shared::auth::internal::Identity;
use shared::builder::{project, store};
use shared::github::client::{GitHub, GitHubConfig};
use shared::github::repo::{Owner, Push, PushInput, PushRequest};
use shared::time::Clock;
use shared::web::routes::CREATE_GITHUB_REPO;
use shared::workers::{self, FetchClient, WorkerClock, forwarded, respond};
use worker::{Context, Env, Method, Request, Response, Result, event};

const MAX_BODY: usize = 16 * 1024;

#[event(fetch)]
async fn fetch(request: Request, env: Env, ctx: Context) -> Result<Response> {
    shared::workers::RequestLog::start(CREATE_GITHUB_REPO.name, &request).run(handle_request(request, env, ctx)).await
}

/// The request, answered; the entry point above writes its log line.
async fn handle_request(mut request: Request, env: Env, _ctx: Context) -> Result<Response> {
    // Only the site worker's signed requests are answered (shared::auth::internal).
    let caller = match forwarded::verified(&request, &env) {
        Ok(caller) => caller,
        Err(e) => return respond::error(&e),
    };
    if request.path() != "/_functions/createGitHubRepo" || request.method() != Method::Post {
        return shared::workers::function::other_route(&CREATE_GITHUB_REPO, &request);
    }
    match create(&mut request, &env, caller).await {
        Ok(pushed) => respond::json(&pushed, 201),
        Err(e) => respond::error(&e),
    }
}

async fn create(
    request: &mut Request,
    env: &Env,
    caller: Option<Identity>,
) -> shared::Result<shared::github::repo::Pushed> {
    let Identity { user_id, role, .. } = caller.ok_or_else(|| Error::Unauthorized("Sign in to continue.".into()))?;
    if !role.has(Permission::CreateGithubRepos) {
        return Err(Error::Forbidden("Pushing to GitHub needs the Pro plan.".into()));
    }
    let body = workers::request::body(request, MAX_BODY).await?;
    let input: PushInput = serde_json::from_slice(&body)
        .map_err(|e| Error::BadRequest(format!("The body is not the JSON this endpoint takes: {e}")))?;
    let input = PushRequest::parse(input)?;
    let db = workers::database(env)?;
    let (_, files, spec) = store::generation(&db, &input.generation_id, &user_id).await?;
    let config = GitHubConfig::from_env(env)?;
    let cache = workers::cache(env)?;
    let github = GitHub { http: &FetchClient, cache: &cache, config: &config, now_ms: WorkerClock.now_ms() };
    let as_user = if input.owner == Owner::User {
        let oauth = shared::github::oauth::OAuthConfig::from_env(env)?;
        Some(shared::github::oauth::user_token(&db, &FetchClient, &oauth, &user_id, WorkerClock.now_ms()).await?)
    } else {
        None
    };
    let pushes_per_day = shared::usage::BuilderLimits::from_env(env)?.pushes_per_day;
    let push = Push { db: &db, github: &github, clock: &WorkerClock, retry_delay_ms: 500, as_user, pushes_per_day };
    push.run(&user_id, &input, &files, spec.use_case.title(), &project::deployment_instructions(&spec)).await
}
