//! Content pages: from KV when the content generation has not moved, else rendered
//! from D1 (whose HTML was sanitized when it was stored) and kept, with `X-Cache: HIT|MISS`. The
//! content API, staff's writes included, is the `platformApi` function's. Thin adapters over
//! `shared::content` and `shared::web::content_pages`.

use shared::content::routes::{ContentPage, Seats};
use shared::content::views::{self, CourseFilter, ToolFilter};
use shared::content::{cache, store};
use shared::settings::Settings;
use shared::time::Clock;
use shared::web::content_pages as render;
use shared::web::routes::param;
use shared::web::seo;
use shared::workers::api::query;
use shared::workers::{self, WorkerClock, respond};
use shared::{Error, Result};
use worker::{Env, Request, Response};

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
            let filter = ToolFilter::from_query(|name| query(request, name));
            let mut tools = views::tools(&db, &filter).await?;
            render::tools_page(site, catalog()?, &mut tools, &filter)?
        }
        ContentPage::Tool => match views::tool(&db, slug).await {
            Ok(tool) => render::tool_page(site, catalog()?, &tool)?,
            Err(e) => return missing(e),
        },
        ContentPage::Courses => {
            let filter = CourseFilter::from_query(|name| query(request, name));
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
        Ok(None) => return crate::reference::not_found(request),
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
    respond::html(render::admin_page(), "private, no-store")
}
