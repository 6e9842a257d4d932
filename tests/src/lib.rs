//! The integration-test harness: [`Platform`] starts the prebuilt workers in one `wrangler dev` on a
//! free port with its own local state (a copy of a start state prepared once per run: migrations,
//! demo accounts, knowledge base, content) and `--test-scheduled`, and stops it when dropped; [`FakeService`] stands in for an outside HTTP API (Slack, Anthropic, OpenAI, Stripe) and records every request it receives.
//!
//! Nothing here builds: `make test` builds the workers first.

mod fake;
pub mod github;
mod lone;
mod platform;
mod sqlite;
mod state;
pub mod stripe;

pub use fake::{FakeResponse, FakeService, Recorded};
pub use lone::LoneFunction;
pub use platform::{DEMO, Options, Platform, Reply, node_compile_cache, prepare_state, session_cookie};

/// The SQLite file of the local D1 `database` (`fhir-iq` or `fhir-iq-kb`) under a `--persist-to`
/// directory, found by the migrations it applied: None when no file there has applied them.
pub fn local_database(persist: &std::path::Path, database: &str) -> Option<std::path::PathBuf> {
    sqlite::applied_from(&local_d1_dir(persist), &root().join("migrations").join(database))
}

/// Where workerd keeps the SQLite files of the local D1 databases under a `--persist-to` directory.
pub fn local_d1_dir(persist: &std::path::Path) -> std::path::PathBuf {
    persist.join("v3/d1/miniflare-D1DatabaseObject")
}

/// The rows of one read-only statement against a local D1 file, as `wrangler d1 execute --json`
/// prints them, without starting wrangler (a Node start per query).
pub fn read_local(file: &std::path::Path, sql: &str) -> Vec<serde_json::Value> {
    sqlite::read_only(file, sql).unwrap_or_else(|| panic!("not a single read-only statement: {sql}"))
}

/// The repository root.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Milliseconds since the Unix epoch, as the platform stamps its rows.
/// `probe` every 200 ms until `done` holds of its answer or `timeout` has passed; the last answer, so
/// the caller's assertion says what was found.
pub fn poll<T>(timeout: std::time::Duration, mut probe: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let answer = probe();
        if done(&answer) || std::time::Instant::now() > deadline {
            return answer;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// Seconds since the Unix epoch, as signature timestamps and JWT claims count them.
pub fn now_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

/// Today's UTC date, `YYYY-MM-DD`, as the reports' ranges take it.
pub fn today() -> String {
    days_ago(0)
}

/// The UTC date `n` days ago.
pub fn days_ago(n: i64) -> String {
    shared::time::to_rfc3339(now_ms() - n * 86_400_000)[..10].to_owned()
}
