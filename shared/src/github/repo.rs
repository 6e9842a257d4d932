//! A generated project to a new repository in the platform's organisation, in ONE commit:
//! create the repository (`auto_init`, so it has a branch to commit on), then the Git Data API: the
//! parent commit, one tree with every file, one commit, the branch moved to it. Each step is
//! recorded in `github_repos`, so a repository created but not filled is resumed by a retry, never
//! orphaned and never created twice.

use super::client::GitHub;
use super::crypto::Crypto;
use crate::builder::project::File;
use crate::error::{Error, Result};
use crate::http::HttpClient;
use crate::storage::{Database, KeyValue, Statement};
use crate::time::{Clock, Millis};
use crate::usage::{self, Meter};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// `POST /_functions/createGitHubRepo`'s body as sent; [`PushRequest::parse`] makes it a request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushInput {
    pub repo_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "private_by_default")]
    pub private: bool,
    pub generation_id: String,
    /// `organisation` (the platform's, the default) or `user` (the caller's connected account).
    #[serde(default)]
    pub owner: Option<String>,
}

fn private_by_default() -> bool {
    true
}

/// A push, parsed: every field within GitHub's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRequest {
    pub repo_name: RepoName,
    pub description: String,
    pub private: bool,
    pub generation_id: String,
    pub owner: Owner,
}

impl PushRequest {
    /// 422 naming the first field that breaks GitHub's rules.
    pub fn parse(input: PushInput) -> Result<Self> {
        let owner = Owner::parse(input.owner.as_deref())?;
        let repo_name = RepoName::parse(&input.repo_name)?;
        if input.description.chars().count() > 350 || input.description.chars().any(char::is_control) {
            return Err(Error::Unprocessable("description must be one line of at most 350 characters".into()));
        }
        Ok(Self {
            repo_name,
            description: input.description,
            private: input.private,
            generation_id: input.generation_id,
            owner,
        })
    }
}

/// A repository name GitHub accepts: 1 to 100 of `A-Z a-z 0-9 . _ -`, not `.` or `..`, not ending in
/// `.git`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RepoName(String);

