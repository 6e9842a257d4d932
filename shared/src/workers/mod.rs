//! Adapters from the domain traits to the Workers runtime (compiled for wasm32 only): D1, KV, `fetch`,
//! timers, `Env`, Workers AI and Vectorize, and the helpers every worker uses to turn results into responses.
//!
//! Binding names live here, once, matching every `wrangler.toml`.

pub mod bindings;
mod clock;
mod crypto;
mod d1;
mod env;
pub mod fetch;
pub mod forwarded;
pub mod function;
mod kv;
pub mod respond;

pub use bindings::{EdgeClient, Vectors, vectors};
pub use clock::WorkerClock;
pub use crypto::WebCryptoKdf;
pub use d1::D1;
pub use fetch::FetchClient;
pub use kv::Kv;

/// The D1 database binding.
pub const DB: &str = "DB";
/// The KV namespace binding (cache).
pub const CACHE: &str = "CACHE";
/// The static assets binding of the site worker.
pub const ASSETS: &str = "ASSETS";

use crate::error::{Error, Result};

/// The D1 binding, or a configuration error naming it.
pub fn database(env: &worker::Env) -> Result<D1> {
    env.d1(DB).map(D1).map_err(|e| Error::Config(format!("the D1 binding {DB} is not available: {e}")))
}

/// The KV binding, or a configuration error naming it.
pub fn cache(env: &worker::Env) -> Result<Kv> {
    env.kv(CACHE).map(Kv).map_err(|e| Error::Config(format!("the KV binding {CACHE} is not available: {e}")))
}
