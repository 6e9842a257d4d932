//! A fake of the GitHub API for the Builder's pushes: the App JWT is verified with the App's public
//! key and its claims checked (iat in the past, exp within ten minutes, iss the App id), installation
//! tokens are issued and required, repositories are created in an organisation (auto_init makes a
//! first commit; a new repository answers 409 on its branch once, as GitHub does while creating it),
//! and the Git Data API (refs, commits, trees) keeps every tree and commit so a test can see exactly
//! what was pushed. Failures can be injected: a rate limit, an outage.

use crate::fake::{FakeResponse, FakeService, Recorded};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const APP_ID: &str = "424242";
pub const INSTALLATION_ID: &str = "777";
pub const ORG: &str = "fhiriq-apps";
/// The OAuth client (user-to-server) and the user who connects.
pub const CLIENT_ID: &str = "Iv1.fhiriqtest";
pub const CLIENT_SECRET: &str = "client-secret-for-tests";
pub const USER_LOGIN: &str = "octo-dev";
/// The authorization code the fake's authorize page hands out.
pub const CODE: &str = "code-from-github";
/// The App's private key (PKCS#1, as GitHub issues them): test-only, also used by shared's tests.
pub const PRIVATE_KEY: &str = include_str!("../../shared/data/test-github-app-key.pem");

#[derive(Default, Clone)]
pub struct Repo {
    pub private: bool,
    pub head: String,
    /// sha -> (tree sha, parents, message)
    pub commits: HashMap<String, (String, Vec<String>, String)>,
    /// sha -> the entries posted for it
    pub trees: HashMap<String, Vec<Value>>,
    not_ready: u32,
}

#[derive(Default)]
struct State {
    next: u32,
    base: String,
    tokens: Vec<String>,
    /// User-to-server tokens (ghu_...) and refresh tokens (ghr_...).
    user_tokens: Vec<String>,
    refresh_tokens: Vec<String>,
    /// Repositories by `owner/name`.
    repos: HashMap<String, Repo>,
    /// Injected answers for the next API calls (not token requests).
    failures: Vec<FakeResponse>,
    /// One-shot answers for the next call with this method whose path ends so.
    targeted: Vec<(String, String, FakeResponse)>,
    /// Why each refused JWT was refused.
    pub refused_jwts: Vec<String>,
}

pub struct FakeGitHub {
    pub service: FakeService,
    state: Arc<Mutex<State>>,
}

fn message(status: u16, text: &str) -> FakeResponse {
    FakeResponse::json(status, &json!({"message": text, "documentation_url": "https://docs.github.com/rest"}))
}

/// Checks an App JWT as GitHub does; answers why not, if not.
fn check_jwt(jwt: &str) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else { return Err("not three parts".into()) };
    let key = rsa::PrivateKey::from_pkcs1_pem(PRIVATE_KEY).map_err(|e| e.to_string())?.to_public_key();
    let signature = Signature::try_from(URL_SAFE_NO_PAD.decode(signature).map_err(|e| e.to_string())?.as_slice())
        .map_err(|e| e.to_string())?;
    VerifyingKey::<sha2::Sha256>::new(key)
        .verify(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| "bad signature".to_string())?;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if header["alg"] != "RS256" {
        return Err(format!("alg {}", header["alg"]));
    }
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let (iat, exp) = (claims["iat"].as_i64().unwrap_or(i64::MAX), claims["exp"].as_i64().unwrap_or(0));
    let now = crate::now_seconds();
    if iat > now {
        return Err("iat is in the future".into());
    }
    if exp <= now || exp > now + 600 {
        return Err("exp is not within ten minutes".into());
    }
    if claims["iss"].as_str() != Some(APP_ID)
        && claims["iss"].as_i64().map(|i| i.to_string()).as_deref() != Some(APP_ID)
    {
        return Err(format!("iss {}", claims["iss"]));
    }
    Ok(())
}

impl FakeGitHub {
    pub fn start() -> Self {
        let (service, state) = FakeService::start_stateful(|base| State { base, ..State::default() }, answer);
        Self { service, state }
    }

