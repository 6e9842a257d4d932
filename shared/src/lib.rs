//! FHIR IQ's domain logic, shared by every worker.
//!
//! Everything here compiles natively and is tested with `cargo test`, free of the Workers runtime:
//! storage, time and outbound HTTP sit behind small traits ([`storage::Database`],
//! [`storage::KeyValue`], [`time::Clock`], [`http::HttpClient`]). The implementations that talk to
//! D1, KV, `fetch` and timers live in [`workers`], compiled only for `wasm32`; native tests use
//! SQLite (the same SQL statements) and in-memory fakes.
//!
//! Modules are organised by domain:
//! - [`error`]: the one error type, its HTTP status and the JSON error body;
//! - [`config`]: typed configuration read from vars and secrets;
//! - [`monitoring`]: health checks, the cron monitor, Slack alerts, retention and the status page;
//! - [`backup`]: the nightly export of the tables that cannot be rebuilt to R2;
//! - [`events`]: the analytics event logger every feature calls;
//! - [`usage`]: per-plan daily limits (questions, Builder generations, GitHub pushes), reserved
//!   atomically before the work;
//! - [`web`]: routes, security headers and server-rendered pages.
#![allow(
    async_fn_in_trait,
    reason = "Workers run single-threaded: futures are never sent across threads, so the traits need no Send bounds"
)]

pub mod analytics;
pub mod assistant;
pub mod auth;
pub mod backup;
pub mod billing;
pub mod builder;
pub mod config;
pub mod content;
pub mod error;
pub mod events;
pub mod github;
pub mod http;
pub mod ids;
pub mod knowledge;
pub mod mail;
pub mod monitoring;
pub mod signing;
pub mod storage;
pub mod time;
pub mod usage;
pub mod web;
pub mod workers_ai;

#[cfg(target_arch = "wasm32")]
pub mod workers;

pub use error::{Error, Result};

/// The platform's version, reported by health checks and the status page.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
