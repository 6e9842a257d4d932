//! FHIR IQ's domain logic, shared by every worker.
//!
//! Everything here compiles natively and is tested with `cargo test`, free of the Workers runtime:
//! storage, time and outbound HTTP sit behind small traits ([`storage::Database`],
//! [`storage::KeyValue`], [`time::Clock`], [`http::HttpClient`]). The implementations that talk to
//! D1, KV, `fetch` and timers live in [`workers`], compiled only for `wasm32`; native tests use
//! SQLite (the same SQL statements) and in-memory fakes.
//!
//! Modules are organised by domain:
//! - [`auth`]: accounts, sessions, email verification, password reset, roles and the permission
//!   matrix, organisations, rate limits, device cookies, cross-site checks, identity between workers;
//! - [`assistant`]: the FHIR assistant: questions validated and redacted, passages retrieved, answers
//!   from a model grounded in them (or retrieval only), streamed as server-sent events;
//! - [`knowledge`]: the R4 knowledge base: chunking, FHIR-aware BM25 search, embeddings and vectors;
//! - [`builder`]: the FHIR Builder: a use case and choices to a complete TypeScript or Python project;
//! - [`github`]: the GitHub App and user OAuth, the REST client, pushes and the webhook;
//! - [`billing`]: plans, Stripe Checkout and the billing portal, the webhook, payments, refunds and
//!   disputes, contact sales;
//! - [`support`]: the support desk: requests, threads, priority from the plan, staff replies;
//! - [`alerts`]: alerts for staff (disputes, priority support), queued with their cause, sent to Slack;
//! - [`content`]: tools, courses, lessons, quizzes, posts: validated, stored, cached, enrolled in;
//! - [`analytics`]: first-party events, daily rollups, reports and funnels;
//! - [`events`]: the analytics event logger every feature calls;
//! - [`usage`]: per-plan daily limits (questions, Builder generations, GitHub pushes), reserved
//!   atomically before the work;
//! - [`mail`]: the email outbox and the provider client;
//! - [`monitoring`]: health checks, the cron monitor, Slack alerts, retention and the status page;
//! - [`backup`]: the nightly export of the tables that cannot be rebuilt to R2;
//! - [`web`]: routes, security headers and server-rendered pages;
//! - [`error`]: the one error type, its HTTP status and the JSON error body;
//! - [`config`]: typed configuration read from vars and secrets; [`settings`]: a request's whole
//!   configuration, each part read once;
//! - [`storage`], [`http`], [`time`], [`ids`]: the traits behind which D1, KV, `fetch`, the clock and
//!   the random source sit; [`signing`]: webhook HMACs; [`workers_ai`]: Workers AI's REST API;
//! - `workers` (wasm32 only): the adapters to the Workers runtime.
#![allow(
    async_fn_in_trait,
    reason = "Workers run single-threaded: futures are never sent across threads, so the traits need no Send bounds"
)]

pub mod alerts;
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
pub mod settings;
pub mod signing;
pub mod storage;
pub mod support;
pub mod time;
pub mod usage;
pub mod web;
pub mod workers_ai;

#[cfg(target_arch = "wasm32")]
pub mod workers;

pub use error::{Error, Result};

/// The platform's version, reported by health checks and the status page.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod module_graph;
#[cfg(test)]
mod testing;