impl RepoName {
    pub fn parse(name: &str) -> Result<Self> {
        let allowed = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if name.is_empty() || name.len() > 100 || !allowed || name == "." || name == ".." || name.ends_with(".git") {
            return Err(Error::Unprocessable(format!(
                "{name:?} is not a valid repository name: use 1 to 100 letters, digits, '.', '_' or '-'"
            )));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whose account a repository is created in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Owner {
    /// The platform's organisation (`GITHUB_ORG`).
    #[default]
    Organisation,
    /// The caller's own connected GitHub account.
    User,
}

impl Owner {
    /// `organisation` (also when absent) or `user`; 422 for anything else.
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw {
            None | Some("organisation") => Ok(Self::Organisation),
            Some("user") => Ok(Self::User),
            Some(_) => Err(Error::Unprocessable("owner must be organisation or user".into())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pushed {
    pub repo_url: String,
    pub clone_url: String,
    pub deployment_guide: String,
    pub commit_sha: String,
}

#[derive(Debug, Deserialize)]
struct RepoRow {
    user_id: String,
    generation_id: String,
    status: String,
    repo_url: String,
    clone_url: String,
    branch: String,
    commit_sha: Option<String>,
}

pub struct Push<'a, D, H, K, C, X> {
    pub db: &'a D,
    pub github: &'a GitHub<'a, H, K, X>,
    pub clock: &'a C,
    /// Between polls of a repository GitHub is still creating (409 on its branch).
    pub retry_delay_ms: u64,
    /// The user's (login, token) when the repository goes to their own account.
    pub as_user: Option<(String, String)>,
    /// New repositories a user may create a day (`usage::BuilderLimits::pushes_per_day`). Resuming an
    /// unfinished push or repeating a finished one creates nothing and is not counted.
    pub pushes_per_day: u64,
}

impl<D: Database, H: HttpClient, K: KeyValue, C: Clock, X: Crypto> Push<'_, D, H, K, C, X> {
    async fn call(&self, method: &'static str, path: &str, body: Option<&Value>) -> Result<super::client::Answer> {
        self.github.call_as(self.as_user.as_ref().map(|(_, token)| token.as_str()), method, path, body).await
    }

    pub async fn run(
        &self,
        user_id: &str,
        request: &PushRequest,
        files: &[File],
        title: &str,
        deployment_guide: &str,
    ) -> Result<Pushed> {
        let org = match &self.as_user {
            Some((login, _)) => login.clone(),
            None => self.github.config.org.clone(),
        };
        let name = request.repo_name.as_str().to_owned();
        let existing: Option<RepoRow> = self
            .db
            .query_first(
                Statement::new(
                    "SELECT user_id, generation_id, status, repo_url, clone_url, branch, commit_sha
                     FROM github_repos WHERE owner = ?1 AND name = ?2",
                )
                .bind(org.as_str())
                .bind(name.as_str()),
            )
            .await?;
        let row = match existing {
            Some(row)
                if row.status != "deleted"
                    && (row.user_id != user_id || row.generation_id != request.generation_id) =>
            {
                return Err(Error::Conflict(format!("A repository named {name} already exists. Choose another name.")));
            }
            Some(row) if row.status == "pushed" => {
                return Ok(Pushed {
                    repo_url: row.repo_url,
                    clone_url: row.clone_url,
                    deployment_guide: deployment_guide.to_owned(),
                    commit_sha: row.commit_sha.unwrap_or_default(),
                });
            }
            // Deleted on GitHub since: the name is free again.
            Some(row) if row.status == "deleted" => self.create_counted(user_id, request, &org).await?,
            // Created by an earlier attempt that did not finish: resume.
            Some(row) => row,
            None => self.create_counted(user_id, request, &org).await?,
        };
        let sha = self.commit(&org, &name, &row.branch, files, title).await?;
        let now = self.clock.now_ms();
        let pushed = crate::events::EventType::parse("github.pushed")?;
        self.db
            .batch(vec![
                Statement::new(
                    "UPDATE github_repos SET status = 'pushed', commit_sha = ?3, updated_at = ?4 WHERE owner = ?1 AND name = ?2",
                )
                .bind(org.as_str())
                .bind(name.as_str())
                .bind(sha.as_str())
                .bind(now),
                crate::events::statement(Some(user_id), &pushed, &serde_json::json!({"repo": format!("{org}/{name}")}), now)?,
            ])
            .await?;
        Ok(Pushed {
            repo_url: row.repo_url,
            clone_url: row.clone_url,
            deployment_guide: deployment_guide.to_owned(),
            commit_sha: sha,
        })
    }

    /// [`Self::create`] within the day's push limit: reserved first, given back if nothing was created.
    async fn create_counted(&self, user_id: &str, request: &PushRequest, org: &str) -> Result<RepoRow> {
        let now = self.clock.now_ms();
        let reservation = usage::reserve(self.db, user_id, Meter::Pushes, self.pushes_per_day, now, |limit| {
            format!("You have pushed {limit} repositories today, the daily limit. It resets at midnight UTC.")
        })
        .await?;
        let created = self.create(user_id, request, org).await;
        if created.is_err() {
            usage::release_quietly(self.db, &reservation).await;
        }
        created
    }

    async fn create(&self, user_id: &str, request: &PushRequest, org: &str) -> Result<RepoRow> {
        let body = json!({"name": request.repo_name, "description": request.description, "private": request.private,
                          "auto_init": true, "has_wiki": false});
        let path = if self.as_user.is_some() { "/user/repos".to_owned() } else { format!("/orgs/{org}/repos") };
        let answer = self.call("POST", &path, Some(&body)).await?;
        if answer.status == 422 {
            let text = answer.body.to_string();
            if text.contains("already exists") {
                return Err(Error::Conflict(format!(
                    "A repository named {} already exists. Choose another name.",
                    request.repo_name.as_str()
                )));
            }
            let message = answer.body["errors"][0]["message"].as_str().or(answer.body["message"].as_str());
            return Err(Error::Unprocessable(format!(
                "GitHub refused the repository: {}",
                message.unwrap_or("invalid")
            )));
        }
        if !(200..300).contains(&answer.status) {
            return Err(Error::upstream(
                "creating a GitHub repository",
                format!("HTTP {}: {}", answer.status, answer.body),
            ));
        }
        let text = |field: &str| answer.body[field].as_str().unwrap_or_default().to_owned();
        let row = RepoRow {
            user_id: user_id.to_owned(),
            generation_id: request.generation_id.clone(),
            status: "created".into(),
            repo_url: text("html_url"),
            clone_url: text("clone_url"),
            branch: answer.body["default_branch"].as_str().unwrap_or("main").to_owned(),
            commit_sha: None,
        };
        let now: Millis = self.clock.now_ms();
        self.db
            .execute(
                Statement::new(
                    "INSERT OR REPLACE INTO github_repos (owner, name, user_id, generation_id, status, repo_url, clone_url, branch, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, 'created', ?5, ?6, ?7, ?8, ?8)",
                )
                .bind(org)
                .bind(request.repo_name.as_str())
                .bind(user_id)
                .bind(request.generation_id.as_str())
                .bind(row.repo_url.as_str())
                .bind(row.clone_url.as_str())
                .bind(row.branch.as_str())
                .bind(now),
            )
            .await?;
        Ok(row)
    }

    /// Every file in one commit on `branch`, whose parent is the branch's current head.
    async fn commit(&self, org: &str, name: &str, branch: &str, files: &[File], title: &str) -> Result<String> {
        let base = format!("/repos/{org}/{name}/git");
        // A new repository may answer 409 (empty) or 404 for a moment while GitHub creates it.
        let mut parent = None;
        for attempt in 0..6 {
            let answer = self.call("GET", &format!("{base}/ref/heads/{branch}"), None).await?;
            if answer.status == 200 {
                parent = answer.body.pointer("/object/sha").and_then(Value::as_str).map(str::to_owned);
                break;
            }
            if !matches!(answer.status, 404 | 409) || attempt == 5 {
                return Err(Error::upstream("reading the new repository's branch", format!("HTTP {}", answer.status)));
            }
            self.clock.sleep(self.retry_delay_ms).await;
        }
        let parent = parent.ok_or_else(|| Error::upstream("GitHub", "the branch has no commit"))?;
        let commit = self.call("GET", &format!("{base}/commits/{parent}"), None).await?;
        let base_tree = ok(&commit)?.pointer("/tree/sha").and_then(Value::as_str).unwrap_or_default().to_owned();
        let entries: Vec<Value> = files
            .iter()
            .map(|f| json!({"path": f.path, "mode": "100644", "type": "blob", "content": f.content}))
            .collect();
        let tree = self
            .github
            .call("POST", &format!("{base}/trees"), Some(&json!({"base_tree": base_tree, "tree": entries})))
            .await?;
        let tree = ok(&tree)?["sha"].as_str().unwrap_or_default().to_owned();
        let message = format!("{title}: generated by FHIR IQ\n\n{} files, FHIR R4.", files.len());
        let created = self
            .github
            .call(
                "POST",
                &format!("{base}/commits"),
                Some(&json!({"message": message, "tree": tree, "parents": [parent]})),
            )
            .await?;
        let sha = ok(&created)?["sha"].as_str().unwrap_or_default().to_owned();
        let moved = self
            .github
            .call("PATCH", &format!("{base}/refs/heads/{branch}"), Some(&json!({"sha": sha, "force": false})))
            .await?;
        ok(&moved)?;
        Ok(sha)
    }
}

fn ok(answer: &super::client::Answer) -> Result<&Value> {
    if (200..300).contains(&answer.status) {
        Ok(&answer.body)
    } else {
        Err(Error::upstream("GitHub's Git Data API", format!("HTTP {}: {}", answer.status, answer.body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_is_parsed_into_a_repository_name_and_an_owner() {
        let input = |name: &str, owner: Option<&str>, description: &str| PushInput {
            repo_name: name.into(),
            description: description.into(),
            private: true,
            generation_id: "g1".into(),
            owner: owner.map(str::to_owned),
        };
        let parsed = PushRequest::parse(input("fhir-app_2.0", None, "A patient portal")).expect("valid");
        assert_eq!((parsed.repo_name.as_str(), parsed.owner), ("fhir-app_2.0", Owner::Organisation));
        assert_eq!(PushRequest::parse(input("x", Some("user"), "")).expect("valid").owner, Owner::User);
        let long = "a".repeat(101);
        for bad in ["", ".", "..", "app.git", "my app", "app/../x", "é", long.as_str()] {
            let error = PushRequest::parse(input(bad, None, "")).expect_err(bad);
            assert_eq!(error.status_code(), 422, "{bad:?}");
        }
        assert!(RepoName::parse(&"a".repeat(100)).is_ok());
        let owner = PushRequest::parse(input("x", Some("someone-else"), "")).expect_err("owner");
        assert!(owner.to_string().contains("owner"), "{owner}");
        for description in ["two\nlines", &"d".repeat(351)] {
            assert_eq!(PushRequest::parse(input("x", None, description)).expect_err("desc").status_code(), 422);
        }
    }
}
