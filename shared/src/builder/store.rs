//! `code_generations`: each generation is recorded with its request and files, so the ZIP and the
//! push to GitHub use exactly what the user saw.

use super::project::File;
use super::spec::Spec;
use crate::error::{Error, Result};
use crate::ids;
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::Deserialize;

pub struct Generation {
    pub id: String,
    pub user_id: String,
    pub spec: Spec,
    pub files: Vec<File>,
    /// `templates` (the embedded default) or the model that tailored the code.
    pub generator: String,
}

pub fn insert(user_id: &str, spec: &Spec, files: &[File], generator: &str, now: Millis) -> Result<(String, Statement)> {
    let id = ids::new_id()?;
    let spec_json = serde_json::to_string(spec).map_err(|e| Error::internal("recording a generation", e))?;
    let files_json = serde_json::to_string(files).map_err(|e| Error::internal("recording a generation", e))?;
    let statement = Statement::new(
        "INSERT INTO code_generations (id, user_id, use_case, language, auth, spec, files, generator, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .bind(id.as_str())
    .bind(user_id)
    .bind(spec.use_case.as_str())
    .bind(spec.language.as_str())
    .bind(spec.auth.as_str())
    .bind(spec_json)
    .bind(files_json)
    .bind(generator)
    .bind(now);
    Ok((id, statement))
}

#[derive(Deserialize)]
struct Row {
    user_id: String,
    files: String,
    use_case: String,
    spec: String,
}

/// Generation `id`, if it belongs to `user_id` (others' generations are not found): its folder
/// name, files and spec.
pub async fn generation(db: &impl Database, id: &str, user_id: &str) -> Result<(String, Vec<File>, Spec)> {
    let row: Option<Row> = db
        .query_first(
            Statement::new("SELECT user_id, files, use_case, spec FROM code_generations WHERE id = ?1").bind(id),
        )
        .await?;
    let row = row.filter(|r| r.user_id == user_id).ok_or_else(|| Error::NotFound(format!("no generation {id}")))?;
    let files: Vec<File> = serde_json::from_str(&row.files).map_err(|e| Error::internal("reading a generation", e))?;
    let spec: Spec = serde_json::from_str(&row.spec).map_err(|e| Error::internal("reading a generation", e))?;
    Ok((format!("fhir-{}", row.use_case), files, spec))
}

/// The folder name and files of generation `id` (its owner's only).
pub async fn files_of(db: &impl Database, id: &str, user_id: &str) -> Result<(String, Vec<File>)> {
    let (folder, files, _) = generation(db, id, user_id).await?;
    Ok((folder, files))
}
