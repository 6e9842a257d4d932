//! What the content pages and the content API read: published entries only, filtered as the original
//! data layer did (tools by category, tag and featured; courses by level and open seats).

use super::seats::seats_taken_since;
use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::{Deserialize, Serialize};
use serde_json::Value;

fn list(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

#[derive(Debug, Clone, Deserialize)]
struct ToolRow {
    slug: String,
    name: String,
    summary: String,
    category: String,
    tags: String,
    featured: i64,
    url: String,
    plan: String,
    demo: Option<String>,
    screenshots: String,
    body_html: String,
    updated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Screenshot {
    pub src: String,
    pub alt: String,
    pub caption: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub category: String,
    pub tags: Vec<String>,
    pub featured: bool,
    pub url: String,
    pub plan: String,
    pub demo: Option<String>,
    pub screenshots: Vec<Screenshot>,
    #[serde(skip)]
    pub body_html: String,
    pub updated_at: i64,
    /// "Free", or "Included in Pro · $49/month" (filled by the page from the billing catalog).
    pub plan_label: String,
}

impl From<ToolRow> for Tool {
    fn from(r: ToolRow) -> Self {
        let shots: Vec<Value> = serde_json::from_str(&r.screenshots).unwrap_or_default();
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Tool {
            tags: list(&r.tags),
            screenshots: shots
                .iter()
                .filter_map(|s| {
                    Some(Screenshot { src: text(s, "src")?, alt: text(s, "alt")?, caption: text(s, "caption") })
                })
                .collect(),
            slug: r.slug,
            name: r.name,
            summary: r.summary,
            category: r.category,
            featured: r.featured == 1,
            url: r.url,
            plan: r.plan,
            demo: r.demo,
            body_html: r.body_html,
            updated_at: r.updated_at,
            plan_label: String::new(),
        }
    }
}

/// `/tools?category=&tag=&featured=1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolFilter {
    pub category: Option<String>,
    pub tag: Option<String>,
    pub featured: bool,
}

impl ToolFilter {
    /// From a request's query (`query(name)`: the parameter, trimmed, absent when empty): the tools
    /// page and `GET /api/tools` read the same parameters.
    pub fn from_query(query: impl Fn(&str) -> Option<String>) -> Self {
        let featured = super::routes::flag(query("featured").as_deref());
        Self { category: query("category"), tag: query("tag"), featured }
    }
}

pub async fn tools(db: &impl Database, filter: &ToolFilter) -> Result<Vec<Tool>> {
    let rows: Vec<ToolRow> = db
        .query(
            Statement::new(
                "SELECT slug, name, summary, category, tags, featured, url, plan, demo, screenshots, body_html, updated_at
                 FROM content_tools
                 WHERE published = 1 AND (?1 IS NULL OR category = ?1)
                   AND (?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(content_tools.tags) WHERE value = ?2))
                   AND (?3 = 0 OR featured = 1)
                 ORDER BY featured DESC, name",
            )
            .bind(filter.category.clone())
            .bind(filter.tag.clone())
            .bind(filter.featured),
        )
        .await?;
    Ok(rows.into_iter().map(Tool::from).collect())
}

