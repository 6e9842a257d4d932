//! Test support shared by the modules' tests (compiled only for `cargo test`).

use proptest::test_runner::{Config, RngAlgorithm};

/// The configuration of every property test: `cases` cases, nothing written to
/// `proptest-regressions/` (a failure prints its input), and the XorShift generator (unoptimised
/// ChaCha took most of the time).
pub fn properties(cases: u32) -> Config {
    Config { cases, failure_persistence: None, rng_algorithm: RngAlgorithm::XorShift, ..Config::default() }
}
