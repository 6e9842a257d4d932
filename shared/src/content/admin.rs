//! The admin's content API: list, read, create or edit (the same document format as the files, so
//! one validator and one sanitizer serve both), publish and unpublish. Every write re-indexes the
//! knowledge base's copy of content and bumps the cache generation in the same atomic batch.
//! Staff only: the route declares `Admin`, and [`require_staff`] checks again here.

use super::model;
use super::store::{self, Source};
use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::events::{self, EventType};
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const KINDS: [&str; 4] = ["tools", "posts", "courses", "authors"];

fn require_staff(caller: &Caller) -> Result<()> {
    if caller.admin { Ok(()) } else { Err(Error::Forbidden("Content editing is for FHIR IQ staff.".into())) }
}

fn kind(raw: &str) -> Result<&'static str> {
    KINDS
        .into_iter()
        .find(|k| *k == raw)
        .ok_or_else(|| Error::NotFound(format!("There is no content kind {raw:?}; use {}.", KINDS.join(", "))))
}

#[derive(Debug, Deserialize, Serialize)]
pub struct Entry {
    pub slug: String,
    pub title: String,
    pub published: Option<i64>,
    pub source: String,
    pub updated_at: i64,
}

#[derive(Debug, Serialize)]
pub struct Listing {
    pub tools: Vec<Entry>,
    pub posts: Vec<Entry>,
    pub courses: Vec<Entry>,
    pub authors: Vec<Entry>,
}

pub async fn list(db: &impl Database) -> Result<Listing> {
    Ok(Listing {
        tools: db
            .query(Statement::new(
                "SELECT slug, name AS title, published, source, updated_at FROM content_tools ORDER BY slug",
            ))
            .await?,
        posts: db
            .query(Statement::new(
                "SELECT slug, title, published, source, updated_at FROM content_posts ORDER BY published_on DESC",
            ))
            .await?,
        courses: db
            .query(Statement::new(
                "SELECT slug, title, published, source, updated_at FROM content_courses ORDER BY slug",
            ))
            .await?,
        authors: db
            .query(Statement::new(
                "SELECT slug, name AS title, NULL AS published, source, updated_at FROM content_authors ORDER BY slug",
            ))
            .await?,
    })
}

#[derive(Debug, Deserialize, Serialize)]
pub struct Document {
    pub kind: String,
    pub slug: String,
    pub document: String,
    pub published: Option<i64>,
    pub source: String,
}

pub async fn get(db: &impl Database, kind_raw: &str, slug: &str) -> Result<Document> {
    let kind = kind(kind_raw)?;
    let statement = match kind {
        "tools" => Statement::new(
            "SELECT 'tools' AS kind, slug, document, published, source FROM content_tools WHERE slug = ?1",
        ),
        "posts" => Statement::new(
            "SELECT 'posts' AS kind, slug, document, published, source FROM content_posts WHERE slug = ?1",
        ),
        "courses" => Statement::new(
            "SELECT 'courses' AS kind, slug, document, published, source FROM content_courses WHERE slug = ?1",
        ),
        _ => Statement::new(
            "SELECT 'authors' AS kind, slug, document, NULL AS published, source FROM content_authors WHERE slug = ?1",
        ),
    };
    db.query_first(statement.bind(slug))
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no {kind} entry {slug:?}.")))
}

/// `PUT /api/admin/content/{kind}/{slug}`: `{document, publish?}`. A new entry starts unpublished
/// unless `publish` is true; an edit keeps its state unless `publish` says otherwise.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Save {
    pub document: String,
    pub publish: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct Saved {
    pub kind: &'static str,
    pub slug: String,
    pub published: bool,
    pub url: String,
}

async fn exists(db: &impl Database, sql: &'static str, slug: &str) -> Result<bool> {
    Ok(db.query_first::<serde_json::Value>(Statement::new(sql).bind(slug)).await?.is_some())
}

async fn author_exists(db: &impl Database, slug: &str) -> Result<bool> {
    exists(db, "SELECT slug FROM content_authors WHERE slug = ?1", slug).await
}

fn url(kind: &str, slug: &str) -> String {
    match kind {
        "tools" => format!("/tools/{slug}"),
        "posts" => format!("/blog/{slug}"),
        "courses" => format!("/courses/{slug}"),
        _ => "/blog".to_owned(),
    }
}

fn publish_statement(kind: &str, slug: &str, publish: bool, now: Millis) -> Option<Statement> {
    let sql = match kind {
        "tools" => "UPDATE content_tools SET published = ?2, updated_at = ?3 WHERE slug = ?1",
        "posts" => "UPDATE content_posts SET published = ?2, updated_at = ?3 WHERE slug = ?1",
        "courses" => "UPDATE content_courses SET published = ?2, updated_at = ?3 WHERE slug = ?1",
        _ => return None,
    };
    Some(Statement::new(sql).bind(slug).bind(publish).bind(now))
}

