//! The versioned migrations and `schema.sql` describe the same databases. Applying every migration of
//! a database, in order, to an empty SQLite must give exactly the tables, columns, indexes, triggers
//! and views that `schema.sql` declares for it; and an upgrade from the previous migration keeps
//! every row.

use rusqlite::Connection;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The migration files of one database, in the order wrangler applies them (by name).
fn migrations(database: &str) -> Vec<(String, String)> {
    let dir = root().join("migrations").join(database);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().expect("a file name").to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("a readable migration"))
        })
        .collect()
}

/// schema.sql's part for one database: the database of record before the marker, the KB after it.
fn schema_part(database: &str) -> String {
    let schema = std::fs::read_to_string(root().join("schema.sql")).expect("schema.sql");
    let (record, kb) = schema.split_once("\n-- @database fhir-iq-kb\n").expect("schema.sql marks the KB part");
    if database == "fhir-iq-kb" { kb.to_owned() } else { record.to_owned() }
}

fn normalise(sql: &str) -> String {
    sql.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" IF NOT EXISTS", "")
        .replace("( ", "(")
        .replace(" )", ")")
}

/// Everything that makes up a database's shape, keyed so two shapes compare entry by entry.
fn shape(conn: &Connection) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut objects = conn
        .prepare("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> 'd1_migrations'")
        .expect("sqlite_master");
    let rows: Vec<(String, String, String, String)> = objects
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    for (kind, name, table, sql) in rows {
        match kind.as_str() {
            "table" => {
                let mut columns = conn.prepare(&format!("PRAGMA table_xinfo(\"{name}\")")).expect("table_xinfo");
                let described: Vec<String> = columns
                    .query_map([], |r| {
                        Ok(format!(
                            "{} {} notnull={} default={:?} pk={}",
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, i64>(5)?
                        ))
                    })
                    .expect("columns")
                    .map(|r| r.expect("column"))
                    .collect();
                // CHECK and REFERENCES clauses live only in the SQL: compare the columns, and the
                // constraints' presence through the normalised statement of tables created whole.
                out.insert(format!("table {name}"), described.join(", "));
            }
            "index" | "trigger" | "view" => {
                out.insert(format!("{kind} {name} on {table}"), normalise(&sql));
            }
            _ => {}
        }
    }
    out
}

fn migrated(database: &str, upto: usize) -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory SQLite");
    for (name, sql) in migrations(database).into_iter().take(upto) {
        conn.execute_batch(&sql).unwrap_or_else(|e| panic!("migration {database}/{name} applies: {e}"));
    }
    conn
}

#[test]
fn every_database_s_migrations_give_exactly_what_schema_sql_declares() {
    for database in ["fhir-iq", "fhir-iq-kb"] {
        let from_migrations = shape(&migrated(database, usize::MAX));
        let declared = Connection::open_in_memory().expect("in-memory SQLite");
        declared.execute_batch(&schema_part(database)).expect("schema.sql's part applies");
        let declared = shape(&declared);
        let keys: std::collections::BTreeSet<&String> = from_migrations.keys().chain(declared.keys()).collect();
        let differences: Vec<String> = keys
            .into_iter()
            .filter(|k| from_migrations.get(*k) != declared.get(*k))
            .map(|k| format!("{k}:\n  migrations: {:?}\n  schema.sql: {:?}", from_migrations.get(k), declared.get(k)))
            .collect();
        assert!(differences.is_empty(), "{database}: migrations and schema.sql differ:\n{}", differences.join("\n"));
        assert!(declared.len() > 3, "{database}: the comparison saw the tables");
    }
}

#[test]
fn migration_names_are_numbered_in_order_without_gaps() {
    for database in ["fhir-iq", "fhir-iq-kb"] {
        for (i, (name, _)) in migrations(database).iter().enumerate() {
            assert!(name.starts_with(&format!("{:04}_", i + 1)), "{database}/{name} should be number {}", i + 1);
        }
    }
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn upgrading_from_the_previous_migration_keeps_every_row() {
    let all = migrations("fhir-iq");
    let conn = migrated("fhir-iq", all.len() - 1);
    conn.execute_batch(
        "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES ('u1', 'ada@example.com', 'h', 1, 1);
         INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at) VALUES ('t1', 'u1', 1, 1, 9);
         INSERT INTO orders (id, user_id, product, status, created_at) VALUES ('o1', 'u1', 'course-x', 'completed', 2);
         INSERT INTO user_progress (user_id, course_slug, lesson_slug, completed_at) VALUES ('u1', 'fhir-fundamentals', 'intro', 3);",
    )
    .expect("the previous schema takes the rows");
    let before: Vec<i64> = ["users", "sessions", "orders", "user_progress"]
        .iter()
        .map(|t| count(&conn, &format!("SELECT COUNT(*) FROM {t}")))
        .collect();
    let (name, last) = all.last().expect("at least one migration");
    conn.execute_batch(last).unwrap_or_else(|e| panic!("{name} applies to a database holding rows: {e}"));
    let after: Vec<i64> = ["users", "sessions", "orders", "user_progress"]
        .iter()
        .map(|t| count(&conn, &format!("SELECT COUNT(*) FROM {t}")))
        .collect();
    assert_eq!(before, vec![1, 1, 1, 1]);
    assert_eq!(after, before, "{name} lost rows");
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM users WHERE email = 'ada@example.com' AND password_hash = 'h'"), 1);
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM orders WHERE id = 'o1' AND status = 'completed' AND created_at = 2"),
        1
    );
}
