//! Vector search beside BM25: embeddings from a configured provider, a vector store behind one trait
//! (Vectorize in production; for development a D1 table searched by brute-force cosine), and
//! a score fusion of the two rankings. The index records its provider, model and dimensions;
//! a query embedded differently is refused rather than compared with incompatible vectors.

use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use serde::Deserialize;

/// The index's identity: vectors from another provider, model or size cannot be compared with it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IndexInfo {
    pub provider: String,
    pub model: String,
    pub dimensions: i64,
}

pub trait VectorStore {
    /// The provider, model and dimensions the index holds, if it holds anything yet.
    async fn info(&self) -> Result<Option<IndexInfo>>;
    async fn upsert(&self, info: &IndexInfo, items: &[(String, Vec<f32>)]) -> Result<()>;
    /// The `k` nearest ids by cosine similarity, best first.
    async fn query(&self, vector: &[f32], k: usize) -> Result<Vec<(String, f32)>>;
}

/// Checks that `info` matches the stored index (or that there is none yet).
pub fn check_compatible(stored: Option<&IndexInfo>, info: &IndexInfo) -> Result<()> {
    match stored {
        Some(stored) if stored != info => Err(Error::Conflict(format!(
            "The vector index holds {} dimensions from {}/{}, but these are {} dimensions from {}/{}. \
             Re-index with one embedding configuration.",
            stored.dimensions, stored.provider, stored.model, info.dimensions, info.provider, info.model
        ))),
        _ => Ok(()),
    }
}

/// Vectorize's limit on a vector id, in bytes.
const MAX_VECTORIZE_ID: usize = 64;

/// A chunk id as a Vectorize vector id: itself when it fits in 64 bytes, else `sha256:` and a digest
/// of it. The chunk id itself travels in the vector's metadata (`chunk`) either way.
pub fn vectorize_id(chunk_id: &str) -> String {
    use sha2::{Digest, Sha256};
    if chunk_id.len() <= MAX_VECTORIZE_ID {
        chunk_id.to_owned()
    } else {
        let digest = hex::encode(Sha256::digest(chunk_id.as_bytes()));
        format!("sha256:{}", &digest[..MAX_VECTORIZE_ID - "sha256:".len()])
    }
}

/// f32 little-endian, hex: the same text in D1 and SQLite.
pub fn encode(vector: &[f32]) -> String {
    hex::encode(vector.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>())
}

pub fn decode(text: &str) -> Option<Vec<f32>> {
    let bytes = hex::decode(text).ok()?;
    if bytes.len() % 4 != 0 {
        return None;
    }
    Some(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na.sqrt() * nb.sqrt()) }
}

/// The vectors' weight against BM25 in [`fuse`], chosen on the labelled set's tuning half with
/// all-MiniLM-L6-v2 (2026-12-03; recall@1 / recall@5 / MRR@10): 0.3 gave 0.865 / 0.983 / 0.923, 0.45
/// and 0.6 gave 0.887 / 0.987 / 0.93x, 1.0 gave 0.835 / 0.987 / 0.900; reciprocal rank fusion (what
/// this replaced) gave 0.778 / 0.970 / 0.861, below BM25 alone.
pub const VECTOR_WEIGHT: f64 = 0.5;

/// Fuses BM25's passages with the nearest vectors by score: each id scores its BM25 score over the
/// best one's, plus [`VECTOR_WEIGHT`] times its cosine over the best one's (a ranking it is missing
/// from adds nothing). Rank fusion flattens both rankings to 1/(60 + rank), so a resource with many
/// middling passages beat one with a clear best; scores keep how much better the best is.
pub fn fuse(bm25: &[(String, f64)], vectors: &[(String, f32)]) -> Vec<(String, f64)> {
    let best_bm25 = bm25.iter().map(|(_, s)| *s).fold(f64::MIN_POSITIVE, f64::max);
    let best_cosine = vectors.iter().map(|(_, s)| f64::from(*s)).fold(f64::MIN_POSITIVE, f64::max);
    let mut scores: Vec<(String, f64)> = bm25.iter().map(|(id, s)| (id.clone(), s.max(0.0) / best_bm25)).collect();
    for (id, cosine) in vectors {
        let add = VECTOR_WEIGHT * f64::from(*cosine).max(0.0) / best_cosine;
        match scores.iter_mut().find(|(i, _)| i == id) {
            Some((_, s)) => *s += add,
            None => scores.push((id.clone(), add)),
        }
    }
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    scores
}

/// The development store: vectors in D1, searched by brute force. Fine for thousands of vectors
/// locally; production uses Vectorize.
pub struct D1Vectors<'a, D>(pub &'a D);

#[derive(Deserialize)]
struct VectorRow {
    id: String,
    vector: String,
}

