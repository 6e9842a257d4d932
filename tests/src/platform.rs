//! Starts and stops the whole platform under `wrangler dev`, as `make dev` runs it, but on a free port
//! with its own persisted state directory (a copy of a prepared start state, see `state.rs`), and
//! talks to it over HTTP.

use crate::fake::FakeService;
use crate::github::FakeGitHub;
use crate::root;
use crate::state::{self, Step};
use crate::stripe::FakeStripe;
use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to start the platform.
pub struct Options {
    /// `--var NAME:VALUE` for the site worker (the first config).
    pub vars: Vec<(String, String)>,
    /// Apply the migrations to both databases before starting (false: D1s with no tables).
    pub schema: bool,
    /// Seed the demo accounts, as `make dev` does.
    pub demo_accounts: bool,
    /// Load the FHIR knowledge base, as `make dev` does (prepared once per run; a test whose variables
    /// configure an embedding provider loads it itself, with them).
    pub knowledge: bool,
    /// Load `content/` (tools, courses, posts), as `make dev` does.
    pub content: bool,
    /// Give the site, processAIQuery and createVectorEmbedding `AI` and `VECTORIZE` bindings, served
    /// by tests/fakes/bindings (the real ones are remote-only). `FAKE_AI_URL` names the HTTP fake the
    /// AI binding forwards each model run to.
    pub binding_fakes: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            vars: Vec::new(),
            schema: true,
            demo_accounts: true,
            knowledge: false,
            content: false,
            binding_fakes: false,
        }
    }
}

