//! `cargo run -p fhir-iq-kb -- eval [--misses]`: retrieval quality on the labelled question set
//! (`shared/data/kb-eval.tsv`), per split (tuning and held-out halves), as `make bench` prints it.
//!
//! - The embedded default (BM25 over FTS5, reranked: `search::resources`) always, with its search
//!   latency natively (p50 and p95 over every question).
//! - With an embedding provider in the environment (`EMBEDDING_PROVIDER=openai`, `EMBEDDING_BASE_URL`,
//!   `EMBEDDING_MODEL`, `EMBEDDING_API_KEY`; `make bench` starts the local MiniLM for this), also the
//!   vectors alone and the hybrid (`search::hybrid`, the production code path: BM25 and the vectors
//!   fused by reciprocal rank fusion). Chunk vectors are cached under `target/kb-vectors/` by model and
//!   chunk text, so a second run embeds only the questions.
//!
//! `--misses` prints the tuning half's misses (never the held-out half's: looking at those is tuning
//! on them).

use crate::{ProcessEnv, Ureq};
use futures::executor::block_on;
use shared::knowledge::eval::{self, Question, Split, Tally};
use shared::knowledge::vectors::{IndexInfo, VectorStore, cosine};
use shared::knowledge::{chunk, embeddings, search};
use shared::storage::Database;
use shared::storage::sqlite::SqliteDb;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;

/// Inputs per embeddings request while caching the chunks' vectors.
const EMBED_BATCH: usize = 64;

/// Vectors in memory, searched by brute-force cosine: the evaluation's stand-in for Vectorize behind
/// the same trait `search::hybrid` takes.
#[derive(Default)]
struct MemoryVectors {
    info: RefCell<Option<IndexInfo>>,
    vectors: RefCell<Vec<(String, Vec<f32>)>>,
}

impl VectorStore for MemoryVectors {
    async fn info(&self) -> shared::Result<Option<IndexInfo>> {
        Ok(self.info.borrow().clone())
    }

    async fn upsert(&self, info: &IndexInfo, items: &[(String, Vec<f32>)]) -> shared::Result<()> {
        *self.info.borrow_mut() = Some(info.clone());
        self.vectors.borrow_mut().extend(items.iter().cloned());
        Ok(())
    }

    async fn query(&self, vector: &[f32], k: usize) -> shared::Result<Vec<(String, f32)>> {
        let mut scored: Vec<(String, f32)> =
            self.vectors.borrow().iter().map(|(id, v)| (id.clone(), cosine(vector, v))).collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(k);
        Ok(scored)
    }
}

/// One way of ranking resources, and its tallies per split.
struct Method {
    name: &'static str,
    tune: Tally,
    held_out: Tally,
}

impl Method {
    fn new(name: &'static str) -> Self {
        Self { name, tune: Tally::default(), held_out: Tally::default() }
    }

