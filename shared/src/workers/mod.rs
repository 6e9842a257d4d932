//! Adapters from the domain traits to the Workers runtime (compiled for wasm32 only): D1, KV, R2,
//! `fetch`, timers, `Env`, Workers AI and Vectorize, and the helpers every worker uses to turn results
//! into responses and to log each request.
//!
//! Binding names live here, once, matching every `wrangler.toml`.

pub mod api;
pub mod billing;
pub mod bindings;
mod clock;
mod crypto;
mod d1;
mod env;
pub mod fetch;
pub mod forwarded;
pub mod function;
mod kv;
pub mod log;
pub mod mail;
pub mod panic;
mod r2;
pub mod request;
pub mod respond;

pub use bindings::{EdgeClient, Vectors, vectors};
pub use clock::WorkerClock;
pub use crypto::{WebCrypto, WebCryptoKdf};
pub use d1::D1;
pub use fetch::FetchClient;
pub use kv::Kv;
pub use log::RequestLog;
pub use r2::R2;

/// The D1 database of record (accounts, purchases, progress): backed up, migrated with care.
pub const DB: &str = "DB";
/// The knowledge base's own D1 database (chunks, FTS5 index, development vectors): rebuilt by
/// `make kb`, never backed up. Its FTS5 table would make the database of record unexportable.
pub const KB: &str = "KB";
/// The KV namespace binding (cache).
pub const CACHE: &str = "CACHE";
/// The R2 bucket of the nightly backups (site worker).
pub const BACKUPS: &str = "BACKUPS";
/// The static assets binding of the site worker.
pub const ASSETS: &str = "ASSETS";

use crate::error::{Error, Result};

/// The D1 binding, or a configuration error naming it.
pub fn database(env: &worker::Env) -> Result<D1> {
    env.d1(DB).map(D1).map_err(|e| Error::Config(format!("the D1 binding {DB} is not available: {e}")))
}

/// The knowledge base's D1 binding, or a configuration error naming it.
pub fn knowledge(env: &worker::Env) -> Result<D1> {
    env.d1(KB).map(D1).map_err(|e| Error::Config(format!("the D1 binding {KB} is not available: {e}")))
}

/// The KV binding, or a configuration error naming it.
pub fn cache(env: &worker::Env) -> Result<Kv> {
    env.kv(CACHE).map(Kv).map_err(|e| Error::Config(format!("the KV binding {CACHE} is not available: {e}")))
}

/// The backups' R2 binding, or a configuration error naming it.
pub fn backups(env: &worker::Env) -> Result<R2> {
    env.bucket(BACKUPS).map(R2).map_err(|e| Error::Config(format!("the R2 binding {BACKUPS} is not available: {e}")))
}