pub async fn tool(db: &impl Database, slug: &str) -> Result<Tool> {
    let row: Option<ToolRow> = db
        .query_first(
            Statement::new(
                "SELECT slug, name, summary, category, tags, featured, url, plan, demo, screenshots, body_html, updated_at
                 FROM content_tools WHERE slug = ?1 AND published = 1",
            )
            .bind(slug),
        )
        .await?;
    row.map(Tool::from).ok_or_else(|| Error::NotFound(format!("There is no tool {slug:?}.")))
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Author {
    pub slug: String,
    pub name: String,
    pub title: String,
    pub url: Option<String>,
    #[serde(skip_serializing)]
    pub bio_html: String,
}

pub async fn author(db: &impl Database, slug: &str) -> Result<Option<Author>> {
    db.query_first(
        Statement::new("SELECT slug, name, title, url, bio_html FROM content_authors WHERE slug = ?1").bind(slug),
    )
    .await
}

#[derive(Debug, Clone, Deserialize)]
struct PostRow {
    slug: String,
    title: String,
    summary: String,
    author: String,
    author_name: Option<String>,
    published_on: String,
    updated_on: Option<String>,
    tags: String,
    body_html: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Post {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub author: String,
    pub author_name: String,
    pub published_on: String,
    pub updated_on: Option<String>,
    pub tags: Vec<String>,
    #[serde(skip)]
    pub body_html: String,
}

impl From<PostRow> for Post {
    fn from(r: PostRow) -> Self {
        Post {
            tags: list(&r.tags),
            author_name: r.author_name.unwrap_or_else(|| r.author.clone()),
            slug: r.slug,
            title: r.title,
            summary: r.summary,
            author: r.author,
            published_on: r.published_on,
            updated_on: r.updated_on,
            body_html: r.body_html,
        }
    }
}

/// Published posts, newest first (`tag` narrows them).
pub async fn posts(db: &impl Database, tag: Option<&str>) -> Result<Vec<Post>> {
    let rows: Vec<PostRow> = db
        .query(
            Statement::new(
                "SELECT p.slug, p.title, p.summary, p.author, a.name AS author_name, p.published_on, p.updated_on,
                        p.tags, p.body_html
                 FROM content_posts p LEFT JOIN content_authors a ON a.slug = p.author
                 WHERE p.published = 1
                   AND (?1 IS NULL OR EXISTS (SELECT 1 FROM json_each(p.tags) WHERE value = ?1))
                 ORDER BY p.published_on DESC, p.slug",
            )
            .bind(tag),
        )
        .await?;
    Ok(rows.into_iter().map(Post::from).collect())
}

/// Up to `n` other posts, most shared tags first, then newest.
pub fn related<'a>(post: &Post, all: &'a [Post], n: usize) -> Vec<&'a Post> {
    let mut scored: Vec<(usize, &Post)> = all
        .iter()
        .filter(|p| p.slug != post.slug)
        .map(|p| (p.tags.iter().filter(|t| post.tags.contains(t)).count(), p))
        .filter(|(shared, _)| *shared > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.published_on.cmp(&a.1.published_on)));
    scored.into_iter().take(n).map(|(_, p)| p).collect()
}

#[derive(Debug, Clone, Deserialize)]
struct CourseRow {
    slug: String,
    title: String,
    summary: String,
    level: String,
    instructor: String,
    product: Option<String>,
    capacity: i64,
    seats_left: i64,
    starts_on: String,
    ends_on: String,
    schedule: String,
    workload: String,
    calendly_url: Option<String>,
    resources: String,
    body_html: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResourceLink {
    pub file: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Course {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub level: String,
    pub instructor: String,
    pub product: Option<String>,
    pub capacity: i64,
    pub seats_left: i64,
    pub starts_on: String,
    pub ends_on: String,
    pub schedule: String,
    pub workload: String,
    pub calendly_url: Option<String>,
    pub resources: Vec<ResourceLink>,
    #[serde(skip)]
    pub body_html: String,
}

impl From<CourseRow> for Course {
    fn from(r: CourseRow) -> Self {
        Course {
            resources: serde_json::from_str(&r.resources).unwrap_or_default(),
            seats_left: r.seats_left.max(0),
            slug: r.slug,
            title: r.title,
            summary: r.summary,
            level: r.level,
            instructor: r.instructor,
            product: r.product,
            capacity: r.capacity,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            schedule: r.schedule,
            workload: r.workload,
            calendly_url: r.calendly_url,
            body_html: r.body_html,
        }
    }
}

/// `/courses?level=&open=1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CourseFilter {
    pub level: Option<String>,
    pub open_seats: bool,
}

impl CourseFilter {
    /// From a request's query, as [`ToolFilter::from_query`].
    pub fn from_query(query: impl Fn(&str) -> Option<String>) -> Self {
        Self { level: query("level"), open_seats: super::routes::flag(query("open").as_deref()) }
    }
}

/// Courses with the seats left now (an open checkout's hold counts until it lapses).
pub async fn courses(db: &impl Database, filter: &CourseFilter, now: Millis) -> Result<Vec<Course>> {
    let rows: Vec<CourseRow> = db
        .query(
            Statement::new(
                "SELECT * FROM (
                   SELECT c.slug, c.title, c.summary, c.level, c.instructor, c.product, c.capacity,
                          c.capacity - (SELECT COUNT(*) FROM enrollments e WHERE e.course_slug = c.slug
                              AND (e.status = 'active' OR (e.status = 'reserved' AND e.created_at > ?3))) AS seats_left,
                          c.starts_on, c.ends_on, c.schedule, c.workload, c.calendly_url, c.resources, c.body_html
                   FROM content_courses c WHERE c.published = 1 AND (?1 IS NULL OR c.level = ?1)
                 ) WHERE (?2 = 0 OR seats_left > 0)
                 ORDER BY starts_on, slug",
            )
            .bind(filter.level.clone())
            .bind(filter.open_seats)
            .bind(seats_taken_since(now)),
        )
        .await?;
    Ok(rows.into_iter().map(Course::from).collect())
}

#[derive(Deserialize)]
struct Fingerprint {
    seats: Option<String>,
}

