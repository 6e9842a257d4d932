//! The backup file: SQL text a freshly migrated database applies as is (`wrangler d1 execute --file`,
//! or `sqlite3`). One statement per line:
//!
//! ```text
//! -- fhir-iq r2 backup: migration 0004_operations.sql; tables: organisations,users,...; created 2026-12-02T03:17:00.000Z
//! -- organisations: 1 rows
//! INSERT INTO "organisations" ("id", "name", "owner_id", "created_at") VALUES ('o1', 'Acme', 'u1', 1764645420000);
//! ```
//!
//! Values are SQL literals: text in single quotes with `'` doubled, `NULL`, integers, and reals with a
//! decimal point. A line break inside text is written the way `sqlite3 .dump` writes it,
//! `replace('a\nb','\n',char(10))` with a marker the text does not contain, so every statement stays
//! on one line.

use super::tables::Table;
use crate::error::{Error, Result};
use crate::time::{Millis, to_rfc3339};
use serde_json::{Map, Value};
use std::fmt::Write;

/// The first line: what the file holds and which migration level it needs (scripts/restore.sh reads
/// it and refuses a backup newer than the code).
pub fn header(migration: &str, tables: &[&str], created: Millis) -> String {
    format!(
        "-- fhir-iq r2 backup: migration {migration}; tables: {}; created {}\n",
        tables.join(","),
        to_rfc3339(created)
    )
}

/// One `INSERT` line for `row` (an object keyed by column name; a missing column is NULL).
pub fn insert(table: &Table, row: &Map<String, Value>) -> Result<String> {
    let mut line = String::from(table.insert);
    for (i, column) in table.columns.iter().enumerate() {
        if i > 0 {
            line.push_str(", ");
        }
        let value = row.get(*column).unwrap_or(&Value::Null);
        line.push_str(&literal(value).map_err(|e| in_column(e, table.name, column))?);
    }
    line.push_str(");\n");
    Ok(line)
}

fn in_column(error: Error, table: &str, column: &str) -> Error {
    Error::internal(format!("exporting {table}.{column}"), error)
}

/// A value as an SQL literal.
pub fn literal(value: &Value) -> Result<String> {
    Ok(match value {
        Value::Null => "NULL".to_owned(),
        Value::Bool(b) => u8::from(*b).to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => real(f),
            _ => return Err(Error::internal("writing a number", n)),
        },
        Value::String(text) => text_literal(text),
        // D1 answers BLOBs as arrays; no backed-up column holds one.
        Value::Array(_) | Value::Object(_) => {
            return Err(Error::internal("writing a value", "a BLOB or structured value has no literal here"));
        }
    })
}

/// A real keeps a decimal point (`2.0`, not `2`), so it is read back as a real.
fn real(f: f64) -> String {
    let text = f.to_string();
    if text.contains(['.', 'e', 'E']) { text } else { format!("{text}.0") }
}

/// Text as a literal: quotes doubled; line feeds and carriage returns replaced by markers the text
/// does not contain, restored by `replace(..., char(10))`.
pub fn text_literal(text: &str) -> String {
    let mut encoded = text.replace('\'', "''");
    let mut restore = Vec::new();
    for (character, letter, code) in [('\n', 'n', 10), ('\r', 'r', 13)] {
        if encoded.contains(character) {
            let marker = unused_marker(text, letter);
            encoded = encoded.replace(character, &marker);
            restore.push((marker, code));
        }
    }
    let mut literal = format!("'{encoded}'");
    for (marker, code) in restore {
        literal = format!("replace({literal},'{marker}',char({code}))");
    }
    literal
}

/// `\n`, else `\n1`, `\n2`, ...: the first that does not occur in `text`. A marker starts with its only
/// backslash, so replacing it back can never match across the text around it.
fn unused_marker(text: &str, letter: char) -> String {
    let base = format!("\\{letter}");
    if !text.contains(&base) {
        return base;
    }
    (1u64..).map(|n| format!("{base}{n}")).find(|m| !text.contains(m.as_str())).unwrap_or(base)
}

