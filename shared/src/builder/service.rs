//! The Builder's API, free of the runtime: options for the wizard, a preview of the file list (for
//! everyone), generation (recorded), and the ZIP of a recorded generation (its owner only).

use super::project::{self, File};
use super::spec::{Auth, DEFAULT_BASE_URL, Extra, GenerateRequest, Language, R4_RESOURCES, Spec, UseCase};
use super::{archive, store};
use crate::error::{Error, Result};
use crate::storage::Database;
use crate::time::Millis;
use crate::usage::{self, Meter};
use serde::Serialize;
use serde_json::{Value, json};

/// Everything the wizard offers, with each use case's defaults.
pub fn options() -> Value {
    json!({
        "useCases": UseCase::ALL.iter().map(|u| json!({
            "id": u.as_str(), "title": u.title(), "defaultResources": u.default_resources(),
            "defaultAuth": u.default_auth().as_str(),
        })).collect::<Vec<_>>(),
        "languages": Language::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        "auth": Auth::ALL.iter().map(|a| json!({"id": a.as_str(), "title": a.title()})).collect::<Vec<_>>(),
        "extras": Extra::ALL.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        "resources": R4_RESOURCES.lines().collect::<Vec<_>>(),
        "defaultFhirBaseUrl": DEFAULT_BASE_URL,
        "fhirVersion": "4.0.1",
    })
}

/// The paths a request would produce, without their contents.
pub fn preview(request: &GenerateRequest) -> Result<Value> {
    let spec = Spec::parse(request)?;
    let files = project::generate(&spec)?;
    Ok(json!({
        "applicationType": spec.use_case.as_str(),
        "resources": spec.resources,
        "auth": spec.auth.as_str(),
        "files": files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
    }))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Generated {
    pub generation_id: String,
    pub application_type: &'static str,
    pub fhir_version: &'static str,
    pub resources: Vec<String>,
    pub language: &'static str,
    pub auth: &'static str,
    pub files: Vec<File>,
    pub deployment_instructions: String,
}

/// Generates and records a project for `user_id`, within `limit` generations a day (reserved before
/// generating; given back if it fails).
pub async fn generate(
    db: &impl Database,
    user_id: &str,
    request: &GenerateRequest,
    now: Millis,
    limit: u64,
) -> Result<Generated> {
    let spec = Spec::parse(request)?;
    let reservation = usage::reserve(db, user_id, Meter::Generations, limit, now, |limit| {
        format!("You have generated {limit} projects today, the daily limit. It resets at midnight UTC.")
    })
    .await?;
    let stored = async {
        let files = project::generate(&spec)?;
        let (id, insert) = store::insert(user_id, &spec, &files, "templates", now)?;
        db.execute(insert).await?;
        Ok::<_, Error>((id, files))
    }
    .await;
    let (id, files) = match stored {
        Ok(done) => done,
        Err(e) => {
            usage::release_quietly(db, &reservation).await;
            return Err(e);
        }
    };
    Ok(Generated {
        generation_id: id,
        application_type: spec.use_case.as_str(),
        fhir_version: "4.0.1",
        deployment_instructions: project::deployment_instructions(&spec),
        resources: spec.resources,
        language: spec.language.as_str(),
        auth: spec.auth.as_str(),
        files,
    })
}

/// `{id}.zip` to the generation id.
pub fn zip_id(file: &str) -> Result<&str> {
    let id = file.strip_suffix(".zip").ok_or_else(|| Error::NotFound(format!("{file} is not a ZIP")))?;
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(Error::NotFound(format!("no generation {id}")));
    }
    Ok(id)
}

/// The ZIP of generation `id` (its owner's only): (file name, bytes).
pub async fn zip(db: &impl Database, id: &str, user_id: &str) -> Result<(String, Vec<u8>)> {
    let (folder, files) = store::files_of(db, id, user_id).await?;
    Ok((format!("{folder}.zip"), archive::zip(&folder, &files)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Statement;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    fn request() -> GenerateRequest {
        serde_json::from_value(json!({"useCase": "provider-ehr", "resources": ["Observation"],
            "implementation": {"language": "python", "auth": "smart-ehr", "extras": ["tests"]}}))
        .expect("the original design's shape")
    }

    #[test]
    fn a_generation_is_recorded_and_zipped_for_its_owner_only() {
        let db = SqliteDb::with_schema();
        for id in ["u1", "u2"] {
            block_on(db.execute(
                Statement::new("INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES (?1, ?2, 'x', 0, 0)")
                    .bind(id)
                    .bind(format!("{id}@example.org")),
            ))
            .expect("user");
        }
        let generated = block_on(generate(&db, "u1", &request(), 5, 50)).expect("generated");
        assert_eq!(generated.application_type, "provider-ehr");
        assert_eq!(generated.resources, ["Patient", "Observation"]);
        assert!(generated.files.iter().any(|f| f.path == "tests/test_app.py"));
        assert!(!generated.files.iter().any(|f| f.path == "Dockerfile"), "only the extras asked for");
        let (name, bytes) = block_on(zip(&db, &generated.generation_id, "u1")).expect("zipped");
        assert_eq!(name, "fhir-provider-ehr.zip");
        assert_eq!(&bytes[..2], b"PK");
        assert_eq!(block_on(zip(&db, &generated.generation_id, "u2")).expect_err("not theirs").status_code(), 404);
        assert_eq!(zip_id("abc.zip").expect("valid"), "abc");
        assert!(zip_id("abc.tar").is_err() && zip_id("../x.zip").is_err());
    }

    #[test]
    fn the_preview_lists_paths_without_contents() {
        let preview = preview(&request()).expect("valid");
        assert!(preview["files"].as_array().is_some_and(|f| f.iter().any(|p| p == "fhir_app/fhir.py")));
        assert!(!preview.to_string().contains("urllib"), "no file contents");
    }
}
