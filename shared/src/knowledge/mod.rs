//! The FHIR knowledge base: the R4 (4.0.1) definitions chunked the way developers ask questions (one
//! overview per resource, one chunk per element, one per search parameter), FHIR-aware query
//! analysis, and BM25 retrieval over SQLite FTS5 (the same SQL on D1 and, in tests, on SQLite).

pub mod browse;
pub mod chunk;
pub mod embeddings;
pub mod ingest;
pub mod query;
pub mod search;
mod synonyms;
pub mod vectors;

pub use chunk::{Chunk, Kind};