/// A table's section: a comment line with its row count, then its INSERT lines.
pub fn section(table: &str, rows: u64, inserts: &str) -> String {
    let mut out = String::with_capacity(inserts.len() + 64);
    let _ = writeln!(out, "-- {table}: {rows} rows");
    out.push_str(inserts);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::tables::TABLES;
    use serde_json::json;

    fn table(name: &str) -> &'static Table {
        TABLES.iter().find(|t| t.name == name).expect("a backed-up table")
    }

    /// What SQLite reads a literal back as.
    fn read_back(literal: &str) -> rusqlite::types::Value {
        let conn = rusqlite::Connection::open_in_memory().expect("opens");
        conn.query_row(&format!("SELECT {literal}"), [], |r| r.get(0)).expect("a valid literal")
    }

    #[test]
    fn literals_follow_sql() {
        use rusqlite::types::Value as Sql;
        assert_eq!(literal(&Value::Null).expect("null"), "NULL");
        assert_eq!(literal(&json!(42)).expect("int"), "42");
        assert_eq!(literal(&json!(-7)).expect("int"), "-7");
        assert_eq!(literal(&json!(1_764_645_420_000_i64)).expect("int"), "1764645420000");
        assert_eq!(literal(&json!(2.5)).expect("real"), "2.5");
        assert_eq!(literal(&json!(2.0)).expect("real"), "2.0");
        assert_eq!(literal(&json!(true)).expect("bool"), "1");
        assert_eq!(literal(&json!("O'Brien")).expect("text"), "'O''Brien'");
        assert_eq!(literal(&json!("")).expect("text"), "''");
        assert_eq!(read_back(&literal(&json!(2.0)).expect("real")), Sql::Real(2.0));
        assert_eq!(read_back(&literal(&json!(1e300)).expect("real")), Sql::Real(1e300));
        assert!(literal(&json!([1, 2])).is_err(), "a BLOB has no literal here");
    }

    #[test]
    fn a_quote_and_line_breaks_survive_the_round_trip_on_one_line() {
        for text in [
            "line one\nline two",
            "it's\r\nwindows",
            "a literal \\n and a real\nbreak",
            "\\n\\n1\nboth markers taken",
            "ends with a backslash \\\n",
            "'; DROP TABLE users; --",
        ] {
            let literal = text_literal(text);
            assert!(!literal.contains('\n') && !literal.contains('\r'), "{literal}");
            assert_eq!(read_back(&literal), rusqlite::types::Value::Text(text.to_owned()), "{literal}");
        }
        assert_eq!(text_literal("a\nb"), r"replace('a\nb','\n',char(10))");
    }

    #[test]
    fn an_insert_names_every_column_and_writes_nulls() {
        let row = json!({"id": "u1", "email": "o'neil@example.org", "password_hash": "h", "admin": 0,
                         "org_id": null, "created_at": 5, "password_changed_at": 6, "email_verified_at": null,
                         "backup_rowid": 1});
        let line = insert(table("users"), row.as_object().expect("object")).expect("insert");
        assert_eq!(
            line,
            "INSERT INTO \"users\" (\"id\", \"email\", \"password_hash\", \"admin\", \"org_id\", \"created_at\", \
             \"password_changed_at\", \"email_verified_at\", \"disabled_at\") VALUES ('u1', 'o''neil@example.org', 'h', 0, \
             NULL, 5, 6, NULL, NULL);\n"
        );
    }

    #[test]
    fn the_header_names_the_migration_tables_and_time() {
        assert_eq!(
            header("0004_operations.sql", &["users", "orders"], 0),
            "-- fhir-iq r2 backup: migration 0004_operations.sql; tables: users,orders; created 1970-01-01T00:00:00.000Z\n"
        );
        assert_eq!(section("users", 2, "X;\n"), "-- users: 2 rows\nX;\n");
    }
}