    pub fn url(&self) -> String {
        self.service.url("")
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("fake GitHub state"))
    }

    /// A repository in the organisation.
    pub fn repo(&self, name: &str) -> Option<Repo> {
        self.with(|s| s.repos.get(&format!("{ORG}/{name}")).cloned())
    }

    /// A repository in the connected user's own account.
    pub fn user_repo(&self, name: &str) -> Option<Repo> {
        self.with(|s| s.repos.get(&format!("{USER_LOGIN}/{name}")).cloned())
    }

    /// A repository that already exists (someone else's).
    pub fn existing(&self, name: &str) {
        self.with(|s| {
            s.repos.insert(format!("{ORG}/{name}"), Repo::default());
        });
    }

    /// The next API calls (after token requests) answer these, in order.
    pub fn fail_next(&self, answers: Vec<FakeResponse>) {
        self.with(|s| s.failures = answers);
    }

    /// The next `method` call whose path ends with `suffix` answers `response` (once).
    pub fn fail_when(&self, method: &str, suffix: &str, response: FakeResponse) {
        self.with(|s| s.targeted.push((method.into(), suffix.into(), response)));
    }

    pub fn tokens_issued(&self) -> usize {
        self.with(|s| s.tokens.len())
    }

    pub fn refused_jwts(&self) -> Vec<String> {
        self.with(|s| s.refused_jwts.clone())
    }

    pub fn received(&self, path: &str) -> Vec<Recorded> {
        self.service.received(path)
    }
}