impl Options {
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Email sent through the fake provider `provider` (Resend's API), with a test key.
    pub fn email(self, provider: &FakeService) -> Self {
        self.var("EMAIL_API_BASE", &provider.url("")).var("EMAIL_API_KEY", "re_test_key")
    }

    /// Payments against the fake Stripe, its webhook deliveries signed with `webhook_secret`.
    pub fn stripe(self, stripe: &FakeStripe, webhook_secret: &str) -> Self {
        self.var("STRIPE_API_BASE", &stripe.url())
            .var("STRIPE_SECRET_KEY", crate::stripe::SECRET_KEY)
            .var("STRIPE_WEBHOOK_SECRET", webhook_secret)
    }

    /// Repositories pushed to the fake GitHub as the test App, installed in the test organisation.
    pub fn github_app(self, github: &FakeGitHub) -> Self {
        self.var("GITHUB_API_BASE", &github.url())
            .var("GITHUB_APP_ID", crate::github::APP_ID)
            // As a secret pasted on one line, newlines escaped.
            .var("GITHUB_APP_PRIVATE_KEY", &crate::github::PRIVATE_KEY.replace('\n', "\\n"))
            .var("GITHUB_INSTALLATION_ID", crate::github::INSTALLATION_ID)
            .var("GITHUB_ORG", crate::github::ORG)
    }

    /// GitHub accounts connected through the fake GitHub's OAuth flow, their tokens stored encrypted.
    pub fn github_sign_in(self, github: &FakeGitHub) -> Self {
        self.var("GITHUB_WEB_BASE", &github.url())
            .var("GITHUB_CLIENT_ID", crate::github::CLIENT_ID)
            .var("GITHUB_CLIENT_SECRET", crate::github::CLIENT_SECRET)
            .var("GITHUB_TOKEN_KEY", "a-32-character-or-longer-test-token-key")
    }

    /// The steps of `make dev`'s state these options ask for, in its order.
    fn steps(&self) -> Vec<Step> {
        let wanted = [
            (Step::Migrations, self.schema),
            (Step::Demo, self.schema && self.demo_accounts),
            (Step::Knowledge, self.schema && self.knowledge),
            (Step::Content, self.schema && self.content),
        ];
        wanted.iter().filter(|(_, on)| *on).map(|(step, _)| *step).collect()
    }

    /// How many of `steps` a shared template can hold: all, unless the knowledge base is built with
    /// this test's own embedding provider.
    fn shareable(&self, steps: &[Step]) -> usize {
        let own_knowledge = self.vars.iter().any(|(name, _)| state::affects_knowledge(name));
        steps.iter().position(|s| *s == Step::Knowledge && own_knowledge).unwrap_or(steps.len())
    }
}

pub struct Platform {
    pub base: String,
    persist: PathBuf,
    /// The SQLite file of each local D1 (fhir-iq, fhir-iq-kb), found on first query.
    databases: std::sync::OnceLock<Vec<(String, PathBuf)>>,
    child: Child,
    log: PathBuf,
    agent: ureq::Agent,
    _state: tempfile::TempDir,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port is free");
    listener.local_addr().expect("bound").port()
}

pub(crate) fn wrangler() -> PathBuf {
    root().join("node_modules/.bin/wrangler")
}

/// The `-c` arguments: the site worker first (it receives requests), then every function worker.
/// Workers that get the fake `AI` and `VECTORIZE` bindings: those that have them in production.
const WITH_BINDINGS: [&str; 3] = [
    "functions/platformApi/wrangler.toml",
    "functions/processAIQuery/wrangler.toml",
    "functions/createVectorEmbedding/wrangler.toml",
];

/// The config with the fake bindings added: a sibling file (so `main` and assets resolve the same
/// way), written whole and renamed into place, as tests run in parallel.
fn with_binding_fakes(config: &str) -> String {
    let original = std::fs::read_to_string(root().join(config)).expect("a wrangler config");
    let added = [("VECTORIZE", "FakeVectorize"), ("AI", "FakeAi")]
        .iter()
        .map(|(binding, entrypoint)| {
            format!("\n[[services]]\nbinding = \"{binding}\"\nservice = \"fhir-iq-binding-fakes\"\nentrypoint = \"{entrypoint}\"\n")
        })
        .collect::<String>();
    let fakes = config.replace("wrangler.toml", "wrangler.fakes.toml");
    let temporary = root().join(format!("{fakes}.{}", std::process::id()));
    std::fs::write(&temporary, original + &added).expect("writes the config");
    std::fs::rename(&temporary, root().join(&fakes)).expect("moves the config into place");
    fakes
}

fn configs(binding_fakes: bool) -> Vec<String> {
    let config =
        |c: &str| if binding_fakes && WITH_BINDINGS.contains(&c) { with_binding_fakes(c) } else { c.to_owned() };
    let mut args = vec!["-c".to_owned(), config("wrangler.toml")];
    let functions = root().join("functions");
    let mut names: Vec<String> = std::fs::read_dir(&functions)
        .expect("functions/ exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("wrangler.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        assert!(
            functions.join(&name).join("build/index.js").exists(),
            "functions/{name} is not built: run `make build` (make test does) before the integration tests"
        );
        args.push("-c".to_owned());
        args.push(config(&format!("functions/{name}/wrangler.toml")));
    }
    if binding_fakes {
        args.extend(["-c".to_owned(), "tests/fakes/bindings/wrangler.toml".to_owned()]);
    }
    args
}

/// Where Node keeps compiled wrangler code between starts: the make run's, or the repository's.
pub fn node_compile_cache() -> PathBuf {
    std::env::var_os("NODE_COMPILE_CACHE").map_or_else(|| root().join("target/node-compile-cache"), PathBuf::from)
}

/// A command for wrangler or a project script, started from a cleared environment: only what the tools
/// need, plus the quiet, isolated wrangler settings. Nothing of the developer's environment leaks in,
/// which matters because `wrangler dev` below passes its environment to the workers.
pub(crate) fn quiet_command(program: PathBuf, state: &Path) -> Command {
    let mut command = Command::new(program);
    command.env_clear();
    for name in ["PATH", "HOME", "TMPDIR", "LANG", "CARGO_HOME", "RUSTUP_HOME"] {
        if let Ok(value) = std::env::var(name) {
            command.env(name, value);
        }
    }
    command
        .current_dir(root())
        .env("CI", "true")
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        // Node's compile cache, shared by every wrangler start of the run (scripts/env.sh).
        .env("NODE_COMPILE_CACHE", node_compile_cache())
        // Each platform gets its own dev registry, so parallel tests never bind to each other's workers.
        .env("WRANGLER_REGISTRY_PATH", state.join("registry"))
        .env("XDG_CONFIG_HOME", state.join("config"))
        .stdin(Stdio::null());
    command
}

/// Makes in `persist` the local state `options` asks for (migrations, demo accounts, knowledge base,
/// content), as `make dev` would: a copy of the state prepared once per run, then whatever this test
/// must run itself (the knowledge base with its own embedding provider). `scratch`: wrangler's
/// config and registry for the steps run here.
fn prepare(options: &Options, persist: &Path, scratch: &Path) {
    let steps = options.steps();
    let shared = options.shareable(&steps);
    if shared > 0 {
        state::copy_dir(&state::template(&steps[..shared]), persist);
    }
    for step in &steps[shared..] {
        // The test's variables (an embedding provider, say) reach the indexer.
        let vars = if *step == Step::Knowledge { options.vars.as_slice() } else { &[] };
        step.run(persist, scratch, vars);
    }
}

/// Makes in `persist` (created) the local D1 and KV state `options` asks for, without starting the
/// platform: for tests that run the project's scripts on a `make dev` state themselves.
pub fn prepare_state(options: &Options, persist: &Path) {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir_all(persist).expect("creates the state directory");
    prepare(options, persist, scratch.path());
}

impl Platform {
    pub fn start() -> Self {
        Self::start_with(Options::default())
    }

