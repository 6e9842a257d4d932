//! Server-sent events for the browser: `sources` first, then `delta` events as the model writes,
//! then `done` with usage, provider and model. The model's own stream (Anthropic events or OpenAI
//! chunks) is decoded by `shared::assistant::sse` as it arrives. A provider that fails before its
//! first word hands over to the next; one that fails mid-answer ends with an `error` event; with no
//! provider left, the retrieval-only answer is streamed.

use futures::StreamExt;
use futures::channel::mpsc::{UnboundedSender, unbounded};
use shared::assistant::answer::{self, Answer, Usage};
use shared::assistant::providers::{self, AiConfig, Kind, Provider};
use shared::assistant::quota::Quotas;
use shared::assistant::request::{Ask, Turn};
use shared::assistant::service::{self, Asker, Ctx, Prepared};
use shared::assistant::sse::{self, Piece};
use shared::settings::Settings;
use shared::time::with_timeout;
use shared::workers::{self, EdgeClient, WorkerClock};
use worker::{Context, Env, Fetch, Response};

type Events = UnboundedSender<Result<Vec<u8>, worker::Error>>;

fn send(events: &Events, event: String) {
    let _ = events.unbounded_send(Ok(event.into_bytes()));
}

pub async fn answer(
    settings: &Settings<'_, Env>,
    ctx: &Context,
    ai: AiConfig,
    quotas: Quotas,
    asker: Asker,
    ask: Ask,
) -> shared::Result<Response> {
    let env = settings.env();
    let (db, kb) = (workers::database(env)?, workers::knowledge(env)?);
    // Quota, redaction and retrieval happen before the stream opens, so their errors are plain JSON.
    let prepared = {
        let embedder = settings.embedder()?;
        let vectors = workers::vectors(env, &kb);
        let c = Ctx {
            db: &db,
            kb: &kb,
            http: &EdgeClient::new(env)?,
            vectors: &vectors,
            clock: &WorkerClock,
            ai: &ai,
            quotas: &quotas,
            embedder: embedder.as_ref(),
        };
        service::prepare(&c, &asker, &ask).await?
    };
    let (events, body) = unbounded();
    let env = env.clone();
    ctx.wait_until(async move { produce(env, ai, quotas, asker, prepared, events).await });
    let mut response =
        Response::from_stream(body).map_err(|e| shared::Error::internal("opening the event stream", e))?;
    let headers = response.headers_mut();
    for (name, value) in [("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-store")] {
        headers.set(name, value).map_err(|e| shared::Error::internal("event stream headers", e))?;
    }
    Ok(response)
}

struct Streamed {
    provider: &'static str,
    model: String,
    text: String,
    usage: Usage,
}

enum Failure {
    /// Nothing was sent: the next provider can answer instead.
    BeforeText(String),
    /// Part of an answer was sent.
    AfterText(String, Streamed),
}

async fn produce(env: Env, ai: AiConfig, quotas: Quotas, asker: Asker, prepared: Prepared, events: Events) {
    send(&events, sse::sources_event(&prepared.sources, &prepared.redacted));
    let messages = answer::messages(&prepared.history, &prepared.question);
    let mut streamed = None;
    for provider in &ai.providers {
        let asked = Attempt { provider, ai: &ai, system: &prepared.system, messages: &messages, events: &events };
        let attempt =
            if provider.kind == Kind::WorkersAi { whole_one(&env, &asked).await } else { stream_one(&asked).await };
        match attempt {
            Ok(done) => {
                streamed = Some(done);
                break;
            }
            Err(Failure::BeforeText(why)) => shared::workers::log::warn(
                "assistant.provider_fallback",
                &format!("{} failed: {why}", provider.kind.name()),
            ),
            Err(Failure::AfterText(why, partial)) => {
                shared::workers::log::warn(
                    "assistant.stream_interrupted",
                    &format!("{} failed mid-answer: {why}", provider.kind.name()),
                );
                send(
                    &events,
                    sse::error_event("The model stopped before finishing. The sources above still apply; try again."),
                );
                streamed = Some(partial);
                break;
            }
        }
    }
    let confidence = answer::confidence(&prepared.sources);
    let answer = match streamed {
        Some(s) => {
            send(&events, sse::done_event(s.usage, s.provider, Some(&s.model), confidence));
            Answer {
                message: s.text,
                sources: prepared.sources.clone(),
                tokens_used: s.usage,
                confidence,
                provider: s.provider.into(),
                model: Some(s.model),
                redacted: prepared.redacted.clone(),
            }
        }
        None => {
            let answer = service::retrieval_only(&prepared);
            for event in sse::whole_answer(&answer).into_iter().skip(1) {
                send(&events, event);
            }
            answer
        }
    };
    drop(events);
    if let (Ok(db), Ok(kb)) = (workers::database(&env), workers::knowledge(&env)) {
        let vectors = workers::vectors(&env, &kb);
        let Ok(http) = EdgeClient::new(&env) else { return };
        let c = Ctx {
            db: &db,
            kb: &kb,
            http: &http,
            clock: &WorkerClock,
            ai: &ai,
            quotas: &quotas,
            embedder: None,
            vectors: &vectors,
        };
        if let Err(e) = service::log(&c, &asker, &prepared, &answer).await {
            shared::workers::log::error(&e);
        }
    }
}

