//! Test support shared by the modules' tests (compiled only for `cargo test`).

use crate::storage::{Database, Statement};
use proptest::test_runner::{Config, RngAlgorithm};
use std::path::{Path, PathBuf};

/// The configuration of every property test: `cases` cases, nothing written to
/// `proptest-regressions/` (a failure prints its input), and the XorShift generator (unoptimised
/// ChaCha took most of the time).
pub fn properties(cases: u32) -> Config {
    Config { cases, failure_persistence: None, rng_algorithm: RngAlgorithm::XorShift, ..Config::default() }
}

/// Every `.rs` file under `dir`, sorted, with its code: the part before `#[cfg(test)]`, comment lines
/// left out (what a check of the crate's shape or configuration reads).
pub fn rust_code(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().filter_map(|e| e.ok()) {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("reads a source file");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let code: Vec<&str> = code.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
            (path, code.join("\n"))
        })
        .collect()
}

/// The number a counting query answers (`SELECT COUNT(*) AS n ...`, or any `n`), 0 for no row.
pub fn count(db: &impl Database, sql: &'static str) -> i64 {
    #[derive(serde::Deserialize)]
    struct N {
        n: i64,
    }
    futures::executor::block_on(db.query_first::<N>(Statement::new(sql))).expect("a counting query").map_or(0, |r| r.n)
}
