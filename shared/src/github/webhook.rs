//! `POST /_functions/githubWebhook`: GitHub App events. `X-Hub-Signature-256` is verified on the raw
//! body in constant time; deliveries are deduplicated by `X-GitHub-Delivery` in the same batch as
//! their effect. Handled: `installation` (which account the App is installed on, suspended or not,
//! removed), `installation_repositories` (repositories added to or removed from it) and `repository`
//! `deleted` (a repository the Builder made is marked deleted, so its name can be used again).

use crate::config::Secret;
use crate::error::{Error, Result};
use crate::signing::{any_matches, hmac_sha256};
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `sha256=<hex HMAC-SHA256(secret, raw body)>`, compared in constant time.
pub fn verify(secret: &Secret, header: Option<&str>, body: &[u8]) -> Result<()> {
    let refuse = |why: &str| Err(Error::BadRequest(format!("X-Hub-Signature-256: {why}")));
    let Some(hex_signature) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return refuse("missing or not sha256=");
    };
    let expected = hmac_sha256(secret.expose(), &[body], "GITHUB_WEBHOOK_SECRET")?;
    if any_matches(&expected, [hex_signature]) { Ok(()) } else { refuse("does not match the payload") }
}

pub use crate::signing::Action;

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub delivery: String,
    pub event: String,
    pub action: Action,
}

#[derive(Deserialize)]
struct Seen {
    #[allow(dead_code, reason = "only its presence matters")]
    id: String,
}

/// Applies one verified delivery.
pub async fn apply(db: &impl Database, delivery: &str, event: &str, body: &[u8], now: Millis) -> Result<Outcome> {
    if delivery.is_empty() || delivery.len() > 100 {
        return Err(Error::BadRequest("X-GitHub-Delivery is missing".into()));
    }
    let outcome = |action| Outcome { delivery: delivery.to_owned(), event: event.to_owned(), action };
    let seen: Option<Seen> =
        db.query_first(Statement::new("SELECT id FROM github_deliveries WHERE id = ?1").bind(delivery)).await?;
    if seen.is_some() {
        return Ok(outcome(Action::Duplicate));
    }
    let payload: Value = serde_json::from_slice(body).map_err(|e| Error::BadRequest(format!("not JSON: {e}")))?;
    let action = payload["action"].as_str().unwrap_or_default();
    let mut statements = Vec::new();
    let installation = &payload["installation"];
    let installation_id = installation["id"].as_i64();
    match (event, action) {
        ("installation", "created" | "new_permissions_accepted" | "unsuspend" | "suspend") => {
            let id = installation_id.ok_or_else(|| Error::BadRequest("no installation id".into()))?;
            statements.push(
                Statement::new(
                    "INSERT INTO github_installations (id, account, account_type, repository_selection, suspended, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (id) DO UPDATE SET account = excluded.account, account_type = excluded.account_type,
                       repository_selection = excluded.repository_selection, suspended = excluded.suspended,
                       updated_at = excluded.updated_at",
                )
                .bind(id)
                .bind(installation.pointer("/account/login").and_then(Value::as_str).unwrap_or_default())
                .bind(installation.pointer("/account/type").and_then(Value::as_str).unwrap_or("Organization"))
                .bind(installation["repository_selection"].as_str().unwrap_or("selected"))
                .bind(action == "suspend")
                .bind(now),
            );
            if action == "created" {
                for repo in payload["repositories"].as_array().into_iter().flatten() {
                    statements.push(repository_added(id, repo, now));
                }
            }
        }
        ("installation", "deleted") => {
            let id = installation_id.ok_or_else(|| Error::BadRequest("no installation id".into()))?;
            statements
                .push(Statement::new("DELETE FROM github_installation_repos WHERE installation_id = ?1").bind(id));
            statements.push(Statement::new("DELETE FROM github_installations WHERE id = ?1").bind(id));
        }
        ("installation_repositories", "added" | "removed") => {
            let id = installation_id.ok_or_else(|| Error::BadRequest("no installation id".into()))?;
            for repo in payload["repositories_added"].as_array().into_iter().flatten() {
                statements.push(repository_added(id, repo, now));
            }
            for repo in payload["repositories_removed"].as_array().into_iter().flatten() {
                statements.push(
                    Statement::new(
                        "DELETE FROM github_installation_repos WHERE installation_id = ?1 AND full_name = ?2",
                    )
                    .bind(id)
                    .bind(repo["full_name"].as_str().unwrap_or_default()),
                );
            }
        }
        ("repository", "deleted") => {
            let owner = payload.pointer("/repository/owner/login").and_then(Value::as_str).unwrap_or_default();
            let name = payload.pointer("/repository/name").and_then(Value::as_str).unwrap_or_default();
            statements.push(
                Statement::new(
                    "UPDATE github_repos SET status = 'deleted', updated_at = ?3 WHERE owner = ?1 AND name = ?2",
                )
                .bind(owner)
                .bind(name)
                .bind(now),
            );
        }
        _ => return Ok(outcome(Action::Ignored)),
    }
    statements.push(
        Statement::new("INSERT INTO github_deliveries (id, event, received_at) VALUES (?1, ?2, ?3)")
            .bind(delivery)
            .bind(event)
            .bind(now),
    );
    match db.batch(statements).await {
        Ok(()) => Ok(outcome(Action::Applied)),
        // A concurrent redelivery got there first: its batch applied, ours did not.
        Err(e) if crate::storage::is_unique_violation(&e, "github_deliveries", "id") => Ok(outcome(Action::Duplicate)),
        Err(e) => Err(e),
    }
}

