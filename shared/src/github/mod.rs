//! GitHub: the App's authentication (an RS256 JWT signed in the worker, exchanged for an installation
//! token that is cached until shortly before it expires), the REST client with GitHub's error and
//! rate-limit semantics, pushing a generated project as ONE commit through the Git Data API, and the
//! App's webhook.

pub mod client;
pub mod crypto;
pub mod jwt;
pub mod oauth;
pub mod repo;
pub mod webhook;
