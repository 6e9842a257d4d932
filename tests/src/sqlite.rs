//! Reads a local D1 straight from the SQLite file workerd persists, instead of starting
//! `wrangler d1 execute` (a Node start, seconds) for each assertion.
//!
//! workerd keeps its D1 databases in WAL mode with ordinary file locks, so a read-only connection in
//! another process sees every committed write and never blocks the running platform. Rows come back
//! as `wrangler d1 execute --json` prints them (JavaScript numbers: a whole REAL is an integer).

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn open(file: &Path) -> rusqlite::Result<Connection> {
    let connection =
        Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    connection.busy_timeout(Duration::from_secs(10))?;
    Ok(connection)
}

/// The rows of `sql`, or `None` when it is not a single read-only statement (the caller runs it
/// through wrangler, as D1 would).
pub(crate) fn read_only(file: &Path, sql: &str) -> Option<Vec<Value>> {
    let connection = open(file).unwrap_or_else(|e| panic!("opening {}: {e}", file.display()));
    let mut statement = match connection.prepare(sql) {
        Ok(statement) => statement,
        Err(rusqlite::Error::MultipleStatement) => return None,
        Err(e) => panic!("query failed: {e}\n{sql}"),
    };
    if !statement.readonly() {
        return None;
    }
    let names: Vec<String> = statement.column_names().map(str::to_owned).collect();
    let mut rows = statement.query([]).unwrap_or_else(|e| panic!("query failed: {e}\n{sql}"));
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap_or_else(|e| panic!("query failed: {e}\n{sql}")) {
        let mut object = Map::new();
        for (i, name) in names.iter().enumerate() {
            let value = row.get_ref(i).unwrap_or_else(|e| panic!("reading column {name}: {e}"));
            object.insert(name.clone(), json(value));
        }
        out.push(Value::Object(object));
    }
    Some(out)
}

/// A column as D1's JSON has it.
fn json(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        // JavaScript has one number type: 2.0 prints as 2.
        ValueRef::Real(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => Value::from(f as i64),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
        // wrangler prints a BLOB (an array of bytes) as the text "[1, 2, 3]".
        ValueRef::Blob(b) => Value::from(format!("[{}]", b.iter().map(u8::to_string).collect::<Vec<_>>().join(", "))),
    }
}

/// Among the SQLite files in `dir`, the one whose `d1_migrations` records migrations from
/// `migrations` (each D1 database has its own migrations directory).
pub(crate) fn applied_from(dir: &Path, migrations: &Path) -> Option<PathBuf> {
    let ours: Vec<String> = std::fs::read_dir(migrations)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sqlite") && !p.ends_with("metadata.sqlite"))
        .collect();
    files.sort();
    files.into_iter().find(|file| {
        let Ok(connection) = open(file) else { return false };
        let Ok(mut statement) = connection.prepare("SELECT name FROM d1_migrations") else { return false };
        let applied: Vec<String> = match statement.query_map([], |row| row.get(0)) {
            Ok(rows) => rows.flatten().collect(),
            Err(_) => return false,
        };
        !applied.is_empty() && applied.iter().all(|name| ours.contains(name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A database like a local D1: a `d1_migrations` table naming what was applied.
    fn database(dir: &Path, file: &str, migration: &str) -> PathBuf {
        let path = dir.join(file);
        let connection = Connection::open(&path).expect("opens");
        connection
            .execute_batch(&format!(
                "CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY, name TEXT);
                 INSERT INTO d1_migrations (name) VALUES ('{migration}');
                 CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT);
                 INSERT INTO t VALUES (7, 2.0, 'x', x'0102ff', NULL), (8, 2.5, 'y', x'', NULL);"
            ))
            .expect("creates");
        path
    }

    #[test]
    fn rows_read_as_wrangler_prints_them_and_writes_are_left_to_wrangler() {
        let dir = tempfile::tempdir().expect("a directory");
        let file = database(dir.path(), "a.sqlite", "0001_a.sql");
        let rows = read_only(&file, "SELECT i, r, s, b, n FROM t ORDER BY i").expect("a read");
        assert_eq!(
            rows,
            vec![
                json!({"i": 7, "r": 2, "s": "x", "b": "[1, 2, 255]", "n": null}),
                json!({"i": 8, "r": 2.5, "s": "y", "b": "[]", "n": null}),
            ]
        );
        assert_eq!(read_only(&file, "INSERT INTO t (i) VALUES (9)"), None, "a write goes through wrangler");
        assert_eq!(read_only(&file, "SELECT 1; SELECT 2"), None, "so do several statements");
        assert_eq!(read_only(&file, "SELECT COUNT(*) AS n FROM t").expect("a read"), vec![json!({"n": 2})]);
    }

    #[test]
    fn each_database_is_found_by_the_migrations_it_applied() {
        let (dir, migrations) = (tempfile::tempdir().expect("a directory"), tempfile::tempdir().expect("a directory"));
        std::fs::write(migrations.path().join("0001_b.sql"), "").expect("a migration");
        database(dir.path(), "a.sqlite", "0001_a.sql");
        let b = database(dir.path(), "b.sqlite", "0001_b.sql");
        database(dir.path(), "metadata.sqlite", "0001_b.sql");
        assert_eq!(applied_from(dir.path(), migrations.path()), Some(b));
        std::fs::remove_file(migrations.path().join("0001_b.sql")).expect("removes");
        assert_eq!(applied_from(dir.path(), migrations.path()), None);
    }
}
