//! The web layer shared by the workers: which paths exist, the headers every response carries,
//! and the server-rendered pages.

pub mod headers;
pub mod openapi;
pub mod pages;
pub mod routes;