    fn add(&mut self, question: &Question, ranked: &[String], misses: bool) {
        let position = eval::first_relevant(ranked, &question.resources);
        match question.split {
            Split::Tune => {
                self.tune.add(position);
                if misses && position.is_none_or(|p| p > 0) {
                    let top = &ranked[..ranked.len().min(3)];
                    println!(
                        "  {} miss: {} -> {:?} at {position:?}; top {top:?}",
                        self.name, question.text, question.resources
                    );
                }
            }
            Split::HeldOut => self.held_out.add(position),
        }
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    let misses = args.iter().any(|a| a == "--misses");
    let chunks = crate::chunks()?;
    let questions = eval::parse(eval::LABELLED)?;
    let db = SqliteDb::with_schema();
    for batch in chunks.chunks(500) {
        block_on(db.batch(batch.iter().flat_map(search::index_statements).collect())).map_err(|e| e.to_string())?;
    }

    let mut bm25 = Method::new("embedded default (BM25, reranked)");
    let mut took = Vec::with_capacity(questions.len());
    for question in &questions {
        let started = Instant::now();
        let ranked = block_on(search::resources(&db, &question.text, 10)).map_err(|e| e.to_string())?;
        took.push(started.elapsed().as_secs_f64() * 1_000.0);
        bm25.add(question, &names(ranked), misses);
    }
    took.sort_by(f64::total_cmp);
    let mut methods = vec![bm25];

    let embedder = embeddings::from_env(&ProcessEnv).map_err(|e| e.to_string())?;
    if let Some(embedder) = &embedder {
        let http = Ureq::new(None);
        let store = MemoryVectors::default();
        let vectors = chunk_vectors(&http, embedder, &chunks)?;
        let info = embeddings::index_info(embedder, vectors.first().map_or(0, |(_, v)| v.len()));
        block_on(store.upsert(&info, &vectors)).map_err(|e| e.to_string())?;
        let by_id: HashMap<&str, &chunk::Chunk> = chunks.iter().map(|c| (c.id.as_str(), c)).collect();
        let (mut dense, mut hybrid) =
            (Method::new("vectors alone"), Method::new("hybrid (BM25 + vectors, fused by score)"));
        let texts: Vec<String> = questions.iter().map(|q| q.text.clone()).collect();
        let embedded = block_on(embeddings::embed(&http, embedder, &texts)).map_err(|e| e.to_string())?;
        for (question, vector) in questions.iter().zip(&embedded) {
            let near = block_on(store.query(vector, 40)).map_err(|e| e.to_string())?;
            let ranked = search::rank_resources(
                near.iter().filter_map(|(id, s)| {
                    let chunk = by_id.get(id.as_str())?;
                    Some(search::Ranked { resource: chunk.resource.as_deref(), score: f64::from(*s) })
                }),
                10,
            );
            dense.add(question, &names(ranked), misses);
            let hits = block_on(search::hybrid(&db, &http, Some(embedder), &store, &question.text, 40))
                .map_err(|e| e.to_string())?;
            let ranked = search::rank_resources(hits.iter().map(search::Ranked::from), 10);
            hybrid.add(question, &names(ranked), misses);
        }
        methods.push(dense);
        methods.push(hybrid);
    }

    let model =
        embedder.as_ref().map_or("no embedding provider".to_owned(), |e| format!("{} {}", e.provider(), e.model));
    println!("retrieval on shared/data/kb-eval.tsv ({} chunks; {model}):", chunks.len());
    for method in &methods {
        println!("  {}", method.name);
        println!("    tune     {}", method.tune);
        println!("    held out {}", method.held_out);
    }
    let percentile = |p: f64| took[((took.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "  BM25 search natively (SQLite FTS5, {} questions): p50 {:.1} ms, p95 {:.1} ms",
        took.len(),
        percentile(0.5),
        percentile(0.95)
    );
    Ok(())
}

fn names(ranked: Vec<(String, f64)>) -> Vec<String> {
    ranked.into_iter().map(|(r, _)| r).collect()
}

/// Every chunk's vector (`title\nbody`, the text `make kb` embeds), from the cache or the provider.
fn chunk_vectors(
    http: &Ureq,
    embedder: &embeddings::Embedder,
    chunks: &[chunk::Chunk],
) -> Result<Vec<(String, Vec<f32>)>, String> {
    let dir = crate::root().join("target/kb-vectors");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join(format!("{}.tsv", embedder.model.replace(['/', '@', ':'], "_")));
    // id <TAB> content hash <TAB> hex vector, one line per chunk.
    let mut cached: HashMap<String, (String, String)> = HashMap::new();
    if let Ok(text) = std::fs::read_to_string(&file) {
        for line in text.lines() {
            let mut parts = line.splitn(3, '\t');
            if let (Some(id), Some(hash), Some(vector)) = (parts.next(), parts.next(), parts.next()) {
                cached.insert(id.to_owned(), (hash.to_owned(), vector.to_owned()));
            }
        }
    }
    let missing: Vec<&chunk::Chunk> =
        chunks.iter().filter(|c| cached.get(&c.id).is_none_or(|(hash, _)| *hash != c.content_hash())).collect();
    if !missing.is_empty() {
        eprintln!("embedding {} chunks with {} (cached in {})", missing.len(), embedder.model, file.display());
        let started = Instant::now();
        for (done, group) in missing.chunks(EMBED_BATCH).enumerate() {
            let inputs: Vec<String> = group.iter().map(|c| format!("{}\n{}", c.title, c.body)).collect();
            let vectors = block_on(embeddings::embed(http, embedder, &inputs)).map_err(|e| e.to_string())?;
            for (chunk, vector) in group.iter().zip(vectors) {
                cached.insert(chunk.id.clone(), (chunk.content_hash(), shared::knowledge::vectors::encode(&vector)));
            }
            eprint!(
                "\r  {}/{} in {:.0} s",
                ((done + 1) * EMBED_BATCH).min(missing.len()),
                missing.len(),
                started.elapsed().as_secs_f64()
            );
        }
        eprintln!();
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).map_err(|e| e.to_string())?);
        for (id, (hash, vector)) in &cached {
            writeln!(out, "{id}\t{hash}\t{vector}").map_err(|e| e.to_string())?;
        }
    }
    chunks
        .iter()
        .map(|c| {
            let (_, hex) = &cached[&c.id];
            let vector =
                shared::knowledge::vectors::decode(hex).ok_or_else(|| format!("{}: a bad cached vector", c.id))?;
            Ok((c.id.clone(), vector))
        })
        .collect()
}