    pub fn start_with(options: Options) -> Self {
        let state = tempfile::tempdir().expect("a temporary directory");
        let persist = state.path().join("persist");
        prepare(&options, &persist, state.path());
        Self::launch(state, persist, options)
    }

    /// Starts the platform on a copy of the persisted state in `persist`, with `options`' variables
    /// and binding fakes; `options`' state steps (migrations, demo accounts, ...) are not run.
    /// (tests/tests/backup.rs: the platform on a restored backup.)
    pub fn start_on(persist: &Path, options: Options) -> Self {
        let state = tempfile::tempdir().expect("a temporary directory");
        let copy = state.path().join("persist");
        state::copy_dir(persist, &copy);
        Self::launch(state, copy, options)
    }

    /// The directory this platform persists its local D1 and KV in (`--persist-to`), for the scripts
    /// that work on it (scripts/backup.sh).
    pub fn persist_dir(&self) -> &Path {
        &self.persist
    }

    /// `wrangler dev` on `persist`, its state (logs, dev registry) in `state`, until it serves.
    ///
    /// wrangler picks the ports of its workers' internal sockets itself; with tests starting
    /// platforms in parallel, two can pick the same one, and the later start fails at once with
    /// "Address already in use". Such a start is tried again on new ports (at most three times); any
    /// other failure fails the test.
    fn launch(state: tempfile::TempDir, persist: PathBuf, options: Options) -> Self {
        const ATTEMPTS: u32 = 3;
        for attempt in 1..=ATTEMPTS {
            let port = free_port();
            let (mut child, log) = Self::spawn(state.path(), &persist, &options, port);
            let agent = test_agent();
            let base = format!("http://127.0.0.1:{port}");
            match wait_until_serving(&mut child, &agent, &format!("{base}/_functions/health"), &log) {
                Ok(()) => {
                    let databases = std::sync::OnceLock::new();
                    return Self { base, persist, databases, child, log, agent, _state: state };
                }
                Err(output) if attempt < ATTEMPTS && output.contains("Address already in use") => stop(&mut child),
                Err(output) => {
                    stop(&mut child);
                    panic!("{output}");
                }
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// Starts `wrangler dev` for the platform on `port`; its output goes to the returned log file.
    fn spawn(state: &Path, persist: &Path, options: &Options, port: u16) -> (Child, PathBuf) {
        let mut vars = options.vars.clone();
        // Links the platform builds (checkout's return URLs, emails) point at this instance.
        if !vars.iter().any(|(name, _)| name == "SITE_URL") {
            vars.push(("SITE_URL".into(), format!("http://127.0.0.1:{port}")));
        }
        let log = state.join("wrangler.log");
        let log_file = File::create(&log).expect("log file");
        let mut command = quiet_command(wrangler(), state);
        command
            .arg("dev")
            .args(configs(options.binding_fakes))
            .args(["--ip", "127.0.0.1", "--port", &port.to_string()])
            .args(["--inspector-port", &free_port().to_string()])
            .arg("--persist-to")
            .arg(persist)
            .args(["--test-scheduled", "--show-interactive-dev-session=false"]);
        // `--var` reaches only the first config (the site worker). To reach every worker, wrangler
        // passes its (cleared) environment, with the test's variables added, to the workers as secrets.
        command.env("CLOUDFLARE_INCLUDE_PROCESS_ENV", "true");
        for (name, value) in &vars {
            command.env(name, value);
            command.args(["--var", &format!("{name}:{value}")]);
        }
        let child = command
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .process_group(0)
            .spawn()
            .expect("wrangler starts");
        (child, log)
    }

    /// The file wrangler's output goes to (a browser test reads emailed links there).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// wrangler's output so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The structured lines the workers logged (`"event"`: request, error, cron.job). wrangler prints
    /// each console line after the worker's name, and an error's in colour: the JSON is from the first
    /// `{` to the last `}`.
    pub fn log_events(&self) -> Vec<serde_json::Value> {
        self.log()
            .lines()
            .filter_map(|line| {
                let json = &line[line.find('{')?..=line.rfind('}')?];
                serde_json::from_str::<serde_json::Value>(json).ok()
            })
            .filter(|value| value.get("event").is_some())
            .collect()
    }

    /// Waits (briefly) until the log holds lines matching `wanted`, as console output reaches the log
    /// file a moment after the response.
    pub fn wait_for_log_events(&self, wanted: impl Fn(&[serde_json::Value]) -> bool) -> Vec<serde_json::Value> {
        crate::poll(std::time::Duration::from_secs(10), || self.log_events(), |lines| wanted(lines))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> Reply {
        Self::read(self.agent.get(self.url(path)).call())
    }

    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> Reply {
        Self::read(self.agent.post(self.url(path)).header("content-type", "application/json").send(body.to_string()))
    }

    pub fn request(&self, method: &str, path: &str) -> Reply {
        self.send(method, path, &[], None)
    }

    /// Any request: extra headers (a `cookie`, an `origin`) and an optional JSON body.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&serde_json::Value>) -> Reply {
        let mut builder = ureq::http::Request::builder().method(method).uri(self.url(path));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let result = match body {
            Some(json) => {
                let request =
                    builder.header("content-type", "application/json").body(json.to_string()).expect("valid request");
                self.agent.run(request)
            }
            None => self.agent.run(builder.body(()).expect("valid request")),
        };
        Self::read(result)
    }

    /// Signs in and answers the `cookie` header value that carries the session.
    pub fn sign_in(&self, email: &str, password: &str) -> String {
        let reply = self.post_json("/api/auth/signin", &serde_json::json!({"email": email, "password": password}));
        assert_eq!(reply.status, 200, "sign-in as {email} failed: {}", reply.body);
        session_cookie(&reply).unwrap_or_else(|| panic!("no session cookie in {:?}", reply.headers))
    }

    /// Signs up and confirms the address through the link of its verification email, as a new user
    /// would before buying, enrolling, connecting GitHub or joining a team: the session cookie.
    pub fn sign_up_verified(&self, email: &str, password: &str) -> String {
        let reply = self.post_json("/api/auth/signup", &serde_json::json!({"email": email, "password": password}));
        assert_eq!(reply.status, 201, "sign-up as {email} failed: {}", reply.body);
        let cookie = session_cookie(&reply).unwrap_or_else(|| panic!("no session cookie in {:?}", reply.headers));
        let token = self.emailed_verification_token(email);
        let verified = self.post_json("/api/auth/verify-email", &serde_json::json!({"token": token}));
        assert_eq!(verified.status, 200, "verifying {email} failed: {}", verified.body);
        cookie
    }

    /// A new account for `email`, signed up with a test passphrase and confirmed: (session cookie, user id).
    pub fn member(&self, email: &str) -> (String, String) {
        let cookie = self.sign_up_verified(email, "a long enough passphrase 42");
        (cookie, self.user_id(email))
    }

    /// The id of the account with `email`.
    pub fn user_id(&self, email: &str) -> String {
        let rows = self.query(&format!("SELECT id FROM users WHERE email = '{email}'"));
        rows[0]["id"].as_str().map(str::to_owned).unwrap_or_else(|| panic!("no user with {email}: {rows:?}"))
    }

    /// The token of the newest verification link emailed to `email`.
    pub fn emailed_verification_token(&self, email: &str) -> String {
        self.emailed_token(email, "Confirm your email address", "/verify-email?token=")
    }

    /// The token after `param` in the newest email to `to` whose subject starts with `subject`.
    /// Without an email provider (the tests' default), the platform writes each email to its log, as
    /// `make dev` shows it to a developer: the link is read there, once the email has been delivered
    /// after the response.
    pub fn emailed_token(&self, to: &str, subject: &str, param: &str) -> String {
        let marker = format!("to {to}: {subject}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = self.log();
            let token: String = log
                .rsplit_once(&marker)
                .and_then(|(_, after)| after.split_once(param))
                .map(|(_, rest)| rest.chars().take_while(char::is_ascii_hexdigit).collect())
                .unwrap_or_default();
            if !token.is_empty() {
                return token;
            }
            assert!(Instant::now() < deadline, "no email to {to} about {subject:?} in the log:\n{log}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends a request as the holder of `cookie`.
    pub fn send_as(&self, cookie: &str, method: &str, path: &str, body: Option<&serde_json::Value>) -> Reply {
        self.send(method, path, &[("cookie", cookie)], body)
    }

    /// Rows of a query against the platform's database of record (`fhir-iq`), as JSON objects, as
    /// `wrangler d1 execute --json` gives them (test assertions about what was stored, such as "no
    /// session row is left").
    pub fn query(&self, sql: &str) -> Vec<serde_json::Value> {
        self.query_database("fhir-iq", sql)
    }

    /// The `n` of the first row of `sql` (`SELECT COUNT(*) AS n ...`), -1 when it is not a number.
    pub fn count(&self, sql: &str) -> i64 {
        self.query(sql)[0]["n"].as_i64().unwrap_or(-1)
    }

    /// Waits (up to 15 s) until `sql`'s count (`SELECT COUNT(*) AS n ...`) reaches `at_least`, for
    /// what a queue consumer writes a moment after the request (analytics events); returns the last
    /// count, so the caller's assertion says what was found.
    pub fn wait_for_count(&self, sql: &str, at_least: i64) -> i64 {
        crate::poll(std::time::Duration::from_secs(15), || self.count(sql), |n| *n >= at_least)
    }

    /// Rows of a query against the knowledge base's database (`fhir-iq-kb`, binding KB).
    pub fn query_kb(&self, sql: &str) -> Vec<serde_json::Value> {
        self.query_database("fhir-iq-kb", sql)
    }

    /// A read-only statement is read straight from the SQLite file workerd persists (WAL mode, so a
    /// reader sees every committed write and never blocks the platform); anything else goes through
    /// `wrangler d1 execute`, as D1 itself would run it.
    fn query_database(&self, database: &str, sql: &str) -> Vec<serde_json::Value> {
        if let Some(file) = self.database_file(database)
            && let Some(rows) = crate::sqlite::read_only(&file, sql)
        {
            return rows;
        }
        // A second workerd (wrangler's) writing the file the running platform holds can meet its
        // lock (SQLITE_BUSY) while the platform writes too, as a queue consumer's retry does: wait
        // and run the statement again, as an operator would, for up to 20 s.
        let deadline = Instant::now() + Duration::from_secs(20);
        let output = loop {
            let output = quiet_command(wrangler(), self._state.path())
                .args(["d1", "execute", database, "--local", "-c", "wrangler.toml", "--json", "--command", sql])
                .arg("--persist-to")
                .arg(&self.persist)
                .output()
                .expect("wrangler runs");
            let busy = String::from_utf8_lossy(&output.stderr).contains("SQLITE_BUSY")
                || String::from_utf8_lossy(&output.stdout).contains("SQLITE_BUSY");
            if output.status.success() || !busy || Instant::now() >= deadline {
                break output;
            }
            std::thread::sleep(Duration::from_millis(250));
        };
        assert!(output.status.success(), "query failed: {}", String::from_utf8_lossy(&output.stderr));
        let parsed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("wrangler --json output");
        parsed[0]["results"].as_array().cloned().unwrap_or_default()
    }

    /// The SQLite file holding `database`: the one whose applied migrations are that database's.
    fn database_file(&self, database: &str) -> Option<PathBuf> {
        let found = self.databases.get_or_init(|| {
            let dir = self.persist.join("v3/d1/miniflare-D1DatabaseObject");
            ["fhir-iq", "fhir-iq-kb"]
                .iter()
                .filter_map(|name| {
                    crate::sqlite::applied_from(&dir, &root().join("migrations").join(name))
                        .map(|file| (name.to_string(), file))
                })
                .collect()
        });
        found.iter().find(|(name, _)| name == database).map(|(_, file)| file.clone())
    }

    /// Fires a cron trigger and waits for its handler to finish.
    pub fn fire_cron(&self, cron: &str) {
        let reply = self.get(&format!("/__scheduled?cron={}", cron.replace(' ', "+")));
        assert_eq!(reply.status, 200, "cron {cron} did not run: {}\n{}", reply.body, self.log());
    }

    pub(crate) fn read(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = result.unwrap_or_else(|e| panic!("request failed: {e}"));
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Reply { status, headers, body }
    }
}

/// `fhiriq_session=<token>` from a response's Set-Cookie, ready to send back as a `cookie` header.
pub fn session_cookie(reply: &Reply) -> Option<String> {
    let set_cookie = reply.header("set-cookie")?;
    let pair = set_cookie.split(';').next()?.trim();
    (pair.starts_with("fhiriq_session=") && pair.len() > "fhiriq_session=".len()).then(|| pair.to_owned())
}

/// The demo accounts `make dev` seeds: (role, email, password).
pub const DEMO: [(&str, &str, &str); 5] = [
    ("free", "free@demo.fhiriq.test", "fhiriq-demo-free"),
    ("student", "student@demo.fhiriq.test", "fhiriq-demo-student"),
    ("pro", "pro@demo.fhiriq.test", "fhiriq-demo-pro"),
    ("enterprise", "enterprise@demo.fhiriq.test", "fhiriq-demo-enterprise"),
    ("admin", "admin@demo.fhiriq.test", "fhiriq-demo-admin"),
];

impl Drop for Platform {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Waits until `health` answers JSON (for the platform, the health function through the site: every
/// worker is up); `Err` with the log when wrangler exits first. 90 s at most.
pub(crate) fn wait_until_serving(
    child: &mut Child,
    agent: &ureq::Agent,
    health: &str,
    log: &Path,
) -> Result<(), String> {
    let output = || std::fs::read_to_string(log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("wrangler exited ({status}) before serving:\n{}", output()));
        }
        if let Ok(response) = agent.get(health).call()
            // Any answer (ok or down) means it is up.
            && response.headers().get("content-type").is_some_and(|v| v.to_str().unwrap_or("").contains("json"))
        {
            return Ok(());
        }
        assert!(Instant::now() < deadline, "wrangler did not serve within 90 s:\n{}", output());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The HTTP client of the tests: every status is an answer to check (never an error), redirects
/// are answers too, and nothing waits more than 30 seconds.
pub(crate) fn test_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Stops a `wrangler dev` started with its own process group: wrangler runs workerd as a child, so
/// the whole group is ended, politely first.
pub(crate) fn stop(child: &mut std::process::Child) {
    let pgid = child.id();
    let _ = Command::new("kill").args(["-TERM", "--", &format!("-{pgid}")]).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pgid}")]).status();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_state_is_shared_unless_the_knowledge_base_takes_the_tests_own_provider() {
        let all = Options { knowledge: true, content: true, ..Options::default() };
        assert_eq!(all.steps(), [Step::Migrations, Step::Demo, Step::Knowledge, Step::Content]);
        assert_eq!(all.shareable(&all.steps()), 4);
        // Variables the indexer does not read keep the prepared knowledge base.
        let browser = Options { knowledge: true, content: true, ..Options::default().var("STRIPE_API_BASE", "x") };
        assert_eq!(browser.shareable(&browser.steps()), 4);
        let embedding = Options { knowledge: true, ..Options::default().var("EMBEDDING_PROVIDER", "openai") };
        assert_eq!(embedding.steps(), [Step::Migrations, Step::Demo, Step::Knowledge]);
        assert_eq!(embedding.shareable(&embedding.steps()), 2, "the test loads the knowledge base itself");
        let empty = Options { schema: false, knowledge: true, ..Options::default() };
        assert!(empty.steps().is_empty(), "no migrations: nothing else either");
        let bare = Options { demo_accounts: false, ..Options::default() };
        assert_eq!(bare.steps(), [Step::Migrations]);
    }
}
