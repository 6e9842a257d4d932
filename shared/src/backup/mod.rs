//! The nightly backup: the tables that cannot be rebuilt ([`tables::TABLES`]), exported as one SQL
//! file of INSERTs to R2 (`daily/YYYY-MM-DD.sql`, and `monthly/YYYY-MM.sql` for the first backup of a
//! month), with retention. scripts/restore.sh applies the migrations to an empty database and then
//! the file. The knowledge base, content and caches are rebuilt rather than backed up.
//!
//! Tables are read in bounded batches, children before parents, and written parents first: a row
//! added while the export runs can then only be a parent without its new children, never a child
//! whose parent is missing, so the file always restores under D1's foreign keys. The file is built in
//! memory, which suits a database of record of tens of megabytes (a Worker has 128 MB).

pub mod bucket;
pub mod retention;
pub mod sql;
pub mod store;
pub mod tables;

use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use crate::time::Millis;
use bucket::Bucket;
use serde_json::{Map, Value};
use store::BackupRow;
use tables::Table;

/// The newest migration in migrations/fhir-iq/ (a test keeps it so): the level a backup is labelled
/// with when the database has no `d1_migrations` table to say.
pub const LATEST_MIGRATION: &str = "0008_support_and_staff.sql";

/// The exported SQL and what it holds.
#[derive(Debug)]
pub struct Export {
    pub sql: String,
    pub migration: String,
    /// Rows per table, in the file's order.
    pub tables: Vec<(&'static str, u64)>,
}

impl Export {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// Reads every row of `tables` and writes the backup file.
pub async fn export(db: &impl Database, tables: &[Table], migration: &str, now: Millis) -> Result<Export> {
    let mut sections = Vec::with_capacity(tables.len());
    for table in tables.iter().rev() {
        sections.push((table.name, export_table(db, table).await?));
    }
    sections.reverse();
    let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
    let mut sql = sql::header(migration, &names, now);
    let mut counts = Vec::with_capacity(sections.len());
    for (name, (rows, inserts)) in sections {
        sql.push_str(&sql::section(name, rows, &inserts));
        counts.push((name, rows));
    }
    Ok(Export { sql, migration: migration.to_owned(), tables: counts })
}

/// One table's INSERT lines, read `table.batch` rows at a time in rowid order.
async fn export_table(db: &impl Database, table: &Table) -> Result<(u64, String)> {
    let mut inserts = String::new();
    let (mut rows, mut after) = (0u64, i64::MIN);
    loop {
        let batch: Vec<Map<String, Value>> =
            db.query(Statement::new(table.select).bind(after).bind(table.batch)).await?;
        for row in &batch {
            inserts.push_str(&sql::insert(table, row)?);
            after = row.get("backup_rowid").and_then(Value::as_i64).ok_or_else(|| {
                Error::internal(format!("exporting {}", table.name), "a row came back without its rowid")
            })?;
        }
        rows += batch.len() as u64;
        if (batch.len() as i64) < table.batch {
            return Ok((rows, inserts));
        }
    }
}

/// What one night's backup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub written: Vec<String>,
    pub deleted: Vec<String>,
    pub rows: u64,
    pub bytes: u64,
    pub tables: usize,
}

impl BackupSummary {
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{}: {} rows of {} tables, {}",
            self.written.join(" and "),
            self.rows,
            self.tables,
            human_size(self.bytes)
        );
        if !self.deleted.is_empty() {
            text.push_str(&format!("; deleted {} past retention", self.deleted.len()));
        }
        text
    }
}

/// `532 B`, `12.3 KB`, `4.0 MB` (powers of 1,000, as R2's dashboard shows sizes).
pub fn human_size(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} KB", bytes as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", bytes as f64 / 1e6),
        _ => format!("{:.1} GB", bytes as f64 / 1e9),
    }
}

