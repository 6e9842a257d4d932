//! Backup and restore, end to end with the real tools (docs/operations.md): `make backup` exports a
//! running platform's database of record, `make restore` puts it into an empty directory, every table
//! comes back with the same rows, and the platform started on the restored database signs in the user
//! seeded before. Also what a restore refuses (a database that is not empty, without FORCE=1; a
//! backup newer than the code's migrations) and the nightly R2 export's data-only file restoring.

use fhir_iq_tests::{
    DEMO, Options, Platform, local_d1_dir, local_database, node_compile_cache, prepare_state, read_local, root,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EMAIL: &str = "backup.user@example.org";
const PASSWORD: &str = "a long enough passphrase 42";
const COURSE: &str = "fhir-fundamentals";
const QUIZ: &str = "/api/courses/fhir-fundamentals/quizzes/fundamentals-check";

/// A project command from the repository root with a cleared environment (nothing of a surrounding
/// make, such as MAKEFLAGS, leaks in), as the platform harness runs its tools.
fn command(program: &str) -> Command {
    let mut command = Command::new(program);
    command.env_clear();
    for name in ["HOME", "TMPDIR", "LANG", "CARGO_HOME", "RUSTUP_HOME"] {
        if let Ok(value) = std::env::var(name) {
            command.env(name, value);
        }
    }
    // Node 22 from npm before the machine's own (wrangler needs it), as the Makefile and
    // scripts/env.sh put it, also when the test runs outside make.
    let path = std::env::var("PATH").unwrap_or_default();
    command.env("PATH", format!("{}:{path}", root().join("node_modules/.bin").display()));
    command.current_dir(root()).env("CI", "true").env("WRANGLER_SEND_METRICS", "false");
    command.env("NODE_COMPILE_CACHE", node_compile_cache());
    command
}

fn make(args: &[&str], backup_dir: Option<&Path>) -> Output {
    let mut make = command("make");
    make.arg("--no-print-directory").args(args);
    if let Some(dir) = backup_dir {
        make.env("BACKUP_DIR", dir);
    }
    make.output().expect("make runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn persist_arg(dir: &Path) -> String {
    format!("PERSIST_DIR={}", dir.display())
}

/// `make backup` of `persist` into `into`: the file it wrote, after checking what it printed.
fn backup(persist: &Path, into: &Path) -> PathBuf {
    let output = make(&["backup", &persist_arg(persist)], Some(into));
    assert!(output.status.success(), "make backup failed:\n{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let summary: Value = stdout
        .lines()
        .find_map(|line| serde_json::from_str(line).ok().filter(|v: &Value| v["event"] == "backup.completed"))
        .unwrap_or_else(|| panic!("no backup.completed log line in:\n{stdout}"));
    let file = PathBuf::from(summary["file"].as_str().expect("the file in the log line"));
    assert!(file.starts_with(into) && file.exists(), "{file:?} is in {into:?}");
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    assert!(name.starts_with("fhir-iq-local-") && name.ends_with("Z.sql"), "a dated name: {name}");
    assert!(stdout.contains(&file.display().to_string()), "the path is printed:\n{stdout}");
    let users = stdout.lines().find(|l| l.split_whitespace().next() == Some("users")).expect("a users row");
    assert!(users.split_whitespace().nth(1).and_then(|n| n.parse::<u64>().ok()).is_some(), "{users}");
    file
}

fn restore(file: &Path, persist: &Path, force: bool) -> Output {
    let backup = format!("BACKUP={}", file.display());
    let mut args = vec!["restore", &backup];
    let persist = persist_arg(persist);
    args.push(&persist);
    if force {
        args.push("FORCE=1");
    }
    make(&args, None)
}

/// Every table and view of the local `fhir-iq` under `persist` with its rows (each as JSON text,
/// sorted), read from the SQLite file workerd keeps, as D1 answers them. Empty when no database
/// there holds a table.
fn contents(persist: &Path) -> BTreeMap<String, Vec<String>> {
    let Some(file) = local_database(persist, "fhir-iq") else {
        let files: Vec<PathBuf> = std::fs::read_dir(local_d1_dir(persist))
            .map(|dir| {
                dir.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "sqlite")).collect()
            })
            .unwrap_or_default();
        let tables: u64 = files
            .iter()
            .map(|file| read_local(file, "SELECT COUNT(*) AS n FROM sqlite_master")[0]["n"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(tables, 0, "{files:?}: none of them the migrated fhir-iq, with {tables} tables");
        return BTreeMap::new();
    };
    let names = read_local(
        &file,
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '_cf_%' ORDER BY name",
    );
    names
        .iter()
        .map(|row| {
            let name = row["name"].as_str().expect("a name").to_owned();
            let mut rows: Vec<String> =
                read_local(&file, &format!("SELECT * FROM \"{name}\"")).iter().map(Value::to_string).collect();
            rows.sort();
            (name, rows)
        })
        .collect()
}

fn rows(contents: &BTreeMap<String, Vec<String>>, table: &str) -> usize {
    contents.get(table).map_or(0, Vec::len)
}

/// A user, an order, an enrolment, two quiz attempts, a completed lesson and a sales inquiry whose
/// text has a line break, quotes and non-ASCII letters, all through the API.
fn seed(platform: &Platform) {
    let user = platform.sign_up_verified(EMAIL, PASSWORD);
    let (_, admin_email, admin_password) = DEMO[4];
    let admin = platform.sign_in(admin_email, admin_password);
    let order = json!({"email": EMAIL, "product": format!("course:{COURSE}"), "status": "completed"});
    let ordered = platform.send_as(&admin, "POST", "/api/admin/orders", Some(&order));
    assert_eq!(ordered.status, 200, "{}", ordered.body);
    let enrolled = platform.send_as(&user, "POST", &format!("/api/courses/{COURSE}/enroll"), None);
    assert_eq!(enrolled.status, 201, "{}", enrolled.body);
    let quiz = platform.send_as(&user, "GET", QUIZ, None);
    assert_eq!(quiz.status, 200, "{}", quiz.body);
    let blank: serde_json::Map<String, Value> = quiz.json()["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .map(|q| (q["id"].as_str().unwrap_or_default().to_owned(), json!([])))
        .collect();
    let attempts = format!("{QUIZ}/attempts");
    let first = platform.send_as(&user, "POST", &attempts, Some(&json!({"answers": blank})));
    assert_eq!(first.status, 201, "{}", first.body);
    let right: serde_json::Map<String, Value> = first.json()["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| (r["id"].as_str().unwrap_or_default().to_owned(), r["answer"].clone()))
        .collect();
    let second = platform.send_as(&user, "POST", &attempts, Some(&json!({"answers": right})));
    assert_eq!(second.status, 201, "{}", second.body);
    let lesson = platform.send_as(&user, "POST", &format!("/api/courses/{COURSE}/lessons/what-is-fhir/complete"), None);
    assert_eq!(lesson.status, 200, "{}", lesson.body);
    let inquiry = json!({"name": "Zoë O'Brien", "email": "zoe@hospital.test", "company": "St. \"Elsewhere\"",
                         "seats": 12, "message": "Two lines;\nDROP TABLE users; -- it's only text"});
    let asked = platform.post_json("/api/billing/contact-sales", &inquiry);
    assert_eq!(asked.status, 201, "{}", asked.body);
}

#[test]
fn a_backup_restores_every_table_into_an_empty_directory_and_its_users_sign_in() {
    let platform = Platform::start_with(Options { content: true, ..Options::default() });
    seed(&platform);
    let backups = tempfile::tempdir().expect("a directory for backups");
    let file = backup(platform.persist_dir(), backups.path());
    let original = contents(platform.persist_dir());
    drop(platform);

    let target = tempfile::tempdir().expect("a directory to restore into");
    let restored_dir = target.path().join("persist");
    let output = restore(&file, &restored_dir, false);
    assert!(output.status.success(), "make restore failed:\n{}", text(&output));
    let restored = contents(&restored_dir);

    assert_eq!(restored.keys().collect::<Vec<_>>(), original.keys().collect::<Vec<_>>(), "the same tables");
    for (table, rows) in &original {
        assert_eq!(restored[table].len(), rows.len(), "{table}: row count");
        assert_eq!(&restored[table], rows, "{table}: contents");
    }
    for (table, at_least) in [
        ("users", 6),
        ("orders", 2),
        ("enrollments", 1),
        ("quiz_attempts", 2),
        ("quiz_answers", 1),
        ("user_progress", 1),
        ("sales_inquiries", 1),
        ("content_courses", 3),
        ("d1_migrations", 4),
    ] {
        assert!(rows(&restored, table) >= at_least, "{table} holds the seeded rows: {:?}", restored.get(table));
    }
    assert!(restored["sales_inquiries"][0].contains(r"Two lines;\nDROP TABLE users; -- it's only text"));

    let again = Platform::start_on(&restored_dir, Options::default());
    let cookie = again.sign_in(EMAIL, PASSWORD);
    let me = again.send_as(&cookie, "GET", "/api/auth/me", None).json();
    assert_eq!(me["role"], "student", "the restored order still makes a student: {me}");
    let progress = again.send_as(&cookie, "GET", &format!("/api/courses/{COURSE}/progress"), None);
    assert_eq!(progress.status, 200, "{}", progress.body);
    let percent = progress.json()["progress"]["percent"].as_i64().unwrap_or_default();
    assert!(percent > 0, "the completed lesson is back: {}", progress.body);
}

/// The state `make dev` starts from: migrations and demo accounts (the run's prepared copy of what
/// scripts/migrate.sh and scripts/seed-demo.sh make).
fn migrated_with_demo_accounts(persist: &Path) {
    prepare_state(&Options::default(), persist);
}

#[test]
fn a_restore_refuses_a_database_that_is_not_empty_unless_forced_and_a_backup_newer_than_the_code() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let persist = dir.path().join("persist");
    migrated_with_demo_accounts(&persist);
    let file = backup(&persist, &dir.path().join("backups"));
    let before = contents(&persist);

    // Not empty: refused, nothing touched.
    let refused = restore(&file, &persist, false);
    assert!(!refused.status.success(), "a restore over a database that is not empty must be refused");
    assert!(text(&refused).contains("FORCE=1"), "the refusal says how to go ahead:\n{}", text(&refused));
    assert_eq!(contents(&persist), before, "a refused restore changes nothing");

    // FORCE=1 replaces it: a user deleted since the backup is back, and nothing else changed.
    // (Straight into the SQLite file: nothing is running on it.)
    let database = local_database(&persist, "fhir-iq").expect("the database");
    let deleted = rusqlite::Connection::open(&database)
        .and_then(|c| c.execute("DELETE FROM users WHERE email = ?1", [DEMO[0].1]))
        .expect("deletes");
    assert_eq!(deleted, 1);
    assert_eq!(rows(&contents(&persist), "users"), rows(&before, "users") - 1);
    let forced = restore(&file, &persist, true);
    assert!(forced.status.success(), "FORCE=1 restores:\n{}", text(&forced));
    assert_eq!(contents(&persist), before, "the forced restore gives back the backup's database");

    // A backup from a release with a migration this code does not have: refused before anything.
    let newer = dir.path().join("newer.sql");
    let sql = std::fs::read_to_string(&file).expect("the backup");
    let latest = latest_migration(&sql);
    // (wrangler's export ends without a line break.)
    let future = "INSERT INTO \"d1_migrations\" (\"id\",\"name\",\"applied_at\") \
                  VALUES(99,'9999_from_the_future.sql','2030-01-01 00:00:00');";
    std::fs::write(&newer, format!("{}\n{future}\n", sql.trim_end())).expect("writes the newer backup");
    let empty = dir.path().join("empty");
    let refused = restore(&newer, &empty, false);
    assert!(!refused.status.success(), "a backup newer than the code must be refused");
    assert!(text(&refused).contains("9999"), "the refusal names the level:\n{}", text(&refused));
    assert!(contents(&empty).is_empty(), "nothing was written");
    assert!(latest.starts_with(&code_level()), "the backup was at the code's level, {latest}");
}

#[test]
fn the_nightly_r2_export_restores_onto_the_migrations() {
    let platform = Platform::start_with(Options::default());
    let signup = platform.post_json("/api/auth/signup", &json!({"email": EMAIL, "password": PASSWORD}));
    assert_eq!(signup.status, 201, "{}", signup.body);
    let (_, admin_email, admin_password) = DEMO[4];
    let admin = platform.sign_in(admin_email, admin_password);
    let order = json!({"email": EMAIL, "product": format!("course:{COURSE}"), "status": "completed"});
    assert_eq!(platform.send_as(&admin, "POST", "/api/admin/orders", Some(&order)).status, 200);

    // The daily cron writes daily/<UTC date>.sql to the BACKUPS bucket (locally: under the persist
    // directory); the runbook fetches it with `wrangler r2 object get`.
    platform.fire_cron("17 3 * * *");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("daily.sql");
    // The key the job recorded for /status: daily/<UTC date>.sql.
    let written = platform.query("SELECT object_key FROM backups WHERE object_key LIKE 'daily/%'");
    let key = written.first().and_then(|row| row["object_key"].as_str()).expect("the nightly backup ran").to_owned();
    let object = format!("fhir-iq-backups-dev/{key}");
    let output = command("node_modules/.bin/wrangler")
        .args(["r2", "object", "get", &object, "--local", "-c", "wrangler.toml", "--persist-to"])
        .arg(platform.persist_dir())
        .arg("--file")
        .arg(&file)
        .output()
        .expect("wrangler runs");
    assert!(output.status.success(), "wrangler r2 object get {object}: {}", text(&output));
    let original = contents(platform.persist_dir());
    drop(platform);
    let nightly = std::fs::read_to_string(&file).expect("the nightly file");
    assert!(nightly.starts_with("-- fhir-iq r2 backup: migration "), "{}", &nightly[..nightly.len().min(200)]);
    assert!(!nightly.contains("CREATE TABLE"), "data only");

    let restored_dir = dir.path().join("restored");
    let output = restore(&file, &restored_dir, false);
    assert!(output.status.success(), "make restore of the nightly file:\n{}", text(&output));
    assert!(text(&output).contains("data-only"), "{}", text(&output));
    let restored = contents(&restored_dir);
    assert_eq!(restored["d1_migrations"].len(), original["d1_migrations"].len(), "migrated to the code's level");
    for table in shared::backup::tables::TABLES.iter().map(|t| t.name) {
        assert_eq!(restored.get(table), original.get(table), "{table}: contents");
    }
    assert_eq!(rows(&restored, "users"), DEMO.len() + 1);
    assert!(rows(&restored, "orders") >= 2, "the seeded order and the demo student's");
}

/// The highest migration a backup's d1_migrations rows name, e.g. `0004_operations.sql`.
fn latest_migration(sql: &str) -> String {
    sql.lines()
        .filter(|l| l.starts_with("INSERT INTO \"d1_migrations\""))
        .filter_map(|l| l.split('\'').nth(1))
        .max()
        .expect("d1_migrations rows in the backup")
        .to_owned()
}

/// `NNNN` of the newest file in migrations/fhir-iq.
fn code_level() -> String {
    std::fs::read_dir(root().join("migrations/fhir-iq"))
        .expect("the migrations")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().chars().take(4).collect::<String>())
        .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
        .max()
        .expect("a migration")
}