fn answer(state: &Mutex<State>, request: &Recorded) -> FakeResponse {
    let mut s = state.lock().expect("fake GitHub state");
    let path = request.path.split('?').next().unwrap_or_default().to_owned();
    if request.header("user-agent").is_none_or(str::is_empty) {
        return message(
            403,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        );
    }
    let bearer = request.header("authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or_default().to_owned();
    if path == format!("/app/installations/{INSTALLATION_ID}/access_tokens") && request.method == "POST" {
        if let Err(why) = check_jwt(&bearer) {
            s.refused_jwts.push(why);
            return message(401, "A JSON web token could not be decoded");
        }
        s.next += 1;
        let token = format!("ghs_test{:04}", s.next);
        s.tokens.push(token.clone());
        let expires = shared::time::to_rfc3339((crate::now_seconds() + 3_600) * 1_000);
        return FakeResponse::json(201, &json!({"token": token, "expires_at": expires.replace(".000Z", "Z")}));
    }
    if path == "/login/oauth/access_token" && request.method == "POST" {
        let form: HashMap<String, String> = form_urlencoded::parse(request.body.as_bytes()).into_owned().collect();
        let client_ok = form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
            && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
        if !client_ok {
            return FakeResponse::json(
                200,
                &json!({"error": "incorrect_client_credentials",
                "error_description": "The client_id and/or client_secret passed are incorrect."}),
            );
        }
        let granted = match (form.get("code"), form.get("refresh_token")) {
            (Some(code), _) => code == CODE,
            (None, Some(refresh)) => s.refresh_tokens.contains(refresh),
            _ => false,
        };
        if !granted {
            return FakeResponse::json(
                200,
                &json!({"error": "bad_verification_code",
                "error_description": "The code passed is incorrect or expired."}),
            );
        }
        s.next += 1;
        let (access, refresh) = (format!("ghu_test{:04}", s.next), format!("ghr_test{:04}", s.next));
        s.user_tokens.push(access.clone());
        s.refresh_tokens.push(refresh.clone());
        return FakeResponse::json(
            200,
            &json!({"access_token": access, "expires_in": 28_800, "refresh_token": refresh,
            "refresh_token_expires_in": 15_897_600, "token_type": "bearer", "scope": ""}),
        );
    }
    let as_user = s.user_tokens.contains(&bearer);
    if !s.tokens.contains(&bearer) && !as_user {
        return message(401, "Bad credentials");
    }
    if path == "/user" && request.method == "GET" {
        return if as_user {
            FakeResponse::json(200, &json!({"login": USER_LOGIN, "id": 583_231, "type": "User"}))
        } else {
            message(403, "Resource not accessible by integration")
        };
    }
    if !s.failures.is_empty() {
        return s.failures.remove(0);
    }
    if let Some(i) =
        s.targeted.iter().position(|(m, suffix, _)| *m == request.method && path.ends_with(suffix.as_str()))
    {
        return s.targeted.remove(i).2;
    }
    let base = s.base.clone();
    let body = serde_json::from_str::<Value>(&request.body).unwrap_or(Value::Null);
    let owner = if path == "/user/repos" { USER_LOGIN } else { ORG };
    if path == "/user/repos" && !as_user {
        // As GitHub: an installation token cannot create a repository in a personal account.
        return message(403, "Resource not accessible by integration");
    }
    if (path == format!("/orgs/{ORG}/repos") || path == "/user/repos") && request.method == "POST" {
        let name = body["name"].as_str().unwrap_or_default().to_owned();
        let full = format!("{owner}/{name}");
        if s.repos.contains_key(&full) {
            return FakeResponse::json(
                422,
                &json!({"message": "Repository creation failed.",
                "errors": [{"resource": "Repository", "code": "custom", "field": "name", "message": "name already exists on this account"}]}),
            );
        }
        s.next += 1;
        let (commit, tree) = (format!("c{:04}", s.next), format!("t{:04}", s.next));
        let mut repo = Repo {
            private: body["private"].as_bool().unwrap_or(false),
            head: commit.clone(),
            not_ready: 1,
            ..Repo::default()
        };
        repo.commits.insert(commit, (tree.clone(), Vec::new(), "Initial commit".into()));
        repo.trees.insert(tree, vec![json!({"path": "README.md"})]);
        s.repos.insert(full.clone(), repo);
        return FakeResponse::json(
            201,
            &json!({"name": name, "full_name": full,
            "html_url": format!("{base}/{full}"), "clone_url": format!("{base}/{full}.git"),
            "default_branch": "main", "private": body["private"]}),
        );
    }
    let Some(rest) = path.strip_prefix("/repos/") else {
        return message(404, "Not Found");
    };
    let (full, git) = rest.split_once("/git/").unwrap_or((rest, ""));
    let Some(repo) = s.repos.get_mut(full) else { return message(404, "Not Found") };
    let sha = |prefix: &str, n: usize| format!("{prefix}{n:04}x");
    match (request.method.as_str(), git) {
        ("GET", "ref/heads/main") => {
            if repo.not_ready > 0 {
                repo.not_ready -= 1;
                return message(409, "Git Repository is empty.");
            }
            FakeResponse::json(200, &json!({"ref": "refs/heads/main", "object": {"type": "commit", "sha": repo.head}}))
        }
        ("GET", commit) if commit.starts_with("commits/") => {
            let id = &commit["commits/".len()..];
            match repo.commits.get(id) {
                Some((tree, parents, _)) => FakeResponse::json(
                    200,
                    &json!({"sha": id, "tree": {"sha": tree},
                    "parents": parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>()}),
                ),
                None => message(404, "Not Found"),
            }
        }
        ("POST", "trees") => {
            if !body["base_tree"].as_str().is_some_and(|t| repo.trees.contains_key(t)) {
                return message(422, "base_tree is not a tree of this repository");
            }
            let entries = body["tree"].as_array().cloned().unwrap_or_default();
            if entries.iter().any(|e| e["mode"] != "100644" || e["type"] != "blob" || !e["content"].is_string()) {
                return message(422, "Invalid tree entry");
            }
            let id = sha("t", repo.trees.len() + 100);
            repo.trees.insert(id.clone(), entries);
            FakeResponse::json(201, &json!({"sha": id}))
        }
        ("POST", "commits") => {
            let tree = body["tree"].as_str().unwrap_or_default().to_owned();
            if !repo.trees.contains_key(&tree) {
                return message(422, "tree is not a tree of this repository");
            }
            let parents: Vec<String> = body["parents"]
                .as_array()
                .map(|p| p.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            let id = sha("c", repo.commits.len() + 100);
            repo.commits.insert(id.clone(), (tree, parents, body["message"].as_str().unwrap_or_default().into()));
            FakeResponse::json(201, &json!({"sha": id}))
        }
        ("PATCH", "refs/heads/main") => {
            let target = body["sha"].as_str().unwrap_or_default().to_owned();
            let fast_forward = repo.commits.get(&target).is_some_and(|(_, parents, _)| parents.contains(&repo.head));
            if !fast_forward && body["force"] != true {
                return message(422, "Update is not a fast forward");
            }
            repo.head = target.clone();
            FakeResponse::json(200, &json!({"ref": "refs/heads/main", "object": {"type": "commit", "sha": target}}))
        }
        _ => message(404, "Not Found"),
    }
}