/// The nightly job: export, write the daily object (and the month's first), delete what is past
/// retention, and record it all in `backups`.
pub async fn run(db: &impl Database, bucket: &impl Bucket, now: Millis) -> Result<BackupSummary> {
    let migration = store::migration_level(db, LATEST_MIGRATION).await;
    let export = export(db, tables::TABLES, &migration, now).await?;
    let (rows, bytes) = (export.rows(), export.sql.len() as u64);
    let daily = retention::daily_key(now);
    let monthly = retention::monthly_key(now);
    let mut monthly_keys = bucket.list(retention::MONTHLY_PREFIX).await?;
    let mut written = vec![daily.clone()];
    if monthly_keys.contains(&monthly) {
        bucket.put(&daily, export.sql).await?;
    } else {
        bucket.put(&daily, export.sql.clone()).await?;
        bucket.put(&monthly, export.sql).await?;
        monthly_keys.push(monthly.clone());
        written.push(monthly);
    }
    let daily_keys = bucket.list(retention::DAILY_PREFIX).await?;
    let mut deleted = retention::expired_daily(&daily_keys);
    deleted.extend(retention::expired_monthly(&monthly_keys));
    for key in &deleted {
        bucket.delete(key).await?;
    }
    let mut statements: Vec<Statement> = written
        .iter()
        .map(|key| {
            store::insert(&BackupRow {
                object_key: key.clone(),
                bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
                row_count: i64::try_from(rows).unwrap_or(i64::MAX),
                migration: migration.clone(),
                created_at: now,
            })
        })
        .collect();
    statements.extend(deleted.iter().map(|key| store::delete(key)));
    db.batch(statements).await?;
    Ok(BackupSummary { written, deleted, rows, bytes, tables: export.tables.len() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteDb;
    use crate::time::{DAY, parse_rfc3339};
    use bucket::testing::MemoryBucket;
    use futures::executor::block_on;

    const SEED: &str = "
        INSERT INTO organisations (id, name, owner_id, created_at) VALUES ('o1', 'Acme ''Health''', 'u1', 1);
        INSERT INTO users (id, email, password_hash, admin, org_id, created_at, password_changed_at)
            VALUES ('u1', 'owner@acme.test', 'pbkdf2-sha256$1$s$h', 0, 'o1', 1, 1),
                   ('u2', 'o''neil@example.org', 'pbkdf2-sha256$1$s$h', 1, NULL, 2, 2);
        INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at) VALUES ('s', 'u1', 1, 1, 9);
        INSERT INTO orders (id, user_id, product, status, created_at, amount, currency, stripe_payment_intent)
            VALUES ('ord1', 'u2', 'smart-course', 'completed', 3, 9900, 'usd', 'pi_1'),
                   ('ord2', 'u2', 'smart-course', 'pending', 4, NULL, NULL, NULL);
        INSERT INTO enrollments (user_id, course_slug, status, order_id, created_at, updated_at)
            VALUES ('u2', 'smart-on-fhir', 'active', 'ord1', 5, 5);
        INSERT INTO quiz_attempts (id, user_id, course_slug, quiz_slug, correct, total, percent, passed, created_at)
            VALUES ('a1', 'u2', 'smart-on-fhir', 'final', 3, 4, 75, 1, 6);
        INSERT INTO quiz_answers (attempt_id, question_id, chosen, correct) VALUES ('a1', 'q1', '[0,2]', 1);
        INSERT INTO sales_inquiries (id, name, email, company, seats, message, created_at)
            VALUES ('s1', 'Ann', 'ann@x.test', 'X', 40, 'Hello,
we''d like a quote.\r\nThanks', 7);
    ";

    use crate::testing::count;

    fn rows(db: &SqliteDb, table: &Table) -> Vec<Map<String, Value>> {
        let mut all: Vec<Map<String, Value>> =
            block_on(db.query(Statement::new(table.select).bind(i64::MIN).bind(i64::MAX))).expect("rows");
        for row in &mut all {
            row.remove("backup_rowid");
        }
        all
    }

    #[test]
    fn the_export_restores_into_a_freshly_migrated_database_row_for_row() {
        let source = SqliteDb::with_schema();
        source.run(SEED);
        let export = block_on(export(&source, tables::TABLES, LATEST_MIGRATION, 0)).expect("exports");
        assert!(
            export.sql.starts_with(
                "-- fhir-iq r2 backup: migration 0008_support_and_staff.sql; tables: organisations,users,"
            )
        );
        assert!(!export.sql.contains("sessions"), "sessions are not backed up");
        assert_eq!(export.rows(), 9);
        let restored = SqliteDb::with_schema();
        restored.run("PRAGMA foreign_keys = ON;");
        restored.run(&export.sql);
        for table in tables::TABLES {
            assert_eq!(rows(&restored, table), rows(&source, table), "{}", table.name);
        }
        assert_eq!(count(&restored, "SELECT COUNT(*) AS n FROM sessions"), 0);
        let inquiry = rows(&restored, tables::TABLES.iter().find(|t| t.name == "sales_inquiries").expect("listed"));
        assert_eq!(inquiry[0]["message"], "Hello,\nwe'd like a quote.\r\nThanks");
    }

    #[test]
    fn tables_are_read_in_bounded_batches() {
        let db = SqliteDb::with_schema();
        let inserts: String = (0..7)
            .map(|i| {
                format!(
                    "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES ('u{i}', 'u{i}@x.test', 'h', {i}, 0);"
                )
            })
            .collect();
        db.run(&inserts);
        let users = tables::TABLES.iter().find(|t| t.name == "users").expect("listed");
        let small = Table { batch: 3, ..*users };
        let export = block_on(export(&db, &[small], LATEST_MIGRATION, 0)).expect("exports");
        assert_eq!(export.tables, [("users", 7)]);
        assert_eq!(export.sql.matches("INSERT INTO").count(), 7, "each row once across three pages");
    }

    #[test]
    fn a_night_writes_the_daily_object_and_the_first_of_the_month_and_records_them() {
        let db = SqliteDb::with_schema();
        db.run(SEED);
        let bucket = MemoryBucket::default();
        let first = parse_rfc3339("2026-12-01T03:17:00Z").expect("time");
        let summary = block_on(run(&db, &bucket, first)).expect("backs up");
        assert_eq!(summary.written, ["daily/2026-12-01.sql", "monthly/2026-12.sql"]);
        assert_eq!(bucket.get("daily/2026-12-01.sql"), bucket.get("monthly/2026-12.sql"));
        assert!(summary.describe().starts_with("daily/2026-12-01.sql and monthly/2026-12.sql: 9 rows of 24 tables, "));
        let next = block_on(run(&db, &bucket, first + DAY)).expect("backs up");
        assert_eq!(next.written, ["daily/2026-12-02.sql"], "one monthly object per month");
        let latest = block_on(store::latest(&db)).expect("query").expect("recorded");
        assert_eq!((latest.object_key.as_str(), latest.row_count), ("daily/2026-12-02.sql", 9));
        assert_eq!(latest.bytes as u64, next.bytes);
        assert_eq!(latest.migration, LATEST_MIGRATION, "no d1_migrations here: the code's level");
    }

    #[test]
    fn retention_deletes_the_oldest_objects_and_their_rows() {
        let db = SqliteDb::with_schema();
        let bucket = MemoryBucket::default();
        let start = parse_rfc3339("2025-01-01T03:17:00Z").expect("time");
        for day in 0..400 {
            block_on(run(&db, &bucket, start + day * DAY)).expect("backs up");
        }
        let keys = bucket.keys();
        assert_eq!(keys.iter().filter(|k| k.starts_with("daily/")).count(), 30);
        assert_eq!(keys.iter().filter(|k| k.starts_with("monthly/")).count(), 12);
        assert!(keys.contains(&"daily/2026-02-04.sql".to_owned()) && keys.contains(&"monthly/2025-03.sql".to_owned()));
        assert!(!keys.contains(&"monthly/2025-02.sql".to_owned()));
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM backups"), 42, "rows follow the objects");
    }

    #[test]
    fn the_level_comes_from_d1_migrations_when_wrangler_applied_them() {
        let db = SqliteDb::with_schema();
        db.run(
            "CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP);
             INSERT INTO d1_migrations (name) VALUES ('0001_baseline.sql'), ('0002_x.sql');",
        );
        assert_eq!(block_on(store::migration_level(&db, LATEST_MIGRATION)), "0002_x.sql");
    }

    #[test]
    fn a_refused_write_fails_the_job_and_records_nothing() {
        let db = SqliteDb::with_schema();
        let bucket = MemoryBucket::default();
        bucket.refuse_writes.set(true);
        assert_eq!(block_on(run(&db, &bucket, 0)).expect_err("refused").status_code(), 503);
        assert_eq!(block_on(store::latest(&db)).expect("query"), None);
    }

    #[test]
    fn the_code_level_is_the_newest_migration() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/fhir-iq");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations/fhir-iq exists")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        names.sort();
        assert_eq!(
            names.last().map(String::as_str),
            Some(LATEST_MIGRATION),
            "a new migration: update LATEST_MIGRATION, and decide for its tables in backup::tables"
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(532), "532 B");
        assert_eq!(human_size(12_345), "12.3 KB");
        assert_eq!(human_size(4_000_000), "4.0 MB");
    }
}