fn repository_added(installation_id: i64, repo: &Value, now: Millis) -> Statement {
    Statement::new(
        "INSERT OR REPLACE INTO github_installation_repos (installation_id, full_name, private, added_at) VALUES (?1, ?2, ?3, ?4)",
    )
    .bind(installation_id)
    .bind(repo["full_name"].as_str().unwrap_or_default())
    .bind(repo["private"].as_bool().unwrap_or(false))
    .bind(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;
    use serde_json::json;

    #[test]
    fn githubs_own_test_vector_verifies() {
        // From GitHub's documentation ("Validating webhook deliveries").
        let secret = Secret::new("It's a Secret to Everybody");
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(verify(&secret, Some(header), b"Hello, World!").is_ok());
        assert_eq!(verify(&secret, Some(header), b"Hello, World?").expect_err("tampered").status_code(), 400);
        assert!(verify(&Secret::new("another"), Some(header), b"Hello, World!").is_err());
        assert!(verify(&secret, None, b"Hello, World!").is_err());
        assert!(verify(&secret, Some("sha1=757107ea"), b"Hello, World!").is_err());
    }

    use crate::testing::count;

    #[test]
    fn installations_and_their_repositories_are_tracked_once_per_delivery() {
        let db = SqliteDb::with_schema();
        let created = json!({"action": "created", "installation": {"id": 777, "account": {"login": "fhiriq-apps", "type": "Organization"},
            "repository_selection": "selected"}, "repositories": [{"full_name": "fhiriq-apps/a", "private": true}]});
        let body = created.to_string();
        let apply_now = |delivery: &str, event: &str, body: &str| {
            block_on(apply(&db, delivery, event, body.as_bytes(), 1)).expect("applied")
        };
        assert_eq!(apply_now("d-1", "installation", &body).action, Action::Applied);
        assert_eq!(apply_now("d-1", "installation", &body).action, Action::Duplicate);
        let added = json!({"action": "added", "installation": {"id": 777},
            "repositories_added": [{"full_name": "fhiriq-apps/b", "private": false}], "repositories_removed": [{"full_name": "fhiriq-apps/a"}]});
        apply_now("d-2", "installation_repositories", &added.to_string());
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM github_installation_repos WHERE full_name = 'fhiriq-apps/b'"),
            1
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM github_installation_repos WHERE full_name = 'fhiriq-apps/a'"),
            0
        );
        let suspended = json!({"action": "suspend", "installation": {"id": 777, "account": {"login": "fhiriq-apps", "type": "Organization"}}});
        apply_now("d-3", "installation", &suspended.to_string());
        assert_eq!(count(&db, "SELECT suspended AS n FROM github_installations WHERE id = 777"), 1);
        assert_eq!(apply_now("d-4", "push", "{}").action, Action::Ignored);
        let deleted = json!({"action": "deleted", "installation": {"id": 777}});
        apply_now("d-5", "installation", &deleted.to_string());
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM github_installations"), 0);
    }
}
