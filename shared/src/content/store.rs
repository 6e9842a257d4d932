//! Content in D1, written: the statements that store entries (the same for the sync and the admin API),
//! the cache generation, and the knowledge-base index of content. What the pages and the API read is
//! in `views`.

use super::bundle::{Bundle, CourseBundle};
use super::model::{Author, Course, Post, Tool};
use crate::error::Result;
use crate::knowledge::chunk::{Chunk, Kind};
use crate::knowledge::search::index_statements;
use crate::storage::{Database, Statement, json_list};
use crate::time::Millis;
use serde::Deserialize;
use serde_json::json;

/// Who writes an entry. The sync leaves entries the admin API created alone, and does not overwrite
/// an admin's edit of a file entry until the file itself changes (its hash differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    File,
    Admin,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Admin => "admin",
        }
    }
}

/// `file_hash` for a file entry; none for the admin's.
fn file_hash(source: Source, hash: &str) -> Option<String> {
    (source == Source::File).then(|| hash.to_owned())
}

// Each upsert: ?1 is the writer ('file' or 'admin'). A file write updates only a file entry whose
// file changed; an admin write updates any entry and keeps its source, file_hash and published flag.
pub fn upsert_author(a: &Author, source: Source, now: Millis) -> Statement {
    Statement::new(
        "INSERT INTO content_authors (slug, name, title, url, bio_html, document, source, file_hash, updated_at)
         VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?1, ?8, ?9)
         ON CONFLICT (slug) DO UPDATE SET name = excluded.name, title = excluded.title, url = excluded.url,
             bio_html = excluded.bio_html, document = excluded.document, updated_at = excluded.updated_at,
             file_hash = CASE WHEN ?1 = 'admin' THEN content_authors.file_hash ELSE excluded.file_hash END
         WHERE ?1 = 'admin' OR (content_authors.source = 'file' AND content_authors.file_hash IS NOT excluded.file_hash)",
    )
    .bind(source.as_str())
    .bind(a.slug.as_str())
    .bind(a.front.name.as_str())
    .bind(a.front.title.as_str())
    .bind(a.front.url.clone())
    .bind(a.bio.html.as_str())
    .bind(a.bio.document.as_str())
    .bind(file_hash(source, &a.bio.hash))
    .bind(now)
}

pub fn upsert_tool(t: &Tool, source: Source, published: bool, now: Millis) -> Statement {
    let f = &t.front;
    Statement::new(
        "INSERT INTO content_tools (slug, name, summary, category, tags, featured, url, plan, demo, screenshots,
             body_html, body_text, published, document, source, file_hash, updated_at)
         VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?1, ?16, ?17)
         ON CONFLICT (slug) DO UPDATE SET name = excluded.name, summary = excluded.summary,
             category = excluded.category, tags = excluded.tags, featured = excluded.featured, url = excluded.url,
             plan = excluded.plan, demo = excluded.demo, screenshots = excluded.screenshots,
             body_html = excluded.body_html, body_text = excluded.body_text, document = excluded.document,
             updated_at = excluded.updated_at,
             published = CASE WHEN ?1 = 'admin' THEN content_tools.published ELSE excluded.published END,
             file_hash = CASE WHEN ?1 = 'admin' THEN content_tools.file_hash ELSE excluded.file_hash END
         WHERE ?1 = 'admin' OR (content_tools.source = 'file' AND content_tools.file_hash IS NOT excluded.file_hash)",
    )
    .bind(source.as_str())
    .bind(t.slug.as_str())
    .bind(f.name.as_str())
    .bind(f.summary.as_str())
    .bind(f.category.as_str())
    .bind(json!(f.tags).to_string())
    .bind(f.featured)
    .bind(f.url.as_str())
    .bind(f.plan.as_str())
    .bind(f.demo.clone())
    .bind(json!(f.screenshots).to_string())
    .bind(t.body.html.as_str())
    .bind(t.body.text.as_str())
    .bind(published)
    .bind(t.body.document.as_str())
    .bind(file_hash(source, &t.body.hash))
    .bind(now)
}

