//! The `backups` table: one row per object the backup wrote and has not yet deleted, so `/status`
//! can show the latest backup's age and size without listing R2 on every view.

use crate::error::Result;
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BackupRow {
    pub object_key: String,
    pub bytes: i64,
    pub row_count: i64,
    pub migration: String,
    pub created_at: Millis,
}

pub fn insert(row: &BackupRow) -> Statement {
    Statement::new(
        "INSERT OR REPLACE INTO backups (object_key, bytes, row_count, migration, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(row.object_key.as_str())
    .bind(row.bytes)
    .bind(row.row_count)
    .bind(row.migration.as_str())
    .bind(row.created_at)
}

pub fn delete(object_key: &str) -> Statement {
    Statement::new("DELETE FROM backups WHERE object_key = ?1").bind(object_key)
}

/// The newest backup (the daily object when a monthly one was written with it).
pub async fn latest(db: &impl Database) -> Result<Option<BackupRow>> {
    db.query_first(Statement::new(
        "SELECT object_key, bytes, row_count, migration, created_at FROM backups
         ORDER BY created_at DESC, object_key ASC LIMIT 1",
    ))
    .await
}

/// The migration level of the database the backup reads: the newest row of wrangler's
/// `d1_migrations`, or `fallback` (the code's level) where the schema was applied without wrangler's
/// migrations (native tests).
pub async fn migration_level(db: &impl Database, fallback: &str) -> String {
    #[derive(Deserialize)]
    struct Name {
        name: String,
    }
    match db.query_first::<Name>(Statement::new("SELECT name FROM d1_migrations ORDER BY id DESC LIMIT 1")).await {
        Ok(Some(row)) if !row.name.trim().is_empty() => row.name,
        _ => fallback.to_owned(),
    }
}
