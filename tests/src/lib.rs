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
pub use platform::{DEMO, Options, Platform, Reply, prepare_state, session_cookie};

/// The repository root.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// Today's UTC date, `YYYY-MM-DD`, as the reports' ranges take it.
pub fn today() -> String {
    days_ago(0)
}

/// The UTC date `n` days ago.
pub fn days_ago(n: i64) -> String {
    shared::time::to_rfc3339(now_ms() - n * 86_400_000)[..10].to_owned()
}
