//! One question, end to end: quota, redaction, retrieval, a model answer with fallback (or the
//! retrieval-only answer), and the redacted log entry.

use super::answer::{self, Answer, Usage};
use super::providers::{self, AiConfig};
use super::quota::{self, Quotas};
use super::redact::redact;
use super::request::{Ask, MAX_CONTEXT_CHARS, Turn};
use crate::auth::{Permission, Role};
use crate::error::Result;
use crate::http::HttpClient;
use crate::ids;
use crate::knowledge::search::{self, Hit};
use crate::knowledge::vectors::VectorStore;
use crate::storage::{Database, Statement};
use crate::time::{Clock, Millis};

/// Passages given to the model and returned as sources.
pub const SOURCES: u32 = 6;

pub struct Ctx<'a, D, H, C, V> {
    /// The database of record: quotas and the chat log.
    pub db: &'a D,
    /// The knowledge base (its own database in the workers; the same one in native tests).
    pub kb: &'a D,
    pub http: &'a H,
    pub clock: &'a C,
    pub ai: &'a AiConfig,
    pub quotas: &'a Quotas,
    /// Semantic search beside BM25, when an embedding provider is configured.
    pub embedder: Option<&'a crate::knowledge::embeddings::Embedder>,
    /// Where the vectors are: Vectorize in production, D1 elsewhere.
    pub vectors: &'a V,
}

/// Who is asking (from the session, passed on by the site worker).
pub struct Asker {
    pub user_id: String,
    pub role: Role,
}

/// Everything before the model: the quota is checked, identifiers removed, passages retrieved.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub question: String,
    pub history: Vec<Turn>,
    pub redacted: Vec<&'static str>,
    pub sources: Vec<Hit>,
    pub system: String,
    pub started: Millis,
}

pub async fn prepare<D: Database, H: HttpClient, C: Clock, V: VectorStore>(
    ctx: &Ctx<'_, D, H, C, V>,
    asker: &Asker,
    ask: &Ask,
) -> Result<Prepared> {
    let started = ctx.clock.now_ms();
    let reservation = quota::reserve(ctx.db, &asker.user_id, asker.role, ctx.quotas, started).await?;
    let (question, mut redacted) = redact(&ask.message);
    // The basic assistant answers each question on its own; history is a full-assistant feature.
    let history: Vec<Turn> = if asker.role.has(Permission::AccessFullChatbot) {
        ask.history
            .iter()
            .map(|t| {
                let (content, found) = redact(&t.content);
                redacted.extend(found);
                Turn { role: t.role.clone(), content }
            })
            .collect()
    } else {
        Vec::new()
    };
    // The page context goes into the prompt: redacted whole, then cut to its budget.
    let context: Option<String> = ask.context.as_deref().map(|c| {
        let (context, found) = redact(c);
        redacted.extend(found);
        context.chars().take(MAX_CONTEXT_CHARS).collect()
    });
    redacted.sort_unstable();
    redacted.dedup();
    let query = Ask { message: question.clone(), history: history.clone(), context: None }.search_query();
    let sources = match search::hybrid(ctx.kb, ctx.http, ctx.embedder, ctx.vectors, &query, SOURCES).await {
        Ok(sources) => sources,
        Err(e) => {
            // Nothing was answered: the question is not counted.
            crate::usage::release_quietly(ctx.db, &reservation).await;
            return Err(e);
        }
    };
    let system = answer::system_prompt(&sources, context.as_deref());
    Ok(Prepared { question, history, redacted, sources, system, started })
}

