//! Analytics in the API: `POST /api/events` (browser batches, rate-limited, DNT/GPC and bots
//! dropped, no IP stored, queued for D1), the events queue's consumer and its dead-letter queue's,
//! and the reports and funnels (JSON or CSV) for the caller's scope. Thin
//! adapters over `shared::analytics`.

use shared::analytics::{funnels, ingest, queue, reports};
use shared::auth::Caller;
use shared::backup::bucket::Bucket;
use shared::settings::Settings;
use shared::time::Clock;
use shared::web::routes::AnalyticsApi;
use shared::workers::api::{ApiRequest, query};
use shared::workers::{self, WorkerClock, respond};
use shared::{Error, Result};
use worker::{Env, Request, Response};

/// The analytics API's dispatcher.
pub async fn api(api: AnalyticsApi, call: &mut ApiRequest<'_>) -> Result<Response> {
    let settings = call.settings;
    match api {
        AnalyticsApi::Events => {
            let body = call.body().await?;
            events(call.request, settings, call.caller.as_ref(), &body).await
        }
        AnalyticsApi::Config => third_party(settings),
        AnalyticsApi::Report => {
            report(call.request, call.settings.env(), call.caller.as_ref(), call.param("report")).await
        }
        AnalyticsApi::Funnels => funnels(settings, call.caller.as_ref()).await,
        AnalyticsApi::Replay => {
            let env = settings.env();
            let replayed = queue::replay(&workers::database(env)?, &workers::backups(env)?).await?;
            let message = format!(
                "{} messages, {} rows, {} left; unreadable: {:?}; written but not deleted: {:?}",
                replayed.messages, replayed.rows, replayed.remaining, replayed.unreadable, replayed.undeleted
            );
            workers::log::info("queue.replay", &message);
            private_json(&replayed, 200)
        }
        AnalyticsApi::Funnel => funnel(call.request, settings, call.caller.as_ref(), call.param("id")).await,
    }
}

fn header(request: &Request, name: &str) -> Option<String> {
    request.headers().get(name).ok().flatten()
}

/// JSON that no cache keeps (reports are per caller).
fn private_json<T: serde::Serialize>(value: &T, status: u16) -> Result<Response> {
    let mut response = shared::workers::api::json(value, status)?;
    response.headers_mut().set("cache-control", "private, no-store").map_err(|e| Error::internal("headers", e))?;
    Ok(response)
}

/// `POST /api/events` with the body already read (64 KiB at most). The batch is validated and its
/// rows enqueued: the browser never waits on D1 (the day's salt is read once a day per isolate). Where
/// no queue is bound, the rows are written at once.
async fn events(
    request: &Request,
    settings: &Settings<'_, Env>,
    caller: Option<&Caller>,
    body: &[u8],
) -> Result<Response> {
    let env = settings.env();
    let now = WorkerClock.now_ms();
    let ip = header(request, "cf-connecting-ip").unwrap_or_else(|| "unknown".into());
    let limiter = env
        .rate_limiter(queue::RATE_LIMIT_BINDING)
        .map_err(|e| Error::Config(format!("the rate limit binding {} is missing: {e}", queue::RATE_LIMIT_BINDING)))?;
    // The key is hashed like every rate-limit key: no address leaves the request.
    let outcome = limiter
        .limit(shared::auth::rate_limit::key("events", &ip))
        .await
        .map_err(|e| Error::upstream("the rate limiter", e))?;
    if !outcome.success {
        return Err(Error::TooManyRequests { retry_after_seconds: 60 });
    }
    let batch: ingest::Batch = serde_json::from_slice(body).map_err(|e| {
        Error::BadRequest(format!("The body must be {{\"events\": [{{\"type\", \"sessionId\", ...}}]}}: {e}"))
    })?;
    let user_agent = header(request, "user-agent");
    let sender = ingest::Sender {
        ip: &ip,
        user_agent: user_agent.as_deref(),
        do_not_track: ingest::opted_out(header(request, "dnt").as_deref(), header(request, "sec-gpc").as_deref()),
        user_id: caller.map(|c| c.user_id.as_str()),
    };
    let valid = ingest::validate(&batch, now)?;
    if let Some(reason) = ingest::dropped(&sender) {
        return private_json(&ingest::Accepted { accepted: 0, dropped: Some(reason) }, 202);
    }
    let db = workers::database(env)?;
    let rows = valid.rows(&sender, &ingest::cached_daily_salt(&db, now).await?);
    let accepted = rows.len();
    match env.queue(queue::BINDING) {
        Ok(events) => {
            for message in queue::messages(rows)? {
                events.send(&message).await.map_err(|e| Error::upstream("queueing analytics events", e))?;
            }
        }
        Err(_) => {
            ingest::store(&db, &rows).await?;
        }
    }
    private_json(&ingest::Accepted { accepted, dropped: None }, 202)
}