pub fn upsert_post(p: &Post, source: Source, published: bool, now: Millis) -> Statement {
    let f = &p.front;
    Statement::new(
        "INSERT INTO content_posts (slug, title, summary, author, published_on, updated_on, tags, body_html, body_text,
             published, document, source, file_hash, updated_at)
         VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?1, ?13, ?14)
         ON CONFLICT (slug) DO UPDATE SET title = excluded.title, summary = excluded.summary,
             author = excluded.author, published_on = excluded.published_on, updated_on = excluded.updated_on,
             tags = excluded.tags, body_html = excluded.body_html, body_text = excluded.body_text,
             document = excluded.document, updated_at = excluded.updated_at,
             published = CASE WHEN ?1 = 'admin' THEN content_posts.published ELSE excluded.published END,
             file_hash = CASE WHEN ?1 = 'admin' THEN content_posts.file_hash ELSE excluded.file_hash END
         WHERE ?1 = 'admin' OR (content_posts.source = 'file' AND content_posts.file_hash IS NOT excluded.file_hash)",
    )
    .bind(source.as_str())
    .bind(p.slug.as_str())
    .bind(f.title.as_str())
    .bind(f.summary.as_str())
    .bind(f.author.as_str())
    .bind(f.published.as_str())
    .bind(f.updated.clone())
    .bind(json!(f.tags).to_string())
    .bind(p.body.html.as_str())
    .bind(p.body.text.as_str())
    .bind(published)
    .bind(p.body.document.as_str())
    .bind(file_hash(source, &p.body.hash))
    .bind(now)
}

pub fn upsert_course(c: &Course, source: Source, published: bool, now: Millis) -> Statement {
    let f = &c.front;
    Statement::new(
        "INSERT INTO content_courses (slug, title, summary, level, instructor, product, capacity, starts_on, ends_on,
             schedule, workload, calendly_url, resources, body_html, body_text, published, document, source,
             file_hash, updated_at)
         VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?1, ?19, ?20)
         ON CONFLICT (slug) DO UPDATE SET title = excluded.title, summary = excluded.summary,
             level = excluded.level, instructor = excluded.instructor, product = excluded.product,
             capacity = excluded.capacity, starts_on = excluded.starts_on, ends_on = excluded.ends_on,
             schedule = excluded.schedule, workload = excluded.workload, calendly_url = excluded.calendly_url,
             resources = excluded.resources, body_html = excluded.body_html, body_text = excluded.body_text,
             document = excluded.document, updated_at = excluded.updated_at,
             published = CASE WHEN ?1 = 'admin' THEN content_courses.published ELSE excluded.published END,
             file_hash = CASE WHEN ?1 = 'admin' THEN content_courses.file_hash ELSE excluded.file_hash END
         WHERE ?1 = 'admin' OR (content_courses.source = 'file' AND content_courses.file_hash IS NOT excluded.file_hash)",
    )
    .bind(source.as_str())
    .bind(c.slug.as_str())
    .bind(f.title.as_str())
    .bind(f.summary.as_str())
    .bind(f.level.as_str())
    .bind(f.instructor.as_str())
    .bind(f.product.clone())
    .bind(i64::from(f.capacity))
    .bind(f.starts.as_str())
    .bind(f.ends.as_str())
    .bind(f.schedule.as_str())
    .bind(f.workload.as_str())
    .bind(f.calendly_url.clone())
    .bind(json!(f.resources).to_string())
    .bind(c.body.html.as_str())
    .bind(c.body.text.as_str())
    .bind(published)
    .bind(c.body.document.as_str())
    .bind(file_hash(source, &c.body.hash))
    .bind(now)
}