/// Validates and sanitizes the document, stores it, and answers whether it was created.
pub async fn save(
    db: &impl Database,
    kb: &impl Database,
    caller: &Caller,
    kind_raw: &str,
    slug: &str,
    input: &Save,
    now: Millis,
) -> Result<(Saved, bool)> {
    require_staff(caller)?;
    let kind = kind(kind_raw)?;
    let named = |e: Error| match e {
        Error::Unprocessable(m) => Error::Unprocessable(format!("{kind}/{slug}: {m}")),
        other => other,
    };
    let existing = get(db, kind, slug).await.ok();
    let created = existing.is_none();
    let published = input.publish.unwrap_or_else(|| existing.as_ref().and_then(|e| e.published).unwrap_or(0) == 1);
    let write = match kind {
        "tools" => {
            store::upsert_tool(&model::tool(slug, &input.document).map_err(named)?, Source::Admin, published, now)
        }
        "posts" => {
            let post = model::post(slug, &input.document).map_err(named)?;
            if !author_exists(db, &post.front.author).await? {
                return Err(named(Error::Unprocessable(format!("author: no author {:?}", post.front.author))));
            }
            store::upsert_post(&post, Source::Admin, published, now)
        }
        "courses" => {
            let course = model::course(slug, &input.document).map_err(named)?;
            if !author_exists(db, &course.front.instructor).await? {
                return Err(named(Error::Unprocessable(format!(
                    "instructor: no author {:?}",
                    course.front.instructor
                ))));
            }
            store::upsert_course(&course, Source::Admin, published, now)
        }
        _ => store::upsert_author(&model::author(slug, &input.document).map_err(named)?, Source::Admin, now),
    };
    let mut statements = vec![write];
    statements.extend(publish_statement(kind, slug, published, now));
    statements.push(store::bump_generation());
    statements.push(events::statement(
        Some(&caller.user_id),
        &EventType::parse("content.saved")?,
        &json!({"kind": kind, "slug": slug, "created": created, "published": published}),
        now,
    )?);
    db.batch(statements).await?;
    store::reindex_knowledge(db, kb).await?;
    Ok((Saved { kind, slug: slug.to_owned(), published, url: url(kind, slug) }, created))
}

pub async fn publish(
    db: &impl Database,
    kb: &impl Database,
    caller: &Caller,
    kind_raw: &str,
    slug: &str,
    publish: bool,
    now: Millis,
) -> Result<Saved> {
    require_staff(caller)?;
    let kind = kind(kind_raw)?;
    get(db, kind, slug).await?;
    let statement = publish_statement(kind, slug, publish, now)
        .ok_or_else(|| Error::Unprocessable("authors are not published or unpublished".into()))?;
    let mut statements = vec![statement];
    statements.push(store::bump_generation());
    statements.push(events::statement(
        Some(&caller.user_id),
        &EventType::parse(if publish { "content.published" } else { "content.unpublished" })?,
        &json!({"kind": kind, "slug": slug}),
        now,
    )?);
    db.batch(statements).await?;
    store::reindex_knowledge(db, kb).await?;
    Ok(Saved { kind, slug: slug.to_owned(), published: publish, url: url(kind, slug) })
}

#[derive(Debug, Deserialize)]
pub struct Resource {
    pub file: String,
    pub media_type: String,
    pub body: String,
}

/// A course resource of a published course.
pub async fn resource(db: &impl Database, course: &str, file: &str) -> Result<Resource> {
    db.query_first(
        Statement::new(
            "SELECT r.file, r.media_type, r.body FROM content_resources r
             JOIN content_courses c ON c.slug = r.course_slug AND c.published = 1
             WHERE r.course_slug = ?1 AND r.file = ?2",
        )
        .bind(course)
        .bind(file),
    )
    .await?
    .ok_or_else(|| Error::NotFound(format!("There is no resource {file:?} in {course:?}.")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::content::enroll::tests::db_with_course;
    use crate::content::views;
    use futures::executor::block_on;

    fn staff(admin: bool) -> Caller {
        Caller {
            user_id: "u1".into(),
            email: "u1@example.org".into(),
            role: Role::Free,
            admin,
            org_id: None,
            org_owner: false,
            verified: true,
        }
    }

    const POST: &str = "+++\ntitle = \"Hello\"\nsummary = \"A post written through the admin API.\"\nauthor = \"maya\"\n\
        published = \"2026-11-01\"\ntags = [\"search\"]\n+++\nHi <script>alert(1)</script><img src=x onerror=alert(2)>";

    #[test]
    fn staff_create_sanitized_posts_that_appear_only_once_published() {
        let db = db_with_course();
        let input = Save { document: POST.into(), publish: None };
        assert_eq!(
            block_on(save(&db, &db, &staff(false), "posts", "hello", &input, 1)).expect_err("not staff").status_code(),
            403
        );
        let (saved, created) = block_on(save(&db, &db, &staff(true), "posts", "hello", &input, 1)).expect("saved");
        assert!(created && !saved.published);
        let visible = |db| block_on(views::posts(db, None)).expect("posts").into_iter().any(|p| p.slug == "hello");
        assert!(!visible(&db), "a new entry starts unpublished");
        block_on(publish(&db, &db, &staff(true), "posts", "hello", true, 2)).expect("published");
        let posts = block_on(views::posts(&db, None)).expect("posts");
        let post = posts.iter().find(|p| p.slug == "hello").expect("visible once published");
        assert!(!post.body_html.contains("<script") && !post.body_html.contains("onerror"), "{}", post.body_html);
        block_on(publish(&db, &db, &staff(true), "posts", "hello", false, 3)).expect("unpublished");
        assert!(!visible(&db));
    }

    #[test]
    fn invalid_documents_name_the_entry_and_field() {
        let db = db_with_course();
        let bad = Save { document: POST.replace("author = \"maya\"", "author = \"ghost\""), publish: Some(true) };
        let error = block_on(save(&db, &db, &staff(true), "posts", "hello", &bad, 1)).expect_err("unknown author");
        assert_eq!(error.status_code(), 422);
        assert!(error.to_string().starts_with("posts/hello: author"), "{error}");
        let unknown = block_on(save(&db, &db, &staff(true), "widgets", "x", &bad, 1)).expect_err("kind");
        assert_eq!(unknown.status_code(), 404);
    }
}
