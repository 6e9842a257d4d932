//! The content API: lists, enrolment, progress, quizzes, downloads, and staff's editing (Markdown
//! rendered and sanitized once, when a document is stored; the site's pages print the stored HTML).
//! Thin adapters over `shared::content`.

use shared::content::routes::ContentApi;
use shared::content::views::{self, CourseFilter, ToolFilter};
use shared::content::{admin, calendly, enroll, learning};
use shared::time::Clock;
use shared::web::content_pages as render;
use shared::workers::api::{ApiRequest, json, query};
use shared::workers::billing::Billing;
use shared::workers::{self, WorkerClock};
use shared::{Error, Result};
use worker::Response;

/// The content API's dispatcher. The writes' body is read first (JSON, size-limited).
pub async fn api(api: ContentApi, call: &mut ApiRequest<'_>) -> Result<Response> {
    let body = if api.takes_body() { Some(call.body().await?) } else { None };
    let call: &ApiRequest<'_> = call;
    let (request, settings) = (&*call.request, call.settings);
    let env = settings.env();
    let db = workers::database(env)?;
    let now = WorkerClock.now_ms();
    let slug = call.param("slug");
    let read = |body: Option<Vec<u8>>| -> Result<Vec<u8>> {
        body.ok_or_else(|| Error::BadRequest("a JSON body is required".into()))
    };
    if api.needs_seat() {
        enroll::require_active(&db, call.signed_in()?, slug, now).await?;
    }
    match api {
        ContentApi::Tools => {
            let catalog = settings.catalog()?;
            let mut tools = views::tools(&db, &ToolFilter::from_query(|name| query(request, name))).await?;
            for tool in &mut tools {
                tool.plan_label = render::plan_label(catalog, &tool.plan).0;
            }
            json(&tools, 200)
        }
        ContentApi::Courses => {
            json(&views::courses(&db, &CourseFilter::from_query(|name| query(request, name)), now).await?, 200)
        }
        ContentApi::CourseEnroll => {
            let caller = call.signed_in()?;
            // Free courses need no payments configuration; paid ones answer 503 without it.
            let billing = Billing::new(settings)?;
            let stripe = billing.stripe().ok();
            let ctx = stripe.as_ref().map(|stripe| billing.ctx(stripe, now));
            let enrolment = enroll::enroll(&db, ctx.as_ref(), caller, slug, now).await?;
            json(&enrolment, if enrolment.already { 200 } else { 201 })
        }
        ContentApi::CourseProgress => {
            let caller = call.signed_in()?;
            let course = views::course(&db, slug, now).await?;
            let status = enroll::status(&db, &caller.user_id, slug, now).await?;
            let progress = learning::progress(&db, &caller.user_id, slug).await?;
            let bookings = calendly::bookings(&db, &caller.user_id, slug).await?;
            // The live sessions' booking link, for an active seat only.
            let live_sessions = course.calendly_url.filter(|_| status.as_deref() == Some("active"));
            json(
                &serde_json::json!({"enrollment": status, "progress": progress, "bookings": bookings,
                                     "liveSessions": live_sessions,
                                     "name": caller.email.split('@').next(), "email": caller.email}),
                200,
            )
        }
        ContentApi::LessonComplete => {
            let caller = call.signed_in()?;
            json(&learning::complete_lesson(&db, &caller.user_id, slug, call.param("lesson"), now).await?, 200)
        }
        ContentApi::Quiz => {
            let caller = call.signed_in()?;
            json(&learning::view(&db, &caller.user_id, slug, call.param("quiz")).await?, 200)
        }
        ContentApi::QuizAttempt => {
            let caller = call.signed_in()?;
            let submission: learning::Submission = serde_json::from_slice(&read(body)?).map_err(|e| {
                Error::BadRequest(format!("The body must be {{\"answers\": {{\"<question id>\": [choices]}}}}: {e}"))
            })?;
            let scored = learning::submit(&db, &caller.user_id, slug, call.param("quiz"), &submission, now).await?;
            json(&scored, 201)
        }
        ContentApi::CourseResource => {
            let resource = admin::resource(&db, slug, call.param("file")).await?;
            let failed = |e: worker::Error| Error::internal("sending a resource", e);
            let mut response = Response::ok(resource.body).map_err(failed)?;
            let headers = response.headers_mut();
            headers.set("content-type", &resource.media_type).map_err(failed)?;
            headers
                .set("content-disposition", &format!("attachment; filename=\"{}\"", resource.file))
                .map_err(failed)?;
            headers.set("cache-control", "private, no-store").map_err(failed)?;
            Ok(response)
        }
        ContentApi::AdminContentList => json(&admin::list(&db).await?, 200),
        ContentApi::AdminContentGet => json(&admin::get(&db, call.param("kind"), slug).await?, 200),
        ContentApi::AdminContentPut => {
            let input: admin::Save = serde_json::from_slice(&read(body)?).map_err(|e| {
                Error::BadRequest(format!("The body must be {{\"document\": \"...\", \"publish\": true}}: {e}"))
            })?;
            let (saved, created) =
                admin::save(&db, &workers::knowledge(env)?, call.signed_in()?, call.param("kind"), slug, &input, now)
                    .await?;
            json(&saved, if created { 201 } else { 200 })
        }
        ContentApi::AdminContentPublish | ContentApi::AdminContentUnpublish => {
            let publish = api == ContentApi::AdminContentPublish;
            json(
                &admin::publish(
                    &db,
                    &workers::knowledge(env)?,
                    call.signed_in()?,
                    call.param("kind"),
                    slug,
                    publish,
                    now,
                )
                .await?,
                200,
            )
        }
    }
}
