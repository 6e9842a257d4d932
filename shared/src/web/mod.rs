//! The web layer shared by the workers: which paths exist, the headers every response carries,
//! and the server-rendered pages.

pub mod admin_pages;
pub mod assets;
pub mod body;
pub mod content_pages;
pub mod headers;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod seo;

/// A value for a URL query (`/signin?next=<this>`).
pub fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