/// Records the exchange: the question already redacted, the answer redacted here (a model may repeat
/// an identifier from earlier in a conversation, or make one up); `redacted` names the kinds removed
/// from either.
pub async fn log<D: Database, H, C: Clock, V>(
    ctx: &Ctx<'_, D, H, C, V>,
    asker: &Asker,
    prepared: &Prepared,
    answer: &Answer,
) -> Result<()> {
    let sources: Vec<&str> = answer.sources.iter().map(|h| h.id.as_str()).collect();
    let (stored_answer, found) = redact(&answer.message);
    let mut kinds = prepared.redacted.clone();
    kinds.extend(found);
    kinds.sort_unstable();
    kinds.dedup();
    ctx.db
        .execute(
            Statement::new(
                "INSERT INTO chat_logs (id, user_id, question, answer, sources, provider, model, input_tokens, output_tokens,
                   latency_ms, redacted, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .bind(ids::new_id()?)
            .bind(asker.user_id.as_str())
            .bind(prepared.question.as_str())
            .bind(stored_answer)
            .bind(serde_json::to_string(&sources).unwrap_or_default())
            .bind(answer.provider.as_str())
            .bind(answer.model.clone())
            .bind(answer.tokens_used.input as i64)
            .bind(answer.tokens_used.output as i64)
            .bind(ctx.clock.now_ms() - prepared.started)
            .bind(kinds.join(","))
            .bind(prepared.started),
        )
        .await
        .map(|_| ())
}

/// A JSON answer: the first provider that answers, else the retrieval-only answer. The failures of
/// providers tried are returned for the log.
pub async fn ask<D: Database, H: HttpClient, C: Clock, V: VectorStore>(
    ctx: &Ctx<'_, D, H, C, V>,
    asker: &Asker,
    ask: &Ask,
) -> Result<(Answer, Vec<String>)> {
    let prepared = prepare(ctx, asker, ask).await?;
    let messages = answer::messages(&prepared.history, &prepared.question);
    let (winner, failures) = providers::first_answer(ctx.http, ctx.clock, ctx.ai, &prepared.system, &messages).await;
    let answer = match winner {
        Some((provider, completion)) => Answer {
            message: completion.text,
            sources: prepared.sources.clone(),
            tokens_used: completion.usage,
            confidence: answer::confidence(&prepared.sources),
            provider: provider.kind.name().into(),
            model: Some(if completion.model.is_empty() { provider.model.clone() } else { completion.model }),
            redacted: prepared.redacted.clone(),
        },
        None => retrieval_only(&prepared),
    };
    log(ctx, asker, &prepared, &answer).await?;
    Ok((answer, failures))
}

pub fn retrieval_only(prepared: &Prepared) -> Answer {
    Answer {
        message: answer::retrieval_only(&prepared.sources),
        sources: prepared.sources.clone(),
        tokens_used: Usage::default(),
        confidence: answer::confidence(&prepared.sources),
        provider: "retrieval-only".into(),
        model: None,
        redacted: prepared.redacted.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::RecordingHttp;
    use crate::knowledge::chunk::{Chunk, Kind};
    use crate::storage::sqlite::SqliteDb;
    use crate::time::testing::FixedClock;
    use futures::executor::block_on;
    use std::collections::HashMap;

    fn db() -> SqliteDb {
        let db = SqliteDb::with_schema();
        let chunk = Chunk {
            id: "element:Patient.birthDate".into(),
            kind: Kind::Element,
            resource: Some("Patient".into()),
            element: Some("Patient.birthDate".into()),
            title: "Patient.birthDate (0..1 date)".into(),
            body: "The date of birth for the individual.".into(),
            terms: "patient birth date dob date of birth".into(),
            url: "https://hl7.org/fhir/R4/patient-definitions.html#Patient.birthDate".into(),
            maturity: 5,
            position: 0,
        };
        block_on(db.batch(search::index_statements(&chunk))).expect("indexed");
        db
    }

    fn run(
        db: &SqliteDb,
        http: &RecordingHttp,
        env: &HashMap<&str, &str>,
        role: Role,
        message: &str,
    ) -> Result<Answer> {
        let ai = AiConfig::from_env(env).expect("config");
        let quotas = Quotas { basic_per_day: 2, full_per_day: 5 };
        let vectors = crate::knowledge::vectors::D1Vectors(db);
        let ctx = Ctx {
            db,
            kb: db,
            http,
            clock: &FixedClock::at(1_000),
            ai: &ai,
            quotas: &quotas,
            embedder: None,
            vectors: &vectors,
        };
        let ask = Ask::parse(serde_json::json!({"message": message}).to_string().as_bytes()).expect("valid");
        block_on(super::ask(&ctx, &Asker { user_id: "u1".into(), role }, &ask)).map(|(a, _)| a)
    }

    #[test]
    fn with_no_provider_the_answer_is_retrieval_only_with_sources() {
        let db = db();
        let http = RecordingHttp::unreachable();
        let answer =
            run(&db, &http, &HashMap::new(), Role::Free, "Where is the patient's date of birth?").expect("answers");
        assert_eq!(answer.provider, "retrieval-only");
        assert!(answer.message.contains("Patient.birthDate"));
        assert_eq!(answer.sources[0].id, "element:Patient.birthDate");
        assert!(http.sent.borrow().is_empty(), "nothing is sent anywhere");
    }

    #[test]
    fn identifiers_never_reach_the_model_or_the_log() {
        let db = db();
        let http = RecordingHttp::answering(
            200,
            r#"{"model":"m","content":[{"type":"text","text":"ok [1]"}],"usage":{"input_tokens":1,"output_tokens":1}}"#,
        );
        let env = HashMap::from([("ANTHROPIC_API_KEY", "k"), ("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")]);
        let answer =
            run(&db, &http, &env, Role::Pro, "Patient SSN 123-45-6789: where is the date of birth?").expect("answers");
        assert_eq!(answer.redacted, ["SSN"]);
        assert!(!http.sent.borrow()[0].body.as_deref().unwrap_or_default().contains("123-45-6789"));
        #[derive(serde::Deserialize)]
        struct Logged {
            question: String,
        }
        let logged: Vec<Logged> = block_on(db.query(Statement::new("SELECT question FROM chat_logs"))).expect("q");
        assert!(logged[0].question.contains("[REDACTED-SSN]") && !logged[0].question.contains("6789"));
    }

    #[test]
    fn the_daily_quota_is_enforced_with_the_plan_that_lifts_it() {
        let db = db();
        let http = RecordingHttp::unreachable();
        let none = HashMap::new();
        run(&db, &http, &none, Role::Free, "birth date?").expect("first");
        run(&db, &http, &none, Role::Free, "birth date?").expect("second");
        let error = run(&db, &http, &none, Role::Free, "birth date?").expect_err("third is over the quota");
        assert_eq!(error.status_code(), 429);
        assert!(error.to_string().contains("Student plan"), "{error}");
    }

    #[test]
    fn the_context_and_the_stored_answer_are_redacted_too() {
        let db = db();
        let http = RecordingHttp::answering(
            200,
            r#"{"model":"m","content":[{"type":"text","text":"Put 943 476 5919 in Patient.identifier and write to ada@example.org [1]"}],"usage":{"input_tokens":1,"output_tokens":1}}"#,
        );
        let env = HashMap::from([("ANTHROPIC_API_KEY", "k"), ("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")]);
        let ai = AiConfig::from_env(&env).expect("config");
        let quotas = Quotas { basic_per_day: 2, full_per_day: 5 };
        let vectors = crate::knowledge::vectors::D1Vectors(&db);
        let ctx = Ctx {
            db: &db,
            kb: &db,
            http: &http,
            clock: &FixedClock::at(1_000),
            ai: &ai,
            quotas: &quotas,
            embedder: None,
            vectors: &vectors,
        };
        // An identifier across the context's budget is redacted whole, not cut in half and half kept.
        let chart = "Chart of ada@example.org, NHS 943 476 5919, +447700900123, born 31/12/1980. ";
        let context = format!("{chart}{} 9434765919", "x".repeat(MAX_CONTEXT_CHARS - 6 - chart.len()));
        let body = serde_json::json!({"message": "Where does the date of birth go?", "context": context});
        let ask = Ask::parse(body.to_string().as_bytes()).expect("valid");
        let (answer, _) =
            block_on(super::ask(&ctx, &Asker { user_id: "u1".into(), role: Role::Free }, &ask)).expect("answers");

        let prompt = http.sent.borrow()[0].body.clone().unwrap_or_default();
        for identifier in ["ada@example.org", "943 476 5919", "94347", "447700900123", "31/12/1980"] {
            assert!(!prompt.contains(identifier), "{identifier} reached the model: {prompt}");
        }
        assert!(prompt.contains("Chart of [REDACTED-EMAIL], NHS [REDACTED-NHS], [REDACTED-PHONE], [REDACTED-DOB]."));
        assert_eq!(answer.redacted, ["DOB", "EMAIL", "NHS", "PHONE"]);
        assert!(answer.message.contains("943 476 5919"), "the asker reads the answer as the model wrote it");

        #[derive(serde::Deserialize)]
        struct Logged {
            question: String,
            answer: String,
            redacted: String,
        }
        let logged: Vec<Logged> =
            block_on(db.query(Statement::new("SELECT question, answer, redacted FROM chat_logs"))).expect("q");
        assert_eq!(logged[0].question, "Where does the date of birth go?");
        assert_eq!(logged[0].answer, "Put [REDACTED-NHS] in Patient.identifier and write to [REDACTED-EMAIL] [1]");
        assert_eq!(logged[0].redacted, "DOB,EMAIL,NHS,PHONE");
    }
}
