//! Upgrading a database that holds users, sessions, orders and progress, with the real tool
//! (`wrangler d1 migrations apply`, through scripts/migrate.sh, as `make dev` and deploys run it):
//! - from the previous migration (a database one release behind);
//! - from before migrations existed (stop 12's `make dev` state, made from the old schema.sql),
//!   which `make dev` must upgrade in place.
//!   Nothing is lost, the new columns exist, and a second run applies nothing.

use fhir_iq_tests::root;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const RECORD_ID: &str = "00000000-0000-4000-8000-000000000001";

fn wrangler(args: &[&str], persist: &Path) -> String {
    let output = Command::new(root().join("node_modules/.bin/wrangler"))
        .current_dir(root())
        .env("CI", "true")
        .env("WRANGLER_SEND_METRICS", "false")
        .env(
            "PATH",
            format!("{}:{}", root().join("node_modules/.bin").display(), std::env::var("PATH").unwrap_or_default()),
        )
        .args(args)
        .arg("--persist-to")
        .arg(persist)
        .output()
        .expect("wrangler runs");
    assert!(output.status.success(), "wrangler {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn migrate(persist: &Path) -> String {
    let output = Command::new(root().join("scripts/migrate.sh")).arg(persist).output().expect("migrate.sh runs");
    assert!(output.status.success(), "migrate.sh failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The rows of each statement, in one wrangler run (each costs a Node start).
fn query(config: &str, persist: &Path, statements: &[&str]) -> Vec<Vec<Value>> {
    let sql = statements.join(";\n");
    let out = wrangler(&["d1", "execute", "fhir-iq", "--local", "-c", config, "--json", "--command", &sql], persist);
    let parsed: Value = serde_json::from_str(&out).expect("wrangler --json output");
    let sets = parsed.as_array().expect("one result per statement");
    assert_eq!(sets.len(), statements.len(), "{out}");
    sets.iter().map(|set| set["results"].as_array().cloned().unwrap_or_default()).collect()
}

const ROWS: &str = "
INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES ('u1', 'ada@example.com', 'pbkdf2-sha256$1$s$h', 1, 1);
INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at) VALUES ('s1', 'u1', 1, 1, 99999999999999);
INSERT INTO orders (id, user_id, product, status, created_at) VALUES ('o1', 'u1', 'course-smart-on-fhir', 'completed', 2);
INSERT INTO user_progress (user_id, course_slug, lesson_slug, completed_at) VALUES ('u1', 'fhir-fundamentals', 'what-is-fhir', 3);";

const SNAPSHOT: [&str; 4] = [
    "SELECT id, email, password_hash, created_at FROM users",
    "SELECT id, user_id, expires_at FROM sessions",
    "SELECT id, user_id, product, status, created_at FROM orders",
    "SELECT user_id, course_slug, lesson_slug, completed_at FROM user_progress",
];

/// Every seeded row, read back whole.
fn snapshot(config: &str, persist: &Path) -> Vec<Value> {
    query(config, persist, &SNAPSHOT).concat()
}

fn migration_files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("migrations/fhir-iq"))
        .expect("migrations/fhir-iq")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

fn assert_upgraded(persist: &Path, before: &[Value]) {
    assert_eq!(before.len(), 4, "the four seeded rows: {before:?}");
    let mut statements = SNAPSHOT.to_vec();
    statements.extend([
        "SELECT name FROM d1_migrations ORDER BY id",
        "SELECT amount, currency, stripe_payment_intent FROM orders",
        "SELECT name FROM sqlite_master WHERE name LIKE 'kb_%'",
    ]);
    let sets = query("wrangler.toml", persist, &statements);
    assert_eq!(sets[..4].concat(), before, "rows changed in the upgrade");
    let applied: Vec<&str> = sets[4].iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(applied, migration_files(), "every migration is recorded once");
    // The new release's columns are there, and the knowledge base is no longer in this database.
    assert_eq!(sets[5], vec![serde_json::json!({"amount": null, "currency": null, "stripe_payment_intent": null})]);
    assert!(sets[6].is_empty(), "the knowledge base's tables left the database of record: {:?}", sets[6]);
    // Rerunning is a no-op.
    let again = migrate(persist);
    assert!(again.contains(r#""database":"DB","applied":0"#), "a second run applied something: {again}");
}

#[test]
fn a_database_at_the_previous_migration_upgrades_with_nothing_lost() {
    let state = tempfile::tempdir().expect("a temporary directory");
    let (persist, previous) = (state.path().join("persist"), state.path().join("previous"));
    // The previous release's migrations: all but the newest.
    std::fs::create_dir(&previous).expect("a directory");
    let files = migration_files();
    for name in &files[..files.len() - 1] {
        std::fs::copy(root().join("migrations/fhir-iq").join(name), previous.join(name)).expect("copied");
    }
    let config = state.path().join("wrangler.toml");
    std::fs::write(
        &config,
        format!(
            "name = \"previous-release\"\ncompatibility_date = \"2026-11-01\"\n[[d1_databases]]\nbinding = \"DB\"\n\
             database_name = \"fhir-iq\"\ndatabase_id = \"{RECORD_ID}\"\nmigrations_dir = \"{}\"\n",
            previous.display()
        ),
    )
    .expect("config written");
    let config = config.to_string_lossy().into_owned();
    wrangler(&["d1", "migrations", "apply", "fhir-iq", "--local", "-c", &config], &persist);
    wrangler(&["d1", "execute", "fhir-iq", "--local", "-c", &config, "--command", ROWS], &persist);
    let before = snapshot(&config, &persist);
    migrate(&persist);
    assert_upgraded(&persist, &before);
}

#[test]
fn a_database_made_from_the_old_schema_sql_upgrades_in_place() {
    let state = tempfile::tempdir().expect("a temporary directory");
    let persist = state.path().join("persist");
    // Stop 12's `make dev` applied schema.sql with `d1 execute`; the baseline migration is that file.
    wrangler(
        &[
            "d1",
            "execute",
            "fhir-iq",
            "--local",
            "-c",
            "wrangler.toml",
            "--file",
            "migrations/fhir-iq/0001_baseline.sql",
        ],
        &persist,
    );
    wrangler(&["d1", "execute", "fhir-iq", "--local", "-c", "wrangler.toml", "--command", ROWS], &persist);
    let before = snapshot("wrangler.toml", &persist);
    let out = migrate(&persist);
    assert!(out.contains(r#""database":"KB""#), "the knowledge base's database is migrated too: {out}");
    assert_upgraded(&persist, &before);
}
