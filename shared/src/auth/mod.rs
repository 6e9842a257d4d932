//! Accounts: email and password sign-up and sign-in, sessions, password reset, roles derived from
//! subscriptions and orders, the permission matrix, organisations, rate limits and cross-site
//! request protection. The caller's identity always comes from the session cookie, never from a
//! request body.

pub mod admin;
pub mod audit;
pub mod csrf;
pub mod device;
pub mod email;
pub mod internal;
pub mod org;
pub mod password;
pub mod rate_limit;
pub mod roles;
pub mod service;
pub mod session;
pub mod staff;
pub mod store;
pub mod verify;

pub use email::Email;
pub use roles::{Access, Caller, Permission, Role};