/// One provider's try at the answer: what it is asked, and where the answer's events go.
struct Attempt<'a> {
    provider: &'a Provider,
    ai: &'a AiConfig,
    system: &'a str,
    messages: &'a [Turn],
    events: &'a Events,
}

/// Workers AI through its binding answers whole; the answer goes out as one delta.
async fn whole_one(env: &Env, attempt: &Attempt<'_>) -> Result<Streamed, Failure> {
    let Attempt { provider, ai, system, messages, events } = *attempt;
    let http = EdgeClient::new(env).map_err(|e| Failure::BeforeText(e.to_string()))?;
    let completion = providers::complete(&http, &WorkerClock, ai, provider, system, messages)
        .await
        .map_err(|e| Failure::BeforeText(e.to_string()))?;
    send(events, sse::delta_event(&completion.text));
    Ok(Streamed {
        provider: provider.kind.name(),
        model: completion.model,
        text: completion.text,
        usage: completion.usage,
    })
}

async fn stream_one(attempt: &Attempt<'_>) -> Result<Streamed, Failure> {
    let Attempt { provider, ai, system, messages, events } = *attempt;
    let outbound = providers::request(provider, system, messages, ai.max_tokens, true);
    let request = workers::fetch::to_request(&outbound).map_err(|e| Failure::BeforeText(e.to_string()))?;
    let mut response = match with_timeout(&WorkerClock, ai.timeout_ms, Fetch::Request(request).send()).await {
        Some(Ok(response)) => response,
        Some(Err(e)) => return Err(Failure::BeforeText(e.to_string())),
        None => return Err(Failure::BeforeText(format!("no answer in {} ms", ai.timeout_ms))),
    };
    if !(200..300).contains(&response.status_code()) {
        let body = response.text().await.unwrap_or_default();
        return Err(Failure::BeforeText(format!(
            "HTTP {}: {}",
            response.status_code(),
            body.chars().take(200).collect::<String>()
        )));
    }
    let mut body = response.stream().map_err(|e| Failure::BeforeText(e.to_string()))?;
    let mut decoder = sse::Decoder::default();
    let mut out = Streamed {
        provider: provider.kind.name(),
        model: provider.model.clone(),
        text: String::new(),
        usage: Usage::default(),
    };
    let map = match provider.kind {
        Kind::Anthropic => sse::anthropic,
        Kind::OpenAi | Kind::WorkersAi => sse::openai,
    };
    loop {
        let chunk = match with_timeout(&WorkerClock, ai.timeout_ms, body.next()).await {
            Some(Some(Ok(bytes))) => bytes,
            Some(None) => return Ok(out),
            Some(Some(Err(e))) => return Err(fail(e.to_string(), out)),
            None => return Err(fail(format!("the stream stalled for {} ms", ai.timeout_ms), out)),
        };
        for event in decoder.push(&chunk) {
            for piece in map(&event) {
                match piece {
                    Piece::Text(text) => {
                        send(events, sse::delta_event(&text));
                        out.text.push_str(&text);
                    }
                    Piece::Model(model) if !model.is_empty() => out.model = model,
                    Piece::InputTokens(n) => out.usage.input = n,
                    Piece::OutputTokens(n) => out.usage.output = n,
                    Piece::Error(message) => return Err(fail(message, out)),
                    Piece::End => return Ok(out),
                    _ => {}
                }
            }
        }
    }
}

fn fail(why: String, partial: Streamed) -> Failure {
    if partial.text.is_empty() { Failure::BeforeText(why) } else { Failure::AfterText(why, partial) }
}
