//! The support desk's API: a user's own requests and replies, and staff's answers. Thin adapters
//! over `shared::support`; a priority request's Slack alert is posted after the answer.

use shared::Result;
use shared::auth::rate_limit;
use shared::storage::Database;
use shared::support::{self, NewMessage, NewRequest, Parsed, StaffReply};
use shared::time::Clock;
use shared::web::routes::SupportApi;
use shared::workers::api::{ApiRequest, json};
use shared::workers::billing::notify_staff_later;
use shared::workers::{self, WorkerClock, log};
use worker::Response;

/// The support API's dispatcher.
pub async fn api(api: SupportApi, call: &mut ApiRequest<'_>) -> Result<Response> {
    let db = workers::database(call.env())?;
    let now = WorkerClock.now_ms();
    match api {
        SupportApi::List => {
            let requests = support::mine(&db, &call.signed_in()?.user_id).await?;
            json(&serde_json::json!({ "requests": requests }), 200)
        }
        SupportApi::Open => {
            let input: NewRequest = call.json().await?;
            let caller = call.signed_in()?;
            let request = Parsed::new(input, caller)?;
            if let Some(link) = &request.link {
                support::check_link(&db, &caller.user_id, link).await?;
            }
            let limit = *call.settings.support_limit()?;
            rate_limit::hit(&db, &rate_limit::key("support", &caller.user_id), limit, now).await?;
            let (opened, statements) = support::open(caller, &request, call.settings.site_url()?, now)?;
            db.batch(statements).await?;
            log::info("support.opened", &format!("{} {} {}", opened.id, opened.priority, request.category));
            if opened.first_response_due.is_some() {
                notify_staff_later(call.ctx, call.env());
            }
            json(&opened, 201)
        }
        SupportApi::Reply => {
            let input: NewMessage = call.json().await?;
            let caller = call.signed_in()?;
            let limit = *call.settings.support_limit()?;
            rate_limit::hit(&db, &rate_limit::key("support", &caller.user_id), limit, now).await?;
            support::user_reply(&db, caller, call.param("id"), input, now).await?;
            json(&serde_json::json!({ "status": "open" }), 201)
        }
        SupportApi::StaffReply => {
            let input: StaffReply = call.json().await?;
            let staff = call.signed_in()?;
            let id = call.param("id").to_owned();
            let outbox_id = support::staff_reply(&db, staff, &id, input, call.settings.site_url()?, now).await?;
            log::info("support.answered", &id);
            // The reply's email goes out now rather than at the next cron run.
            workers::mail::deliver_later(call.env(), call.ctx, outbox_id);
            json(&serde_json::json!({ "replied": true }), 201)
        }
    }
}
