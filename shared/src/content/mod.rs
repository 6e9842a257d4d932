//! Content: tools, courses (lessons, quizzes, resources), blog posts and authors. Written as Markdown
//! files in `content/` (docs/content.md) or through the admin API, validated here, stored in D1 with
//! sanitized HTML, and served by the site worker's pages (cached in KV by content generation).

pub mod admin;
pub mod bundle;
pub mod cache;
pub mod calendly;
pub mod doc;
pub mod enroll;
pub mod learning;
pub mod model;
pub mod routes;
pub mod seats;
pub mod store;
pub mod views;