/// The seats taken now, per course (`slug=n,...`), or for one course: part of the cache key of the
/// pages that show seat counts, so a page is rendered again exactly when its counts changed (an
/// enrolment, a payment, a hold that lapsed) and an enrolment never empties the whole page cache.
pub async fn seats_fingerprint(db: &impl Database, course: Option<&str>, now: Millis) -> Result<String> {
    let row: Option<Fingerprint> = db
        .query_first(
            Statement::new(
                "SELECT group_concat(course_slug || '=' || n, ',') AS seats FROM (
                   SELECT course_slug, COUNT(*) AS n FROM enrollments
                   WHERE (?1 IS NULL OR course_slug = ?1)
                     AND (status = 'active' OR (status = 'reserved' AND created_at > ?2))
                   GROUP BY course_slug ORDER BY course_slug)",
            )
            .bind(course)
            .bind(seats_taken_since(now)),
        )
        .await?;
    Ok(row.and_then(|r| r.seats).unwrap_or_default())
}

pub async fn course(db: &impl Database, slug: &str, now: Millis) -> Result<Course> {
    let row: Option<CourseRow> = db
        .query_first(
            Statement::new(
                "SELECT c.slug, c.title, c.summary, c.level, c.instructor, c.product, c.capacity,
                        c.capacity - (SELECT COUNT(*) FROM enrollments e WHERE e.course_slug = c.slug
                            AND (e.status = 'active' OR (e.status = 'reserved' AND e.created_at > ?2))) AS seats_left,
                        c.starts_on, c.ends_on, c.schedule, c.workload, c.calendly_url, c.resources, c.body_html
                 FROM content_courses c WHERE c.slug = ?1 AND c.published = 1",
            )
            .bind(slug)
            .bind(seats_taken_since(now)),
        )
        .await?;
    row.map(Course::from).ok_or_else(|| Error::NotFound(format!("There is no course {slug:?}.")))
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LessonLink {
    pub slug: String,
    pub position: i64,
    pub title: String,
    pub minutes: i64,
}

pub async fn lessons(db: &impl Database, course: &str) -> Result<Vec<LessonLink>> {
    db.query(
        Statement::new(
            "SELECT slug, position, title, minutes FROM content_lessons WHERE course_slug = ?1 ORDER BY position",
        )
        .bind(course),
    )
    .await
}

#[derive(Debug, Clone, Deserialize)]
pub struct Lesson {
    pub slug: String,
    pub position: i64,
    pub title: String,
    pub minutes: i64,
    pub body_html: String,
}

pub async fn lesson(db: &impl Database, course: &str, slug: &str) -> Result<Lesson> {
    let row: Option<Lesson> = db
        .query_first(
            Statement::new(
                "SELECT l.slug, l.position, l.title, l.minutes, l.body_html FROM content_lessons l
                 JOIN content_courses c ON c.slug = l.course_slug AND c.published = 1
                 WHERE l.course_slug = ?1 AND l.slug = ?2",
            )
            .bind(course)
            .bind(slug),
        )
        .await?;
    row.ok_or_else(|| Error::NotFound(format!("There is no lesson {slug:?} in {course:?}.")))
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct QuizLink {
    pub slug: String,
    pub title: String,
    #[serde(deserialize_with = "flag")]
    pub required: bool,
    pub pass_mark: i64,
    pub questions: i64,
}

/// SQLite's 0/1 as a bool.
pub(crate) fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    Ok(i64::deserialize(d)? != 0)
}

pub async fn quizzes(db: &impl Database, course: &str) -> Result<Vec<QuizLink>> {
    db.query(
        Statement::new(
            "SELECT slug, title, required, pass_mark, json_array_length(questions) AS questions
             FROM content_quizzes WHERE course_slug = ?1 ORDER BY required DESC, slug",
        )
        .bind(course),
    )
    .await
}

/// Every published page's path and last change, for the sitemap.
#[derive(Debug, Clone, Deserialize)]
pub struct SitemapRow {
    pub path: String,
    pub updated_at: i64,
}

pub async fn sitemap_rows(db: &impl Database) -> Result<Vec<SitemapRow>> {
    db.query(Statement::new(
        "SELECT '/tools/' || slug AS path, updated_at FROM content_tools WHERE published = 1
         UNION ALL SELECT '/blog/' || slug, updated_at FROM content_posts WHERE published = 1
         UNION ALL SELECT '/courses/' || slug, updated_at FROM content_courses WHERE published = 1
         UNION ALL SELECT '/courses/' || l.course_slug || '/' || l.slug, c.updated_at
             FROM content_lessons l JOIN content_courses c ON c.slug = l.course_slug AND c.published = 1
         ORDER BY 1",
    ))
    .await
}