impl<D: Database> VectorStore for D1Vectors<'_, D> {
    async fn info(&self) -> Result<Option<IndexInfo>> {
        self.0.query_first(Statement::new("SELECT provider, model, dimensions FROM kb_vector_index WHERE id = 1")).await
    }

    async fn upsert(&self, info: &IndexInfo, items: &[(String, Vec<f32>)]) -> Result<()> {
        check_compatible(self.info().await?.as_ref(), info)?;
        let mut statements = vec![
            Statement::new(
                "INSERT OR IGNORE INTO kb_vector_index (id, provider, model, dimensions) VALUES (1, ?1, ?2, ?3)",
            )
            .bind(info.provider.as_str())
            .bind(info.model.as_str())
            .bind(info.dimensions),
        ];
        for (id, vector) in items {
            statements.push(
                Statement::new("INSERT OR REPLACE INTO kb_vectors (id, vector) VALUES (?1, ?2)")
                    .bind(id.as_str())
                    .bind(encode(vector)),
            );
        }
        self.0.batch(statements).await
    }

    async fn query(&self, vector: &[f32], k: usize) -> Result<Vec<(String, f32)>> {
        let rows: Vec<VectorRow> = self.0.query(Statement::new("SELECT id, vector FROM kb_vectors")).await?;
        let mut scored: Vec<(String, f32)> =
            rows.into_iter().filter_map(|r| decode(&r.vector).map(|v| (r.id, cosine(vector, &v)))).collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(k);
        Ok(scored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    fn info(dimensions: i64) -> IndexInfo {
        IndexInfo { provider: "openai".into(), model: "text-embedding-3-small".into(), dimensions }
    }

    #[test]
    fn long_chunk_ids_become_distinct_vectorize_ids_of_at_most_64_bytes() {
        assert_eq!(vectorize_id("element:Patient.birthDate"), "element:Patient.birthDate");
        let long = "element:MedicationKnowledge.administrationGuidelines.patientCharacteristics.characteristic[x]";
        let other = "element:MedicationKnowledge.administrationGuidelines.patientCharacteristics.value";
        assert_eq!(vectorize_id(long).len(), 64);
        assert_ne!(vectorize_id(long), vectorize_id(other));
        assert_eq!(vectorize_id(long), vectorize_id(long), "stable across runs");
    }

    #[test]
    fn vectors_round_trip_through_their_text_form() {
        let v = vec![0.25f32, -1.5, 3.0e-7];
        assert_eq!(decode(&encode(&v)), Some(v));
        assert_eq!(decode("abc"), None);
    }

    #[test]
    fn the_nearest_vectors_come_first() {
        let db = SqliteDb::with_schema();
        let store = D1Vectors(&db);
        let items =
            vec![("a".to_owned(), vec![1.0, 0.0]), ("b".to_owned(), vec![0.0, 1.0]), ("c".to_owned(), vec![0.7, 0.7])];
        block_on(store.upsert(&info(2), &items)).expect("stored");
        let hits = block_on(store.query(&[1.0, 0.1], 2)).expect("queried");
        assert_eq!(hits.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["a", "c"]);
    }

    #[test]
    fn vectors_of_another_model_or_size_are_refused_with_409() {
        let db = SqliteDb::with_schema();
        let store = D1Vectors(&db);
        block_on(store.upsert(&info(2), &[("a".into(), vec![1.0, 0.0])])).expect("stored");
        let error = block_on(store.upsert(&info(3), &[("b".into(), vec![1.0, 0.0, 0.0])])).expect_err("refused");
        assert_eq!(error.status_code(), 409);
        assert!(error.to_string().contains("2 dimensions"), "{error}");
    }

    #[test]
    fn fusion_rewards_agreement_and_keeps_a_clear_best() {
        let bm25 = vec![("x".to_owned(), 10.0), ("y".to_owned(), 9.0), ("z".to_owned(), 2.0)];
        let vectors = vec![("y".to_owned(), 0.8_f32), ("w".to_owned(), 0.7)];
        let fused = fuse(&bm25, &vectors);
        assert_eq!(fused[0].0, "y", "close second in BM25 and first by meaning beats first in BM25 alone");
        assert_eq!(fused.len(), 4, "the union of both");
        let position = |id: &str| fused.iter().position(|(i, _)| i == id).expect("fused");
        assert!(position("x") < position("w"), "BM25's best beats a passage only the vectors found");
        let clear = fuse(&[("x".to_owned(), 10.0), ("y".to_owned(), 1.0)], &[("y".to_owned(), 0.5_f32)]);
        assert_eq!(clear[0].0, "x", "a clear BM25 best is not overturned by one vector match");
        assert!(fuse(&[], &[]).is_empty());
    }
}