/// A file course's lessons, quizzes and resources, replaced as a whole (only files define them).
fn course_parts(c: &CourseBundle) -> Vec<Statement> {
    let slug = c.course.slug.as_str();
    let mut out = vec![
        Statement::new("DELETE FROM content_lessons WHERE course_slug = ?1").bind(slug),
        Statement::new("DELETE FROM content_quizzes WHERE course_slug = ?1").bind(slug),
        Statement::new("DELETE FROM content_resources WHERE course_slug = ?1").bind(slug),
    ];
    for l in &c.lessons {
        out.push(
            Statement::new(
                "INSERT INTO content_lessons (course_slug, slug, position, title, minutes, body_html, body_text)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .bind(slug)
            .bind(l.slug.as_str())
            .bind(i64::from(l.position))
            .bind(l.front.title.as_str())
            .bind(i64::from(l.front.minutes))
            .bind(l.body.html.as_str())
            .bind(l.body.text.as_str()),
        );
    }
    for q in &c.quizzes {
        out.push(
            Statement::new(
                "INSERT INTO content_quizzes (course_slug, slug, title, pass_mark, required, intro_html, questions)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .bind(slug)
            .bind(q.slug.as_str())
            .bind(q.front.title.as_str())
            .bind(i64::from(q.front.pass_mark))
            .bind(q.front.required)
            .bind(q.intro_html.as_str())
            .bind(json!(q.front.questions).to_string()),
        );
    }
    for r in &c.resources {
        out.push(
            Statement::new(
                "INSERT INTO content_resources (course_slug, file, title, media_type, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(slug)
            .bind(r.file.as_str())
            .bind(r.title.as_str())
            .bind(r.media_type)
            .bind(r.body.as_str()),
        );
    }
    out
}

/// Every change to content ends with this: cached pages of the old generation are never read again.
pub fn bump_generation() -> Statement {
    Statement::new("UPDATE content_meta SET generation = generation + 1 WHERE id = 1")
}

/// Published content as knowledge-base passages (a few hundred rows), read from the database of
/// record, so the assistant cites what the site shows. Chunk ids start `site:`; BM25 finds them at once.
pub const SITE_CHUNKS_SQL: &str = "
SELECT 'site:tool:' || slug AS id, name AS title, summary || char(10) || body_text AS body,
       'tool ' || category || ' ' || coalesce((SELECT group_concat(value, ' ') FROM json_each(tags)), '') AS terms,
       '/tools/' || slug AS url, 0 AS position
FROM content_tools WHERE published = 1
UNION ALL
SELECT 'site:post:' || slug, title, summary || char(10) || body_text,
       'blog post ' || coalesce((SELECT group_concat(value, ' ') FROM json_each(tags)), ''),
       '/blog/' || slug, 0
FROM content_posts WHERE published = 1
UNION ALL
SELECT 'site:course:' || slug, title, summary || char(10) || body_text, 'course ' || level, '/courses/' || slug, 0
FROM content_courses WHERE published = 1
UNION ALL
SELECT 'site:lesson:' || l.course_slug || '/' || l.slug, c.title || ': ' || l.title, l.body_text,
       'course lesson ' || c.level, '/courses/' || l.course_slug || '/' || l.slug, l.position
FROM content_lessons l JOIN content_courses c ON c.slug = l.course_slug AND c.published = 1";

/// One row of [`SITE_CHUNKS_SQL`].
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SiteChunk {
    pub id: String,
    pub title: String,
    pub body: String,
    pub terms: String,
    pub url: String,
    pub position: u32,
}

/// The knowledge base's `site:` passages replaced by `chunks`, in one batch for the KB database.
pub fn site_chunk_statements(chunks: &[SiteChunk]) -> Vec<Statement> {
    let mut out = vec![
        Statement::new("DELETE FROM kb_fts WHERE id LIKE 'site:%'"),
        Statement::new("DELETE FROM kb_chunks WHERE id LIKE 'site:%'"),
    ];
    for c in chunks {
        out.extend(index_statements(&Chunk {
            id: c.id.clone(),
            kind: Kind::Content,
            resource: None,
            element: None,
            title: c.title.clone(),
            body: c.body.clone(),
            terms: c.terms.clone(),
            url: c.url.clone(),
            maturity: 0,
            position: c.position,
        }));
    }
    out
}

/// Rebuilds the knowledge base's copy of published content after a change. Two databases, so two
/// steps: if the second fails, the content change stands and the next change (or `make content`)
/// reindexes; the assistant meanwhile cites the previous copy.
pub async fn reindex_knowledge(db: &impl Database, kb: &impl Database) -> Result<usize> {
    let chunks: Vec<SiteChunk> = db.query(Statement::new(SITE_CHUNKS_SQL)).await?;
    kb.batch(site_chunk_statements(&chunks)).await?;
    Ok(chunks.len())
}

/// Everything the sync runs, in one atomic batch: the entries, the removal of file entries whose
/// files are gone, and a new cache generation. The knowledge base's copy follows with
/// [`reindex_knowledge`] (another database).
pub fn sync_statements(bundle: &Bundle, now: Millis) -> Vec<Statement> {
    let mut out = Vec::new();
    for a in &bundle.authors {
        out.push(upsert_author(a, Source::File, now));
    }
    for t in &bundle.tools {
        out.push(upsert_tool(t, Source::File, !t.front.draft, now));
    }
    for p in &bundle.posts {
        out.push(upsert_post(p, Source::File, !p.front.draft, now));
    }
    for c in &bundle.courses {
        out.push(upsert_course(&c.course, Source::File, !c.course.front.draft, now));
        out.extend(course_parts(c));
    }
    let removals: [(&'static str, String); 4] = [
        (
            "DELETE FROM content_authors WHERE source = 'file' AND slug NOT IN (SELECT value FROM json_each(?1))",
            json_list(bundle.authors.iter().map(|a| a.slug.as_str())),
        ),
        (
            "DELETE FROM content_tools WHERE source = 'file' AND slug NOT IN (SELECT value FROM json_each(?1))",
            json_list(bundle.tools.iter().map(|t| t.slug.as_str())),
        ),
        (
            "DELETE FROM content_posts WHERE source = 'file' AND slug NOT IN (SELECT value FROM json_each(?1))",
            json_list(bundle.posts.iter().map(|p| p.slug.as_str())),
        ),
        (
            "DELETE FROM content_courses WHERE source = 'file' AND slug NOT IN (SELECT value FROM json_each(?1))",
            json_list(bundle.courses.iter().map(|c| c.course.slug.as_str())),
        ),
    ];
    for (sql, slugs) in removals {
        out.push(Statement::new(sql).bind(slugs));
    }
    for sql in [
        "DELETE FROM content_lessons WHERE course_slug NOT IN (SELECT slug FROM content_courses)",
        "DELETE FROM content_quizzes WHERE course_slug NOT IN (SELECT slug FROM content_courses)",
        "DELETE FROM content_resources WHERE course_slug NOT IN (SELECT slug FROM content_courses)",
    ] {
        out.push(Statement::new(sql));
    }
    out.push(bump_generation());
    out
}

#[derive(Debug, Deserialize)]
struct Generation {
    generation: i64,
}

pub async fn generation(db: &impl Database) -> Result<i64> {
    let row: Option<Generation> =
        db.query_first(Statement::new("SELECT generation FROM content_meta WHERE id = 1")).await?;
    Ok(row.map_or(0, |r| r.generation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::bundle::tests::sample;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }

    pub(crate) fn count(db: &SqliteDb, sql: &'static str) -> i64 {
        block_on(db.query_first::<Count>(Statement::new(sql))).expect("count").map_or(0, |c| c.n)
    }

    #[test]
    fn a_sync_loads_everything_and_is_repeatable() {
        let db = SqliteDb::with_schema();
        let bundle = Bundle::from_files(&sample()).expect("valid");
        block_on(db.batch(sync_statements(&bundle, 1))).expect("first sync");
        block_on(db.batch(sync_statements(&bundle, 2))).expect("second sync");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM content_posts WHERE published = 1"), 1);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM content_lessons"), 2);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM content_resources"), 1);
        assert_eq!(block_on(generation(&db)).expect("generation"), 3, "each sync bumps it");
    }

    #[test]
    fn published_content_is_indexed_into_the_knowledge_base_database() {
        // Two databases, as in the workers: content in the database of record, passages in the KB.
        let (db, kb) = (SqliteDb::with_schema(), SqliteDb::with_schema());
        let bundle = Bundle::from_files(&sample()).expect("valid");
        block_on(db.batch(sync_statements(&bundle, 1))).expect("sync");
        // post, course, two lessons
        assert_eq!(block_on(reindex_knowledge(&db, &kb)).expect("reindexed"), 4);
        assert_eq!(count(&kb, "SELECT COUNT(*) AS n FROM kb_chunks WHERE id LIKE 'site:%'"), 4);
        assert_eq!(count(&kb, "SELECT COUNT(*) AS n FROM kb_fts WHERE kb_fts MATCH 'lesson'"), 2);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM kb_chunks"), 0, "nothing lands in the database of record");
        // Reindexing again replaces rather than adds; an unpublished course takes its lessons along.
        block_on(db.execute(Statement::new("UPDATE content_courses SET published = 0"))).expect("unpublished");
        assert_eq!(block_on(reindex_knowledge(&db, &kb)).expect("reindexed"), 1);
        assert_eq!(count(&kb, "SELECT COUNT(*) AS n FROM kb_chunks WHERE id LIKE 'site:%'"), 1);
        assert_eq!(count(&kb, "SELECT COUNT(*) AS n FROM kb_fts WHERE id LIKE 'site:%'"), 1);
    }

    #[test]
    fn removed_files_disappear_but_admin_entries_and_admin_edits_stay() {
        let db = SqliteDb::with_schema();
        let bundle = Bundle::from_files(&sample()).expect("valid");
        block_on(db.batch(sync_statements(&bundle, 1))).expect("sync");
        // An admin edits the file post and creates a post of their own.
        let mut edited = bundle.posts[0].clone();
        edited.body.html = "<p>edited</p>".into();
        edited.body.hash = "admin-edit".into();
        let mut own = edited.clone();
        own.slug = "admin-only".into();
        block_on(
            db.batch(vec![upsert_post(&edited, Source::Admin, true, 2), upsert_post(&own, Source::Admin, true, 2)]),
        )
        .expect("admin writes");
        // The same files again: the admin's edit survives.
        block_on(db.batch(sync_statements(&bundle, 3))).expect("sync");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM content_posts WHERE body_html = '<p>edited</p>'"), 2);
        // The file is gone: its post goes, the admin's own post stays.
        let mut fewer = bundle.clone();
        fewer.posts.clear();
        block_on(db.batch(sync_statements(&fewer, 4))).expect("sync");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM content_posts WHERE slug = 'admin-only'"), 1);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM content_posts"), 1);
        // A changed file wins over an admin's edit of it.
        block_on(db.batch(sync_statements(&bundle, 5))).expect("the file post is back");
        block_on(db.batch(vec![upsert_post(&edited, Source::Admin, true, 6)])).expect("admin edit");
        let mut changed = bundle.clone();
        changed.posts[0].body.hash = "new-file".into();
        block_on(db.batch(sync_statements(&changed, 7))).expect("sync");
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM content_posts WHERE slug = 'search' AND body_html = '<p>edited</p>'"),
            0
        );
    }
}
