//! Start states, prepared once and copied per test.
//!
//! A platform starts from the local D1 state that `make dev` builds: the migrations, then the demo
//! accounts, the knowledge base and the content, each step a Node start or two (the knowledge base
//! about half a minute). Each distinct state is built once, by the real scripts, into a template
//! under `target/test-state/<key>/`, and every test gets its own copy of the persisted files (SQLite
//! databases and KV blobs: milliseconds). Tests stay isolated, each with its own databases.
//!
//! `make test` sets `FHIRIQ_TEST_RUN`: each run builds its own states, once, and keeps them for the
//! whole run (each test is its own process, so the key must not change under an edit mid-run).
//! Without it (a `cargo nextest run` or `cargo test` by hand) the key hashes everything the scripts
//! read (migrations, seed script, content, the indexer's sources, lock files, wrangler.toml) and the
//! UTC date (content rows carry their load time), so an edit to any of them builds new states. A file
//! lock per template lets parallel test processes build it once.

use crate::root;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// One step of `make dev`'s state, in the order `make dev` runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// scripts/migrate.sh: both databases at the latest migration.
    Migrations,
    /// scripts/seed-demo.sh: the demo accounts.
    Demo,
    /// scripts/kb.sh: the FHIR knowledge base.
    Knowledge,
    /// scripts/content.sh: tools, courses, posts.
    Content,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Self::Migrations => "migrations",
            Self::Demo => "demo",
            Self::Knowledge => "knowledge",
            Self::Content => "content",
        }
    }

    /// Runs the step's script on `persist`. `vars` reach the indexer (an embedding provider).
    pub(crate) fn run(self, persist: &Path, scratch: &Path, vars: &[(String, String)]) {
        let (script, args, what): (&str, Vec<&std::ffi::OsStr>, &str) = match self {
            Self::Migrations => ("scripts/migrate.sh", vec![persist.as_os_str()], "the migrations did not apply"),
            Self::Demo => ("scripts/seed-demo.sh", vec![persist.as_os_str()], "demo accounts"),
            Self::Knowledge => ("scripts/kb.sh", vec!["--persist-to".as_ref(), persist.as_os_str()], "knowledge base"),
            Self::Content => ("scripts/content.sh", vec!["--persist-to".as_ref(), persist.as_os_str()], "content"),
        };
        let output = crate::platform::quiet_command(root().join(script), scratch)
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{script} runs: {e}"));
        assert!(output.status.success(), "{what}: {}", String::from_utf8_lossy(&output.stderr));
    }
}

/// The persisted state after `steps`, built once per key: a directory to copy, never to run in.
pub(crate) fn template(steps: &[Step]) -> PathBuf {
    let dir = cache().join(steps.iter().map(|s| s.name()).collect::<Vec<_>>().join("+"));
    if dir.exists() {
        return dir;
    }
    std::fs::create_dir_all(cache()).expect("creates the test-state cache");
    let lock = File::create(dir.with_extension("lock")).expect("a lock file");
    lock.lock().expect("locks the template");
    if dir.exists() {
        return dir; // another test built it while this one waited
    }
    let scratch = tempfile::tempdir_in(cache()).expect("a scratch directory");
    let persist = scratch.path().join("persist");
    match steps.split_last() {
        Some((last, [])) => last.run(&persist, scratch.path(), &[]),
        Some((last, before)) => {
            copy_dir(&template(before), &persist);
            last.run(&persist, scratch.path(), &[]);
        }
        None => std::fs::create_dir_all(&persist).expect("an empty state"),
    }
    std::fs::rename(&persist, &dir).expect("moves the template into place");
    dir
}

/// Copies a persisted state (directories of SQLite files, WAL included, and KV blobs).
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creates the state directory");
    for entry in std::fs::read_dir(from).expect("reads the template").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copies a state file");
        }
    }
}

/// `target/test-state/<key>`: this run's templates. Templates of other keys untouched for an hour
/// are removed when a new key's directory is made.
fn cache() -> PathBuf {
    static CACHE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    CACHE
        .get_or_init(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
            let parent = target.join("test-state");
            let dir = parent.join(key());
            if !dir.exists() {
                remove_stale(&parent);
            }
            dir
        })
        .clone()
}

fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for entry in entries.flatten() {
        if entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t < hour_ago) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// What the state scripts read. Everything under a directory counts (content, sources, migrations).
const INPUTS: [&str; 16] = [
    "migrations",
    "scripts/env.sh",
    "scripts/migrate.sh",
    "scripts/seed-demo.sh",
    "scripts/seed_demo.py",
    "scripts/kb.sh",
    "scripts/content.sh",
    "content",
    "tools/kb",
    "shared/src",
    "shared/Cargo.toml",
    "Cargo.lock",
    "package-lock.json",
    "wrangler.toml",
    // kb.sh reads an embedding configuration from here.
    ".dev.vars",
    "rust-toolchain.toml",
];

fn key() -> String {
    // One run's states, whatever changes in the tree meanwhile (each test is its own process).
    if let Ok(run) = std::env::var("FHIRIQ_TEST_RUN")
        && !run.is_empty()
        && run.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return format!("run-{run}");
    }
    let mut hasher = Sha256::new();
    hasher.update(format!("day {}\n", crate::today()));
    for input in INPUTS {
        hash_path(&mut hasher, &root(), Path::new(input));
    }
    hex::encode(&hasher.finalize()[..12])
}

fn hash_path(hasher: &mut Sha256, root: &Path, relative: &Path) {
    let path = root.join(relative);
    if path.is_dir() {
        let mut entries: Vec<_> =
            std::fs::read_dir(&path).into_iter().flatten().flatten().map(|e| e.file_name()).collect();
        entries.sort();
        for name in entries {
            hash_path(hasher, root, &relative.join(name));
        }
    } else if let Ok(bytes) = std::fs::read(&path) {
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
}

/// The knowledge-base step reads these variables (the embedding provider): with any of them set,
/// the test runs it itself, on a copy of the state before it, so its own fakes see the requests.
pub(crate) fn affects_knowledge(name: &str) -> bool {
    name.starts_with("EMBEDDING_") || name.starts_with("WORKERS_AI_")
}
