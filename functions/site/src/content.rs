//! Content in the site worker: the pages (from KV when the content generation has not moved, else
//! rendered from D1 and stored), `X-Cache: HIT|MISS`, and the content API (lists,
//! enrolment, progress, quizzes, downloads, the admin's editing). Thin adapters over
//! `shared::content` and `shared::web::content_pages`.

use crate::api::{ApiRequest, json, query};
use shared::content::routes::{self, ContentApi, ContentPage, Seats};
use shared::content::views::{self, CourseFilter, ToolFilter};
use shared::content::{admin, cache, calendly, enroll, learning, store};
use shared::settings::Settings;
use shared::time::Clock;
use shared::web::content_pages as render;
use shared::web::routes::param;
use shared::web::seo;
use shared::workers::billing::Billing;
use shared::workers::{self, WorkerClock, respond};
use shared::{Error, Result};
use worker::{Env, Request, Response};

fn flag(request: &Request, name: &str) -> bool {
    routes::flag(query(request, name).as_deref())
}

fn tool_filter(request: &Request) -> ToolFilter {
    ToolFilter { category: query(request, "category"), tag: query(request, "tag"), featured: flag(request, "featured") }
}

fn course_filter(request: &Request) -> CourseFilter {
    CourseFilter { level: query(request, "level"), open_seats: flag(request, "open") }
}

/// A rendered page, or `None` for a missing entry (the 404 page).
async fn render(
    page: ContentPage,
    request: &Request,
    settings: &Settings<'_, Env>,
    params: &[(&'static str, String)],
) -> Result<Option<String>> {
    let db = workers::database(settings.env())?;
    let site = settings.site_url()?;
    let now = WorkerClock.now_ms();
    let missing = |e: Error| if e.status_code() == 404 { Ok(None) } else { Err(e) };
    let catalog = || settings.catalog();
    let slug = param(params, "slug");
    let html = match page {
        ContentPage::Tools => {
            let filter = tool_filter(request);
            let mut tools = views::tools(&db, &filter).await?;
            render::tools_page(site, catalog()?, &mut tools, &filter)?
        }
        ContentPage::Tool => match views::tool(&db, slug).await {
            Ok(tool) => render::tool_page(site, catalog()?, &tool)?,
            Err(e) => return missing(e),
        },
        ContentPage::Courses => {
            let filter = course_filter(request);
            render::courses_page(site, catalog()?, views::courses(&db, &filter, now).await?, &filter)?
        }
        ContentPage::Course => match views::course(&db, slug, now).await {
            Ok(course) => {
                let lessons = views::lessons(&db, slug).await?;
                let quizzes = views::quizzes(&db, slug).await?;
                let instructor = views::author(&db, &course.instructor).await?;
                render::course_page(site, catalog()?, &course, &lessons, &quizzes, instructor.as_ref())?
            }
            Err(e) => return missing(e),
        },
        ContentPage::Lesson => {
            let course = match views::course(&db, slug, now).await {
                Ok(course) => course,
                Err(e) => return missing(e),
            };
            match views::lesson(&db, slug, param(params, "lesson")).await {
                Ok(lesson) => render::lesson_page(site, &course, &lesson, &views::lessons(&db, slug).await?)?,
                Err(e) => return missing(e),
            }
        }
        ContentPage::Quiz => {
            let course = match views::course(&db, slug, now).await {
                Ok(course) => course,
                Err(e) => return missing(e),
            };
            let quizzes = views::quizzes(&db, slug).await?;
            match quizzes.iter().find(|q| q.slug == param(params, "quiz")) {
                Some(quiz) => render::quiz_page(site, &course, quiz)?,
                None => return Ok(None),
            }
        }
        ContentPage::Blog => {
            let tag = query(request, "tag");
            render::blog_page(site, &views::posts(&db, tag.as_deref()).await?, tag.as_deref())?
        }
        ContentPage::Post => {
            let posts = views::posts(&db, None).await?;
            let Some(post) = posts.iter().find(|p| p.slug == slug) else { return Ok(None) };
            let author = views::author(&db, &post.author).await?;
            render::post_page(site, post, author.as_ref(), &views::related(post, &posts, 3))?
        }
        ContentPage::Feed => render::feed(site, &views::posts(&db, None).await?)?,
        ContentPage::Sitemap => render::sitemap(site, &views::sitemap_rows(&db).await?)?,
        ContentPage::Robots => seo::robots(site),
    };
    Ok(Some(html))
}

pub async fn page(
    page: ContentPage,
    request: &Request,
    settings: &Settings<'_, Env>,
    params: &[(&'static str, String)],
) -> worker::Result<Response> {
    let env = settings.env();
    let outcome = async {
        let db = workers::database(env)?;
        let kv = workers::cache(env)?;
        let generation = store::generation(&db).await?;
        // Pages that show seat counts are cached per count, not invalidated by every enrolment.
        let now = WorkerClock.now_ms();
        let seats = match page.seats() {
            Seats::AllCourses => Some(views::seats_fingerprint(&db, None, now).await?),
            Seats::OneCourse => Some(views::seats_fingerprint(&db, Some(param(params, "slug")), now).await?),
            Seats::None => None,
        };
        let path = page.cache_path(&request.path(), |name| query(request, name));
        let key = match seats {
            Some(seats) => cache::key(generation, &format!("{path}#seats={seats}")),
            None => cache::key(generation, &path),
        };
        let ttl = page.ttl_seconds();
        // A missing entry is not cached: it renders as the 404 page, and publishing it bumps the generation.
        let rendered = cache::page(&kv, &key, ttl, async {
            render(page, request, settings, params).await?.ok_or_else(|| Error::NotFound("no such entry".into()))
        })
        .await;
        match rendered {
            Ok(done) => Ok(Some(done)),
            Err(e) if e.status_code() == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }
    .await;
    let (html, hit, kv_error) = match outcome {
        Ok(Some(done)) => done,
        Ok(None) => return crate::reference::not_found(request, env).await,
        Err(e) => return respond::error(&e),
    };
    if let Some(e) = kv_error {
        shared::workers::log::error(&e);
    }
    let mut response = Response::ok(html)?;
    let headers = response.headers_mut();
    headers.set("content-type", page.content_type())?;
    headers.set("x-cache", if hit { "HIT" } else { "MISS" })?;
    headers.set("cache-control", page.cache_control())?;
    Ok(response)
}

/// The admin's page (no cache: it is an editor).
pub fn admin_page() -> worker::Result<Response> {
    match render::admin_page() {
        Ok(html) => {
            let mut response = Response::from_html(html)?;
            response.headers_mut().set("cache-control", "private, no-store")?;
            Ok(response)
        }
        Err(e) => respond::error(&e),
    }
}

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
            let mut tools = views::tools(&db, &tool_filter(request)).await?;
            for tool in &mut tools {
                tool.plan_label = render::plan_label(catalog, &tool.plan).0;
            }
            json(&tools, 200)
        }
        ContentApi::Courses => json(&views::courses(&db, &course_filter(request), now).await?, 200),
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
