//! The accounts API: thin adapters from HTTP to `shared::auth`. Bodies are JSON (at most 64 KiB);
//! the caller comes from the session cookie, already authorized by the route's declared access.

use shared::Error;
use shared::auth::rate_limit::AuthLimits;
use shared::auth::service::{self, Ctx, Me};
use shared::auth::session::{self, SessionConfig};
use shared::auth::{Caller, admin, device, org, verify};
use shared::config;
use shared::mail::{self, EmailConfig, Mailer, OutgoingEmail, ResendMailer};
use shared::time::Clock;
use shared::web::routes::Api;
use shared::workers::{self, FetchClient, WebCryptoKdf, WorkerClock, respond};
use worker::{Context, Env, Request, Response, Result};

const MAX_BODY: usize = 64 * 1024;

pub async fn handle(
    api: Api,
    mut request: Request,
    env: &Env,
    ctx: Option<&Context>,
    caller: Option<Caller>,
    params: Vec<(&'static str, String)>,
) -> Result<Response> {
    let outcome = run(api, &mut request, env, ctx, caller, params).await;
    match outcome {
        Ok(response) => Ok(response),
        Err(e) => respond::error(&e),
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(request: &mut Request) -> shared::Result<T> {
    let bytes = read_body(request).await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::BadRequest(format!("The body is not the JSON this endpoint takes: {e}")))
}

/// The body's bytes, at most 64 KiB: 413 as soon as more arrive, read chunk by chunk.
async fn read_body(request: &mut Request) -> shared::Result<Vec<u8>> {
    workers::request::body(request, MAX_BODY).await
}

fn signed_in(caller: Option<Caller>) -> shared::Result<Caller> {
    caller.ok_or_else(|| Error::Unauthorized("Sign in to continue.".into()))
}

fn with_cookie(mut response: Response, cookie: &str) -> Result<Response> {
    response.headers_mut().set("set-cookie", cookie)?;
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}

/// A 302 to `location` (OAuth hops).
fn redirect(location: &str) -> shared::Result<Response> {
    let failed = |e: worker::Error| Error::internal("redirecting", e);
    let mut response = Response::empty().map_err(failed)?.with_status(302);
    response.headers_mut().set("location", location).map_err(failed)?;
    response.headers_mut().set("cache-control", "no-store").map_err(failed)?;
    Ok(response)
}

pub(crate) fn json(value: &impl serde::Serialize, status: u16) -> shared::Result<Response> {
    respond::json(value, status).map_err(|e| Error::internal("writing a response", e))
}

/// A query parameter, trimmed; absent when empty.
pub(crate) fn query(request: &Request, name: &str) -> Option<String> {
    let url = request.url().ok()?;
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn session_token(request: &Request, cookie: &session::SessionCookie) -> Option<String> {
    cookie.token(request.headers().get("cookie").ok().flatten().as_deref())
}

async fn run(
    api: Api,
    request: &mut Request,
    env: &Env,
    ctx: Option<&Context>,
    caller: Option<Caller>,
    params: Vec<(&'static str, String)>,
) -> shared::Result<Response> {
    let db = workers::database(env)?;
    let now = WorkerClock.now_ms();
    let sessions = SessionConfig::from_env(env)?;
    let cookie = session::SessionCookie::from_env(env)?;
    let ip = request.headers().get("cf-connecting-ip").ok().flatten().unwrap_or_else(|| "unknown".into());
    let user_agent = request.headers().get("user-agent").ok().flatten();
    let device = device::from_cookie_header(request.headers().get("cookie").ok().flatten().as_deref());
    let flow = Ctx {
        db: &db,
        kdf: &WebCryptoKdf,
        now,
        sessions,
        limits: AuthLimits::from_env(env)?,
        ip: &ip,
        device: device.as_deref(),
        user_agent: user_agent.as_deref(),
    };
    let cookie_error = |e: worker::Error| Error::internal("setting the session cookie", e);
    match api {
        Api::Signup | Api::Signin => {
            let input: service::Credentials = read_json(request).await?;
            let (outcome, status) = if api == Api::Signup {
                (service::signup(&flow, &input, &config::site_url(env)?).await?, 201)
            } else {
                (service::signin(&flow, &input).await?, 200)
            };
            // `next` only if it is one of our pages: the browser goes wherever this answers.
            let mut body = serde_json::to_value(&outcome.me).map_err(|e| Error::internal("writing the answer", e))?;
            if let Some(next) = input.next.as_deref().and_then(shared::web::routes::safe_next) {
                body["next"] = serde_json::Value::String(next);
            }
            let mut response = with_cookie(json(&body, status)?, &cookie.set(&outcome.token, outcome.max_age_ms))
                .map_err(cookie_error)?;
            if let Some(token) = &outcome.device {
                response.headers_mut().append("set-cookie", &device::set_cookie(token)).map_err(cookie_error)?;
            }
            if let Some(outbox_id) = outcome.verification_email {
                deliver_later(env, ctx, outbox_id);
            }
            Ok(response)
        }
        Api::Signout => {
            if let Some(token) = session_token(request, &cookie) {
                service::signout(&db, &token).await?;
            }
            with_cookie(json(&serde_json::json!({"signedOut": true}), 200)?, &cookie.clear()).map_err(cookie_error)
        }
        Api::SignoutEverywhere => {
            service::signout_everywhere(&db, &signed_in(caller)?).await?;
            with_cookie(json(&serde_json::json!({"signedOut": true}), 200)?, &cookie.clear()).map_err(cookie_error)
        }
        Api::State => match caller {
            Some(caller) => {
                let summary = shared::billing::store::summary(&db, &caller.user_id).await?;
                let payment_needed = summary.subscription.is_some_and(|s| s.payment_needed);
                json(
                    &serde_json::json!({"signedIn": true, "email": caller.email, "role": caller.role,
                                         "paymentNeeded": payment_needed}),
                    200,
                )
            }
            None => json(&serde_json::json!({"signedIn": false}), 200),
        },
        Api::Me => json(&Me::from(&signed_in(caller)?), 200),
        Api::Sessions => {
            let token = session_token(request, &cookie).unwrap_or_default();
            json(&service::sessions(&db, &signed_in(caller)?, &token, now, &sessions).await?, 200)
        }
        Api::ChangePassword => {
            let input: service::PasswordChange = read_json(request).await?;
            let token = session_token(request, &cookie).unwrap_or_default();
            service::change_password(&flow, &signed_in(caller)?, &token, &input).await?;
            json(&serde_json::json!({"changed": true, "otherSessionsSignedOut": true}), 200)
        }
        Api::ResetRequest => {
            #[derive(serde::Deserialize)]
            struct Input {
                email: String,
            }
            let input: Input = read_json(request).await?;
            if let Some(id) = service::request_reset(&flow, &input.email, &config::site_url(env)?).await? {
                deliver_later(env, ctx, id);
            }
            json(
                &serde_json::json!({"message": "If an account exists for that email, a reset link is on its way."}),
                202,
            )
        }
        Api::Reset => {
            let input: service::ResetInput = read_json(request).await?;
            service::reset(&flow, &input).await?;
            json(&serde_json::json!({"reset": true}), 200)
        }
        Api::VerifyEmail => {
            let input: verify::ConfirmInput = read_json(request).await?;
            json(&verify::confirm(&db, &input, now).await?, 200)
        }
        Api::VerifyEmailResend => {
            let caller = signed_in(caller)?;
            let limit = flow.limits.verify_resend_per_account;
            let outbox_id = verify::resend(&db, &caller, limit, &config::site_url(env)?, now).await?;
            deliver_later(env, ctx, outbox_id);
            json(&serde_json::json!({"message": format!("A new link is on its way to {}.", caller.email)}), 202)
        }
        Api::AdminSubscription => {
            let input: admin::SetSubscription = read_json(request).await?;
            json(&admin::set_subscription(&db, &signed_in(caller)?, &input, now).await?, 200)
        }
        Api::AdminOrder => {
            let input: admin::RecordOrder = read_json(request).await?;
            json(&admin::record_order(&db, &signed_in(caller)?, &input, now).await?, 200)
        }
        Api::Org => json(&org::view(&db, &signed_in(caller)?, now).await?, 200),
        Api::OrgInvite => {
            let input: org::Invite = read_json(request).await?;
            let limits = org::OrgLimits::from_env(env)?;
            let invitation =
                org::invite(&db, &signed_in(caller)?, &input, now, &config::site_url(env)?, &limits).await?;
            deliver_later(env, ctx, invitation.outbox_id.clone());
            json(&invitation, 201)
        }
        Api::OrgRemoveMember => {
            let user_id =
                params.iter().find(|(name, _)| *name == "userId").map(|(_, v)| v.as_str()).unwrap_or_default();
            org::remove(&db, &signed_in(caller)?, user_id, now).await?;
            json(&serde_json::json!({"removed": true}), 200)
        }
        Api::Search => {
            let url = request.url().map_err(|e| Error::BadRequest(format!("bad URL: {e}")))?;
            let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
            let (q, k) = shared::knowledge::search::parse_request(param("q").as_deref(), param("k").as_deref())?;
            let embedder = shared::knowledge::embeddings::from_env(env)?;
            let kb = shared::workers::knowledge(env)?;
            let vectors = shared::workers::vectors(env, &kb);
            let http = shared::workers::EdgeClient::new(env)?;
            json(&shared::knowledge::search::hybrid(&kb, &http, embedder.as_ref(), &vectors, &q, k).await?, 200)
        }
        Api::BillingPlans => json(&crate::billing::plans(env)?, 200),
        Api::Billing => json(&crate::billing::summary(env, &signed_in(caller)?).await?, 200),
        Api::BillingCheckout => {
            let input: shared::billing::checkout::CheckoutInput = read_json(request).await?;
            json(&crate::billing::redirect(env, &signed_in(caller)?, Some(&input)).await?, 200)
        }
        Api::BillingPortal => json(&crate::billing::redirect(env, &signed_in(caller)?, None).await?, 200),
        Api::ContactSales => {
            let input: shared::billing::sales::InquiryInput = read_json(request).await?;
            let inquiry = shared::billing::sales::Inquiry::parse(input)?;
            json(&crate::billing::contact_sales(env, ctx, caller.as_ref(), &ip, &inquiry).await?, 201)
        }
        Api::BuilderOptions => json(&shared::builder::service::options(), 200),
        Api::BuilderPreview => {
            let input: shared::builder::spec::GenerateRequest = read_json(request).await?;
            json(&shared::builder::service::preview(&input)?, 200)
        }
        Api::BuilderGenerate => {
            let input: shared::builder::spec::GenerateRequest = read_json(request).await?;
            let caller = signed_in(caller)?;
            let limit = shared::usage::BuilderLimits::from_env(env)?.generations_per_day;
            json(&shared::builder::service::generate(&db, &caller.user_id, &input, now, limit).await?, 201)
        }
        Api::BuilderZip => {
            let file = params.iter().find(|(name, _)| *name == "file").map(|(_, v)| v.as_str()).unwrap_or_default();
            let id = shared::builder::service::zip_id(file)?;
            let (name, bytes) = shared::builder::service::zip(&db, id, &signed_in(caller)?.user_id).await?;
            let failed = |e: worker::Error| Error::internal("sending the ZIP", e);
            let mut response = Response::from_bytes(bytes).map_err(failed)?;
            let headers = response.headers_mut();
            headers.set("content-type", "application/zip").map_err(failed)?;
            headers.set("content-disposition", &format!("attachment; filename=\"{name}\"")).map_err(failed)?;
            headers.set("cache-control", "private, no-store").map_err(failed)?;
            Ok(response)
        }
        Api::GithubConnect => {
            let config = shared::github::oauth::OAuthConfig::from_env(env)?;
            let url =
                shared::github::oauth::begin(&db, &config, &signed_in(caller)?.user_id, &config::site_url(env)?, now)
                    .await?;
            redirect(&url)
        }
        Api::GithubCallback => {
            let url = request.url().map_err(|e| Error::BadRequest(format!("bad URL: {e}")))?;
            let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
            let callback = shared::github::oauth::Callback {
                code: param("code").ok_or_else(|| Error::BadRequest("GitHub sent no code".into()))?,
                state: param("state").ok_or_else(|| Error::BadRequest("GitHub sent no state".into()))?,
            };
            let config = shared::github::oauth::OAuthConfig::from_env(env)?;
            let user_id = signed_in(caller)?.user_id;
            shared::github::oauth::complete(
                &db,
                &FetchClient,
                &config,
                &user_id,
                &callback,
                &config::site_url(env)?,
                now,
            )
            .await?;
            redirect("/tools/fhir-builder?github=connected")
        }
        Api::GithubAccount => {
            let login = shared::github::oauth::connected_login(&db, &signed_in(caller)?.user_id).await?;
            json(&serde_json::json!({"connected": login.is_some(), "login": login}), 200)
        }
        Api::GithubDisconnect => {
            shared::storage::Database::execute(&db, shared::github::oauth::disconnect(&signed_in(caller)?.user_id))
                .await?;
            json(&serde_json::json!({"connected": false}), 200)
        }
        Api::Content(content) => {
            let body = if content.takes_body() { Some(read_body(request).await?) } else { None };
            crate::content::api(content, request, env, caller.as_ref(), &params, body).await
        }
        Api::Events => {
            let body = read_body(request).await?;
            crate::analytics::events(request, env, caller.as_ref(), &body).await
        }
        Api::AnalyticsReport => {
            let name = params.iter().find(|(k, _)| *k == "report").map(|(_, v)| v.as_str()).unwrap_or_default();
            crate::analytics::report(request, env, caller.as_ref(), name).await
        }
        Api::AnalyticsFunnels => crate::analytics::funnels(env, caller.as_ref()).await,
        Api::AnalyticsConfig => crate::analytics::third_party(env),
        Api::AnalyticsFunnel => {
            let id = params.iter().find(|(k, _)| *k == "id").map(|(_, v)| v.as_str()).unwrap_or_default();
            crate::analytics::funnel(request, env, caller.as_ref(), id).await
        }
        Api::OrgAccept => {
            let input: org::Accept = read_json(request).await?;
            let caller = signed_in(caller)?;
            org::accept(&db, &caller, &input, now).await?;
            let refreshed = service::reload(&db, &caller.user_id).await?;
            json(&Me::from(&refreshed), 200)
        }
    }
}

/// Delivers one queued email after the response is sent (so its timing tells nothing), or from the
/// monitor's next run if there is no request context.
fn deliver_later(env: &Env, ctx: Option<&Context>, outbox_id: String) {
    let Some(ctx) = ctx else { return };
    let env = env.clone();
    ctx.wait_until(async move {
        if let Err(e) = deliver(&env, Some(&outbox_id)).await {
            shared::workers::log::error(&e);
        }
    });
}

/// Delivers pending email through the configured provider, or to the log without one.
pub async fn deliver(env: &Env, only_id: Option<&str>) -> shared::Result<mail::DeliverySummary> {
    let db = workers::database(env)?;
    let config = EmailConfig::from_env(env)?;
    let now = WorkerClock.now_ms();
    match &config.api_key {
        Some(key) => {
            let mailer =
                ResendMailer { base_url: &config.api_base, api_key: key, from: &config.from, http: &FetchClient };
            mail::deliver_pending(&db, &mailer, now, only_id).await
        }
        None => mail::deliver_pending(&db, &LogMailer, now, only_id).await,
    }
}

/// Development without an email provider: the message goes to the wrangler log, link included.
struct LogMailer;

impl Mailer for LogMailer {
    async fn send(&self, email: &OutgoingEmail) -> shared::Result<()> {
        worker::console_log!(
            "EMAIL (no EMAIL_API_KEY set) to {}: {}\n{}",
            email.to_email,
            email.subject,
            email.body_text
        );
        Ok(())
    }
}
