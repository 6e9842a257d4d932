//! The accounts API: sign-up, sign-in and sessions, email verification, password resets, staff's
//! plan changes and organisations. Thin adapters from HTTP to `shared::auth`.

use shared::Error;
use shared::auth::service::{self, Ctx, Me};
use shared::auth::session;
use shared::auth::{admin, device, org, staff, verify};
use shared::time::Clock;
use shared::web::routes::AccountsApi;
use shared::workers::api::{ApiRequest, json};
use shared::workers::mail::deliver_later;
use shared::workers::{self, WebCryptoKdf, WorkerClock};
use worker::{Request, Response, Result};

fn with_cookie(mut response: Response, cookie: &str) -> Result<Response> {
    response.headers_mut().set("set-cookie", cookie)?;
    response.headers_mut().set("cache-control", "no-store")?;
    Ok(response)
}

fn session_token(request: &Request, cookie: &session::SessionCookie) -> Option<String> {
    cookie.token(request.headers().get("cookie").ok().flatten().as_deref())
}

pub async fn api(api: AccountsApi, call: &mut ApiRequest<'_>) -> shared::Result<Response> {
    let (env, ctx) = (call.settings.env(), call.ctx);
    let db = workers::database(env)?;
    let now = WorkerClock.now_ms();
    let settings = call.settings;
    let sessions = *settings.sessions()?;
    let cookie = settings.session_cookie()?;
    let ip = call.header("cf-connecting-ip").unwrap_or_else(|| "unknown".into());
    let user_agent = call.header("user-agent");
    let device = device::from_cookie_header(call.header("cookie").as_deref());
    let flow = Ctx {
        db: &db,
        kdf: &WebCryptoKdf,
        now,
        sessions,
        limits: *settings.auth_limits()?,
        ip: &ip,
        device: device.as_deref(),
        user_agent: user_agent.as_deref(),
    };
    let cookie_error = |e: worker::Error| Error::internal("setting the session cookie", e);
    match api {
        AccountsApi::Signup | AccountsApi::Signin => {
            let input: service::Credentials = call.json().await?;
            let (outcome, status) = if api == AccountsApi::Signup {
                (service::signup(&flow, &input, settings.site_url()?).await?, 201)
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
        AccountsApi::Signout => {
            if let Some(token) = session_token(call.request, cookie) {
                service::signout(&db, &token).await?;
            }
            with_cookie(json(&serde_json::json!({"signedOut": true}), 200)?, &cookie.clear()).map_err(cookie_error)
        }
        AccountsApi::SignoutEverywhere => {
            service::signout_everywhere(&db, call.signed_in()?).await?;
            with_cookie(json(&serde_json::json!({"signedOut": true}), 200)?, &cookie.clear()).map_err(cookie_error)
        }
        AccountsApi::State => match &call.caller {
            Some(caller) => {
                let summary = shared::billing::store::summary(&db, &caller.user_id).await?;
                let payment_needed = summary.payment_needed();
                json(
                    &serde_json::json!({"signedIn": true, "email": caller.email, "role": caller.role,
                                         "paymentNeeded": payment_needed}),
                    200,
                )
            }
            None => json(&serde_json::json!({"signedIn": false}), 200),
        },
        AccountsApi::Me => json(&Me::from(call.signed_in()?), 200),
        AccountsApi::Sessions => {
            let token = session_token(call.request, cookie).unwrap_or_default();
            json(&service::sessions(&db, call.signed_in()?, &token, now, &sessions).await?, 200)
        }
        AccountsApi::ChangePassword => {
            let input: service::PasswordChange = call.json().await?;
            let token = session_token(call.request, cookie).unwrap_or_default();
            service::change_password(&flow, call.signed_in()?, &token, &input).await?;
            json(&serde_json::json!({"changed": true, "otherSessionsSignedOut": true}), 200)
        }
        AccountsApi::ResetRequest => {
            #[derive(serde::Deserialize)]
            struct Input {
                email: String,
            }
            let input: Input = call.json().await?;
            if let Some(id) = service::request_reset(&flow, &input.email, settings.site_url()?).await? {
                deliver_later(env, ctx, id);
            }
            json(
                &serde_json::json!({"message": "If an account exists for that email, a reset link is on its way."}),
                202,
            )
        }
        AccountsApi::Reset => {
            let input: service::ResetInput = call.json().await?;
            service::reset(&flow, &input).await?;
            json(&serde_json::json!({"reset": true}), 200)
        }
        AccountsApi::VerifyEmail => {
            let input: verify::ConfirmInput = call.json().await?;
            json(&verify::confirm(&db, &input, now).await?, 200)
        }
        AccountsApi::VerifyEmailResend => {
            let caller = call.signed_in()?;
            let limit = flow.limits.verify_resend_per_account;
            let outbox_id = verify::resend(&db, caller, limit, settings.site_url()?, now).await?;
            deliver_later(env, ctx, outbox_id);
            json(&serde_json::json!({"message": format!("A new link is on its way to {}.", caller.email)}), 202)
        }
        AccountsApi::AdminSubscription => {
            let input: admin::SetSubscription = call.json().await?;
            json(&admin::set_subscription(&db, call.signed_in()?, &input, now).await?, 200)
        }
        AccountsApi::AdminOrder => {
            let input: admin::RecordOrder = call.json().await?;
            json(&admin::record_order(&db, call.signed_in()?, &input, now).await?, 200)
        }
        AccountsApi::AdminUserStaff => {
            let input: staff::SetStaff = call.json().await?;
            staff::set_staff(&db, call.signed_in()?, call.param("id"), &input, now).await?;
            json(&serde_json::json!({ "admin": input.admin }), 200)
        }
        AccountsApi::AdminUserDisable => {
            let input: staff::SetDisabled = call.json().await?;
            staff::set_disabled(&db, call.signed_in()?, call.param("id"), &input, now).await?;
            workers::log::info("account.disabled", &format!("{} {}", call.param("id"), input.disabled));
            json(&serde_json::json!({ "disabled": input.disabled }), 200)
        }
        AccountsApi::AdminUserResend => {
            let input: staff::Resend = call.json().await?;
            let site_url = settings.site_url()?;
            let outbox_id = staff::resend(&db, call.signed_in()?, call.param("id"), &input, site_url, now).await?;
            deliver_later(env, ctx, outbox_id);
            json(&serde_json::json!({ "sent": input.kind }), 200)
        }
        AccountsApi::Org => json(&org::view(&db, call.signed_in()?, now).await?, 200),
        AccountsApi::OrgInvite => {
            let input: org::Invite = call.json().await?;
            let limits = settings.org_limits()?;
            let invitation = org::invite(&db, call.signed_in()?, &input, now, settings.site_url()?, limits).await?;
            deliver_later(env, ctx, invitation.outbox_id.clone());
            json(&invitation, 201)
        }
        AccountsApi::OrgRemoveMember => {
            let user_id = call.param("userId");
            org::remove(&db, call.signed_in()?, user_id, now).await?;
            json(&serde_json::json!({"removed": true}), 200)
        }
        AccountsApi::OrgAccept => {
            let input: org::Accept = call.json().await?;
            let caller = call.signed_in()?;
            org::accept(&db, caller, &input, now).await?;
            let refreshed = service::reload(&db, &caller.user_id).await?;
            json(&Me::from(&refreshed), 200)
        }
    }
}
