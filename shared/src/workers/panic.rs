//! Panics, logged. A panic in a worker is a bug; when one happens the log must say what and where.
//! [`install`] runs once per isolate from each worker's `#[event(start)]` (a wasm-bindgen start
//! function, as workers-rs's templates do): `console_error_panic_hook` writes the panic's message and
//! `file:line:column` with a stack to `console.error`. The hook it replaces (workers-rs's own, which
//! marks the isolate for re-initialisation) still runs after it.
//!
//! [`probe`]: with `PANIC_PROBE=1` outside production, a function worker panics on purpose at
//! `/_functions/<name>/panic`, so a test can show the message in the log and the next request served.

use crate::config::{EnvSource, Environment, environment};

/// The var that enables [`probe`] (never in production).
pub const PANIC_PROBE: &str = "PANIC_PROBE";

/// A worker's `#[event(start)]`: the hook installed once per isolate, before its first request.
#[macro_export]
macro_rules! panic_hook_at_start {
    () => {
        #[::worker_macros::event(start)]
        fn start() {
            $crate::workers::panic::install();
        }
    };
}

/// Installs the logging hook once; later calls do nothing.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            console_error_panic_hook::hook(info);
            previous(info);
        }));
    });
}

/// Whether this request is the deliberate-panic probe: `path` is `/_functions/<name>/panic` and the
/// environment enables it.
pub fn probe(env: &impl EnvSource, function: &str, path: &str) -> bool {
    path == format!("/_functions/{function}/panic")
        && env.var(PANIC_PROBE).is_some_and(|v| v.trim() == "1")
        && environment(env).is_ok_and(|e| e != Environment::Production)
}
