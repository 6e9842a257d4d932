//! `make dev` / deploys: `fhir-iq-kb content [--dir DIR] [--check | --print-sql] [target]` validates `content/` and
//! loads it into D1. The statements are the ones the admin API runs (`shared::content::store`),
//! written out as SQL with each bound value turned into a literal by SQLite's own `quote()`, so no
//! value is ever escaped by hand. They apply as one file: the whole sync, or (on an error) none of it.

use futures::executor::block_on;
use shared::content::bundle::{Bundle, read_dir};
use shared::content::store;
use shared::storage::sqlite::SqliteDb;
use shared::storage::{Database, SqlValue, Statement};
use std::path::PathBuf;

#[derive(serde::Deserialize)]
struct Quoted {
    q: String,
}

/// One bound value as a SQL literal.
fn literal(db: &SqliteDb, value: &SqlValue) -> Result<String, String> {
    let row: Option<Quoted> = block_on(db.query_first(Statement::new("SELECT quote(?1) AS q").bind(value.clone())))
        .map_err(|e| e.to_string())?;
    row.map(|r| r.q).ok_or_else(|| "quote() answered nothing".to_owned())
}

/// `statement` as plain SQL: every `?N` outside a string literal replaced by its value's literal.
pub fn to_sql(db: &SqliteDb, statement: &Statement) -> Result<String, String> {
    let literals: Vec<String> = statement.params.iter().map(|v| literal(db, v)).collect::<Result<_, _>>()?;
    let mut out = String::with_capacity(statement.sql.len() + literals.iter().map(String::len).sum::<usize>());
    let mut chars = statement.sql.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            in_string = !in_string;
            out.push(c);
        } else if c == '?' && !in_string {
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            let index: usize = digits.parse().map_err(|_| format!("a bare ? in {:?}", statement.sql))?;
            let value =
                literals.get(index - 1).ok_or_else(|| format!("?{index} has no value in {:?}", statement.sql))?;
            out.push_str(value);
        } else {
            // wrangler splits a file into statements and treats `CASE` as opening a block that only
            // ` END ` or ` END;` closes; `END,` would swallow every later statement into one.
            if !in_string && matches!(c, ',' | ')') && out.ends_with(" END") {
                out.push(' ');
            }
            out.push(c);
        }
    }
    out.push_str(";\n");
    Ok(out)
}

pub fn run(args: &[String], target: &[String], now_ms: i64) -> Result<(), String> {
    let dir = args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| super::root().join("content"), PathBuf::from);
    let files = read_dir(&dir).map_err(|e| e.to_string())?;
    let bundle = Bundle::from_files(&files).map_err(|e| e.to_string())?;
    let lessons: usize = bundle.courses.iter().map(|c| c.lessons.len()).sum();
    let quizzes: usize = bundle.courses.iter().map(|c| c.quizzes.len()).sum();
    let summary = format!(
        "{} tools, {} courses ({lessons} lessons, {quizzes} quizzes), {} posts, {} authors",
        bundle.tools.len(),
        bundle.courses.len(),
        bundle.posts.len(),
        bundle.authors.len()
    );
    if args.iter().any(|a| a == "--check") {
        println!("content valid: {summary}");
        return Ok(());
    }
    let db = SqliteDb::empty();
    let mut sql = String::new();
    for statement in store::sync_statements(&bundle, now_ms) {
        sql.push_str(&to_sql(&db, &statement)?);
    }
    if args.iter().any(|a| a == "--print-sql") {
        print!("{sql}");
        return Ok(());
    }
    super::apply(super::RECORD, target, &sql)?;
    // The knowledge base's copy of what is now published, read back from the database of record
    // (admin edits and publishing included), written to the knowledge base's own database.
    let rows = super::query_rows(super::RECORD, target, store::SITE_CHUNKS_SQL)?;
    let chunks = rows
        .into_iter()
        .map(|row| serde_json::from_value::<store::SiteChunk>(row).map_err(|e| format!("a content passage: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut kb_sql = String::new();
    for statement in store::site_chunk_statements(&chunks) {
        kb_sql.push_str(&to_sql(&db, &statement)?);
    }
    super::apply(super::KNOWLEDGE, target, &kb_sql)?;
    println!("content loaded: {summary}; {} passages indexed", chunks.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_literals_and_question_marks_in_strings_stay() {
        let db = SqliteDb::empty();
        let statement = Statement::new("SELECT '?1', ?2, ?1, ?10")
            .bind("it's")
            .bind(7_i64)
            .bind(SqlValue::Null)
            .bind(3_i64)
            .bind(4_i64)
            .bind(5_i64)
            .bind(6_i64)
            .bind(7_i64)
            .bind(8_i64)
            .bind("ten");
        assert_eq!(to_sql(&db, &statement).expect("sql"), "SELECT '?1', 7, 'it''s', 'ten';\n");
        let case = Statement::new("SELECT CASE WHEN ?1 THEN 1 ELSE 2 END, 'x END,'").bind(1_i64);
        assert_eq!(to_sql(&db, &case).expect("sql"), "SELECT CASE WHEN 1 THEN 1 ELSE 2 END , 'x END,';\n");
    }

    #[test]
    fn the_written_sql_loads_the_same_content_the_statements_do() {
        let files = read_dir(&super::super::root().join("content")).expect("content/");
        let bundle = Bundle::from_files(&files).expect("valid");
        let statements = store::sync_statements(&bundle, 1);
        let quoted = SqliteDb::empty();
        let sql: String = statements.iter().map(|s| to_sql(&quoted, s).expect("sql")).collect();
        let via_file = SqliteDb::with_schema();
        via_file.run(&sql);
        let via_binding = SqliteDb::with_schema();
        block_on(via_binding.batch(statements)).expect("bound statements run");
        let dump = |db: &SqliteDb| -> Vec<serde_json::Value> {
            block_on(db.query(Statement::new(
                "SELECT slug, body_html, document FROM content_posts UNION ALL SELECT slug, questions, title FROM content_quizzes ORDER BY 1",
            )))
            .expect("rows")
        };
        assert_eq!(dump(&via_file), dump(&via_binding));
        assert!(!dump(&via_file).is_empty());
    }
}