/// The events queue's consumer: every row of the batch in one D1 batch, then each message acked. A
/// failure retries the whole batch (after the consumer's `retry_delay`); a message that is not an events message
/// is retried alone, so it reaches the dead-letter queue. The dead-letter queue's consumer keeps each
/// message in R2. One log line per batch.
pub async fn consume(batch: worker::MessageBatch<serde_json::Value>, env: &Env) {
    use worker::MessageExt;
    let started = WorkerClock.now_ms();
    let name = batch.queue();
    let messages = match batch.messages() {
        Ok(messages) => messages,
        Err(e) => {
            workers::log::error(&Error::internal("reading a queue batch", e));
            batch.retry_all();
            return;
        }
    };
    let line = |outcome: &str, rows: usize| {
        let message = format!(
            "queue {name}: {} messages, {rows} rows, {outcome}, {} ms",
            messages.len(),
            WorkerClock.now_ms() - started
        );
        workers::log::info("queue.batch", &message);
    };
    if queue::is_dead_letter(&name) {
        let bucket = match workers::backups(env) {
            Ok(bucket) => bucket,
            Err(e) => {
                workers::log::error(&e);
                batch.retry_all();
                return;
            }
        };
        let day = shared::analytics::ingest::day_of(started);
        let mut kept = Vec::new();
        for message in &messages {
            let key = queue::dead_letter_key(&day, &message.id());
            match bucket.put(&key, message.body().to_string()).await {
                Ok(()) => {
                    message.ack();
                    kept.push(key);
                }
                Err(e) => {
                    workers::log::error(&e);
                    message.retry();
                }
            }
        }
        // Staff replay them with POST /api/admin/analytics/replay (docs/operations.md).
        workers::log::warn("queue.dead_letter", &format!("events messages kept in R2: {}", kept.join(" ")));
        return;
    }
    let bodies: Vec<serde_json::Value> = messages.iter().map(|m| m.body().clone()).collect();
    let stored = match workers::database(env) {
        Ok(db) => queue::consume(&db, &bodies).await,
        Err(e) => Err(e),
    };
    match stored {
        Ok(consumed) => {
            for (i, message) in messages.iter().enumerate() {
                if consumed.malformed.contains(&i) {
                    message.retry();
                } else {
                    message.ack();
                }
            }
            line(&format!("stored ({} malformed, retried)", consumed.malformed.len()), consumed.rows);
        }
        Err(e) => {
            workers::log::error(&e);
            batch.retry_all();
            line("failed, retried", 0);
        }
    }
}

/// The caller's scope: 401 signed out, 403 without the dashboard.
fn scope(caller: Option<&Caller>) -> Result<reports::Scope> {
    reports::Scope::of(caller.ok_or_else(|| Error::Unauthorized("Sign in to continue.".into()))?)
}

fn range(request: &Request) -> Result<reports::Range> {
    reports::Range::parse(query(request, "start").as_deref(), query(request, "end").as_deref(), WorkerClock.now_ms())
}

async fn report(request: &Request, env: &Env, caller: Option<&Caller>, name: &str) -> Result<Response> {
    let scope = scope(caller)?;
    let range = range(request)?;
    let report = reports::report(&workers::database(env)?, name, &scope, &range).await?;
    respond_with(request, &report, name, &range)
}

/// The report as JSON, or as a CSV download with `?format=csv`.
fn respond_with(request: &Request, report: &reports::Report, name: &str, range: &reports::Range) -> Result<Response> {
    match query(request, "format").as_deref() {
        None | Some("json") => private_json(&report.json, 200),
        Some("csv") => {
            let failed = |e: worker::Error| Error::internal("writing CSV", e);
            let mut response = Response::ok(reports::csv(&report.header, &report.rows)).map_err(failed)?;
            let headers = response.headers_mut();
            headers.set("content-type", "text/csv; charset=utf-8").map_err(failed)?;
            let file = format!("fhiriq-{name}-{}-{}.csv", range.start, range.end);
            headers.set("content-disposition", &format!("attachment; filename=\"{file}\"")).map_err(failed)?;
            headers.set("cache-control", "private, no-store").map_err(failed)?;
            Ok(response)
        }
        Some(other) => Err(Error::BadRequest(format!("format must be json or csv, not {other:?}"))),
    }
}

async fn funnels(settings: &Settings<'_, Env>, caller: Option<&Caller>) -> Result<Response> {
    scope(caller)?;
    private_json(settings.funnels()?, 200)
}

async fn funnel(
    request: &Request,
    settings: &Settings<'_, Env>,
    caller: Option<&Caller>,
    id: &str,
) -> Result<Response> {
    let scope = scope(caller)?;
    let funnel = settings
        .funnels()?
        .iter()
        .find(|f| f.id == id)
        .ok_or_else(|| Error::NotFound(format!("There is no funnel {id:?}; see /api/analytics/funnels.")))?;
    let range = range(request)?;
    let report = funnels::report(&workers::database(settings.env())?, funnel, &scope, &range).await?;
    respond_with(request, &report, &format!("funnel-{id}"), &range)
}

/// `GET /api/analytics/config`: GA4 and PostHog ids when configured, for the consent banner.
fn third_party(settings: &Settings<'_, Env>) -> Result<Response> {
    let config = settings.third_party()?;
    let mut response = respond::json(&config.public(), 200).map_err(|e| Error::internal("writing a response", e))?;
    response.headers_mut().set("cache-control", "public, max-age=300").map_err(|e| Error::internal("headers", e))?;
    Ok(response)
}
