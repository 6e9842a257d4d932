//! `POST /api/events`: batches of browser events (page views, funnel steps, tool usage, course
//! progress, AI interactions), sent with `navigator.sendBeacon`. Privacy first: nothing is stored when
//! the browser sends `DNT: 1` or `Sec-GPC: 1`; the IP address is never stored, only a visitor hash of
//! (IP, user agent) salted with a random salt that changes every UTC day and is deleted after it, so
//! visitors can be counted within a day and never followed across days or recovered. Obvious bots are
//! dropped. Referrers keep only their origin; pages lose their query, and secret parameters (reset
//! tokens, invitations, OAuth codes) are removed from properties too ([`super::secrets`]).
//!
//! A browser may send only the event types in [`BROWSER_EVENT_TYPES`]. Everything else (a
//! subscription started, a course completed, a push to GitHub) is written by the server itself, into
//! `user_events`, when it happens: a hand-made request cannot add steps to a funnel.

use super::secrets;
use crate::error::{Error, Result};
use crate::events::{EventType, MAX_PROPERTIES_BYTES};
use crate::ids;
use crate::storage::{Database, Statement};
use crate::time::{DAY, Millis, to_rfc3339};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Events per batch (a page's beacon sends a handful).
pub const MAX_BATCH: usize = 50;
/// A browser event's properties: smaller than the server's.
pub const MAX_BROWSER_PROPERTIES_BYTES: usize = 2 * 1024;
const _: () = assert!(MAX_BROWSER_PROPERTIES_BYTES <= MAX_PROPERTIES_BYTES);

/// The event types a browser sends (site/js): a page view, a tool opened, a Builder preview, a
/// question to the assistant. Add a type here when the site's scripts start sending it.
pub const BROWSER_EVENT_TYPES: [&str; 4] = ["page.view", "tool.opened", "builder.previewed", "assistant.asked"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub events: Vec<Incoming>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Incoming {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub properties: Option<Value>,
    pub page: Option<String>,
    pub referrer: Option<String>,
    pub session_id: String,
    /// Milliseconds since the epoch, as the browser saw it; kept only when within a day of the server.
    pub at: Option<Millis>,
}

/// Who sent the batch, as the request says.
pub struct Sender<'a> {
    pub ip: &'a str,
    pub user_agent: Option<&'a str>,
    pub do_not_track: bool,
    pub user_id: Option<&'a str>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Accepted {
    /// Events accepted for storage: written now, or queued for the consumer (`store`).
    pub accepted: usize,
    /// `do-not-track`, `bot`, or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<&'static str>,
}

/// User agents that announce themselves as machines.
pub fn is_bot(user_agent: Option<&str>) -> bool {
    let Some(ua) = user_agent.map(str::to_ascii_lowercase) else { return true };
    ua.is_empty()
        || [
            "bot",
            "crawl",
            "spider",
            "slurp",
            "headlesschrome",
            "phantomjs",
            "lighthouse",
            "curl/",
            "wget/",
            "python-requests",
            "httpclient",
        ]
        .iter()
        .any(|needle| ua.contains(needle))
}

/// `DNT: 1` or `Sec-GPC: 1`.
pub fn opted_out(dnt: Option<&str>, gpc: Option<&str>) -> bool {
    dnt.is_some_and(|v| v.trim() == "1") || gpc.is_some_and(|v| v.trim() == "1")
}

fn bad(index: usize, field: &str, why: &str) -> Error {
    Error::BadRequest(format!("events[{index}].{field}: {why}"))
}

/// A site path without its query (queries can carry personal data, `?email=`, and secrets,
/// `?token=`), its fragment or matrix parameters, raw or percent-encoded.
fn clean_page(index: usize, page: &str) -> Result<String> {
    let lower = page.to_ascii_lowercase();
    let end = ["?", "#", ";", "%3f", "%23", "%3b"].iter().filter_map(|cut| lower.find(cut)).min();
    let path = &page[..end.unwrap_or(page.len())];
    if !path.starts_with('/') || path.len() > 300 || path.chars().any(char::is_control) {
        return Err(bad(index, "page", "must be a site path like /pricing, at most 300 characters"));
    }
    Ok(path.to_owned())
}

/// Only the referrer's origin (`https://www.google.com`), never its path or query.
fn referrer_origin(referrer: &str) -> Option<String> {
    let (scheme, rest) = referrer.split_once("://")?;
    if !(scheme == "https" || scheme == "http") {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty() && host.len() <= 255 && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        .then(|| format!("{scheme}://{}", host.to_ascii_lowercase()))
}

fn check_session(index: usize, id: &str) -> Result<()> {
    let ok = (8..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok { Ok(()) } else { Err(bad(index, "sessionId", "8 to 64 letters, digits, '-' or '_'")) }
}

/// The UTC day of `ms`: `2026-12-02`.
pub fn day_of(ms: Millis) -> String {
    to_rfc3339(ms)[..10].to_owned()
}

#[derive(Deserialize)]
struct Salt {
    salt: String,
}

/// Today's salt, created on first use. Yesterday's and older are deleted by the rollup, so a visitor
/// hash cannot be recomputed once its day is over.
/// The day's salt, from D1 (made by the first request of the day).
pub async fn daily_salt(db: &impl Database, now: Millis) -> Result<String> {
    let day = day_of(now);
    db.execute(
        Statement::new("INSERT OR IGNORE INTO analytics_salts (day, salt) VALUES (?1, ?2)")
            .bind(day.as_str())
            .bind(ids::new_token()?),
    )
    .await?;
    let row: Option<Salt> =
        db.query_first(Statement::new("SELECT salt FROM analytics_salts WHERE day = ?1").bind(day.as_str())).await?;
    row.map(|r| r.salt).ok_or_else(|| Error::internal("the daily salt", "missing after insert"))
}

/// The day's salt, read from D1 once a day per isolate: a beacon's request does not wait on D1.
pub async fn cached_daily_salt(db: &impl Database, now: Millis) -> Result<String> {
    static CACHE: std::sync::Mutex<Option<(String, String)>> = std::sync::Mutex::new(None);
    let day = day_of(now);
    if let Ok(cache) = CACHE.lock()
        && let Some((cached_day, salt)) = cache.as_ref()
        && *cached_day == day
    {
        return Ok(salt.clone());
    }
    let salt = daily_salt(db, now).await?;
    if let Ok(mut cache) = CACHE.lock() {
        *cache = Some((day, salt.clone()));
    }
    Ok(salt)
}

pub fn visitor_hash(salt: &str, ip: &str, user_agent: &str) -> String {
    hex::encode(&Sha256::digest(format!("{salt}\n{ip}\n{user_agent}").as_bytes())[..16])
}

/// One event ready to store: validated, scrubbed, its visitor hashed. What the events queue carries
/// (`EVENTS`, consumed by the site worker): no IP address, no user agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    #[serde(rename = "type")]
    pub kind: String,
    /// The properties as JSON text.
    pub properties: String,
    pub page: Option<String>,
    pub referrer: Option<String>,
    pub session: String,
    pub visitor: String,
    pub user: Option<String>,
    pub at: Millis,
}

/// A browser's batch, validated: every event, or the first bad one named with its field.
pub struct Valid(Vec<EventRow>);

/// Validates the whole batch (one bad event refuses it, naming the event and field). Touches nothing.
pub fn validate(batch: &Batch, now: Millis) -> Result<Valid> {
    if batch.events.is_empty() {
        return Err(Error::BadRequest("events is empty".into()));
    }
    if batch.events.len() > MAX_BATCH {
        return Err(Error::PayloadTooLarge(format!(
            "{} events in one batch; the limit is {MAX_BATCH}",
            batch.events.len()
        )));
    }
    let mut rows = Vec::with_capacity(batch.events.len());
    for (i, e) in batch.events.iter().enumerate() {
        let kind = EventType::parse(&e.kind).map_err(|_| bad(i, "type", "1 to 64 of a-z, 0-9, '.', '_'"))?;
        if !BROWSER_EVENT_TYPES.contains(&kind.as_ref()) {
            let allowed = format!("not an event a browser sends; one of {}", BROWSER_EVENT_TYPES.join(", "));
            return Err(bad(i, "type", &allowed));
        }
        let mut properties = e.properties.clone().unwrap_or_else(|| Value::Object(Default::default()));
        if !properties.is_object() {
            return Err(bad(i, "properties", "must be a JSON object"));
        }
        secrets::scrub(&mut properties);
        let json = properties.to_string();
        if json.len() > MAX_BROWSER_PROPERTIES_BYTES {
            return Err(Error::PayloadTooLarge(format!(
                "events[{i}].properties is {} bytes; the limit is {MAX_BROWSER_PROPERTIES_BYTES}",
                json.len()
            )));
        }
        let page = e.page.as_deref().map(|p| clean_page(i, p)).transpose()?;
        check_session(i, &e.session_id)?;
        // A clock far from ours is not trusted: the event happened now.
        let at = e.at.filter(|at| (now - at).abs() < DAY).unwrap_or(now);
        rows.push(EventRow {
            kind: kind.as_ref().to_owned(),
            properties: json,
            page,
            referrer: e.referrer.as_deref().and_then(referrer_origin),
            session: e.session_id.clone(),
            visitor: String::new(),
            user: None,
            at,
        });
    }
    Ok(Valid(rows))
}

/// Why a valid batch from this sender is dropped (Do Not Track, Global Privacy Control, a bot), if it is.
pub fn dropped(sender: &Sender<'_>) -> Option<&'static str> {
    if sender.do_not_track {
        Some("do-not-track")
    } else if is_bot(sender.user_agent) {
        Some("bot")
    } else {
        None
    }
}

impl Valid {
    /// The rows to store, each with the sender's visitor hash (of IP and user agent, with the day's
    /// salt) and signed-in user.
    pub fn rows(self, sender: &Sender<'_>, salt: &str) -> Vec<EventRow> {
        let visitor = visitor_hash(salt, sender.ip, sender.user_agent.unwrap_or_default());
        let user = sender.user_id.map(str::to_owned);
        self.0.into_iter().map(|row| EventRow { visitor: visitor.clone(), user: user.clone(), ..row }).collect()
    }
}

/// A statement's bound JSON stays under this many bytes (D1 allows 2 MB in a value).
const STATEMENT_BYTES: usize = 1024 * 1024;

/// `rows` in consecutive groups whose JSON array stays within `max_bytes` (a row larger than that
/// alone in its group), each with that array's text: one serialization for both the statements of
/// [`store`] and the queue's messages.
pub fn by_size(rows: &[EventRow], max_bytes: usize) -> Result<Vec<(&[EventRow], String)>> {
    let mut groups = Vec::new();
    let (mut start, mut array) = (0, String::from("["));
    for (i, row) in rows.iter().enumerate() {
        let json = serde_json::to_string(row).map_err(|e| Error::internal("writing an event row", e))?;
        if i > start && array.len() + json.len() + 2 > max_bytes {
            array.push(']');
            groups.push((&rows[start..i], std::mem::replace(&mut array, String::from("["))));
            start = i;
        }
        if i > start {
            array.push(',');
        }
        array.push_str(&json);
    }
    if start < rows.len() {
        array.push(']');
        groups.push((&rows[start..], array));
    }
    Ok(groups)
}

/// Stores `rows` in as few statements as their size allows (each `INSERT ... SELECT FROM json_each`
/// of one bound JSON array, so D1's 100-parameter limit does not apply), all in one D1 batch: every
/// row is written or none is. Returns how many were written.
pub async fn store(db: &impl Database, rows: &[EventRow]) -> Result<usize> {
    let statements: Vec<Statement> = by_size(rows, STATEMENT_BYTES)?
        .into_iter()
        .map(|(_, array)| {
            Statement::new(
                "INSERT INTO analytics_events (event_type, properties, page, referrer, session_id, visitor, user_id, created_at)
                 SELECT json_extract(value, '$.type'), json_extract(value, '$.properties'), json_extract(value, '$.page'),
                        json_extract(value, '$.referrer'), json_extract(value, '$.session'), json_extract(value, '$.visitor'),
                        json_extract(value, '$.user'), json_extract(value, '$.at')
                 FROM json_each(?1)",
            )
            .bind(array)
        })
        .collect();
    if !statements.is_empty() {
        db.batch(statements).await?;
    }
    Ok(rows.len())
}

/// Validates and stores a batch at once, without the queue (where no `EVENTS` queue is bound).
pub async fn ingest(db: &impl Database, sender: &Sender<'_>, batch: &Batch, now: Millis) -> Result<Accepted> {
    let valid = validate(batch, now)?;
    if let Some(reason) = dropped(sender) {
        return Ok(Accepted { accepted: 0, dropped: Some(reason) });
    }
    let rows = valid.rows(sender, &daily_salt(db, now).await?);
    Ok(Accepted { accepted: store(db, &rows).await?, dropped: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;
    use serde_json::json;

    fn batch(events: Value) -> Batch {
        serde_json::from_value(json!({ "events": events })).expect("a batch")
    }

    const CHROME: &str =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";

    fn sender(dnt: bool, ua: &str) -> Sender<'_> {
        Sender { ip: "203.0.113.9", user_agent: Some(ua), do_not_track: dnt, user_id: None }
    }

    #[derive(Deserialize)]
    struct Row {
        page: Option<String>,
        referrer: Option<String>,
        visitor: String,
    }

    #[test]
    fn events_are_stored_without_the_ip_and_with_a_daily_visitor_hash() {
        let db = SqliteDb::with_schema();
        let b = batch(json!([{"type": "page.view", "page": "/pricing?email=a@b.c", "sessionId": "s-12345678",
                                "referrer": "https://www.google.com/search?q=fhir"}]));
        let accepted = block_on(ingest(&db, &sender(false, CHROME), &b, 1_000)).expect("stored");
        assert_eq!(accepted, Accepted { accepted: 1, dropped: None });
        let rows: Vec<Row> =
            block_on(db.query(Statement::new("SELECT page, referrer, visitor FROM analytics_events"))).expect("rows");
        assert_eq!(rows[0].page.as_deref(), Some("/pricing"), "the query is dropped");
        assert_eq!(rows[0].referrer.as_deref(), Some("https://www.google.com"), "only the origin");
        let dump: Vec<Value> = block_on(db.query(Statement::new("SELECT * FROM analytics_events"))).expect("rows");
        assert!(!dump[0].to_string().contains("203.0.113.9"), "the IP is never stored");
        // The same visitor the next day gets a different hash.
        block_on(ingest(&db, &sender(false, CHROME), &b, 1_000 + DAY)).expect("stored");
        let rows: Vec<Row> =
            block_on(db.query(Statement::new("SELECT page, referrer, visitor FROM analytics_events ORDER BY id")))
                .expect("rows");
        assert_ne!(rows[0].visitor, rows[1].visitor);
    }

    #[test]
    fn a_queued_batch_is_stored_exactly_in_statements_sized_for_d1() {
        let db = SqliteDb::with_schema();
        let row = |i: usize| EventRow {
            kind: "page.view".into(),
            properties: json!({"i": i, "pad": "x".repeat(1900), "quote": "it's \"fine\""}).to_string(),
            page: i.is_multiple_of(2).then(|| format!("/p/{i}")),
            referrer: None,
            session: format!("s-{i:08}"),
            visitor: "v".repeat(32),
            user: (i == 7).then(|| "user-7".to_owned()),
            at: 1_000 + i as i64,
        };
        // About 1.2 MB of rows: more than one statement's worth.
        let rows: Vec<EventRow> = (0..600).map(row).collect();
        assert_eq!(block_on(store(&db, &rows)).expect("stored"), 600);
        #[derive(Deserialize)]
        struct Stored {
            event_type: String,
            properties: String,
            page: Option<String>,
            session_id: String,
            user_id: Option<String>,
            created_at: i64,
        }
        let stored: Vec<Stored> = block_on(db.query(Statement::new(
            "SELECT event_type, properties, page, session_id, user_id, created_at FROM analytics_events ORDER BY created_at",
        )))
        .expect("rows");
        assert_eq!(stored.len(), 600);
        for (i, s) in stored.iter().enumerate() {
            let want = row(i);
            assert_eq!(
                (&s.event_type, &s.page, &s.session_id, &s.user_id),
                (&want.kind, &want.page, &want.session, &want.user)
            );
            assert_eq!(s.created_at, want.at);
            let properties: Value = serde_json::from_str(&s.properties).expect("JSON text");
            assert_eq!(properties, serde_json::from_str::<Value>(&want.properties).expect("JSON"));
        }
        assert_eq!(block_on(store(&db, &[])).expect("nothing to store"), 0);
    }

    #[test]
    fn do_not_track_and_bots_store_nothing() {
        let db = SqliteDb::with_schema();
        let b = batch(json!([{"type": "page.view", "page": "/", "sessionId": "s-12345678"}]));
        assert_eq!(block_on(ingest(&db, &sender(true, CHROME), &b, 1)).expect("ok").dropped, Some("do-not-track"));
        let bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
        assert_eq!(block_on(ingest(&db, &sender(false, bot), &b, 1)).expect("ok").dropped, Some("bot"));
        let rows: Vec<Value> = block_on(db.query(Statement::new("SELECT * FROM analytics_events"))).expect("rows");
        assert!(rows.is_empty());
        assert!(opted_out(Some("1"), None) && opted_out(None, Some("1")) && !opted_out(Some("0"), None));
    }

    #[test]
    fn bad_events_are_refused_whole_with_the_event_named() {
        let db = SqliteDb::with_schema();
        let cases = [
            (json!([{"type": "Page View", "sessionId": "s-12345678"}]), "events[0].type", 400),
            (
                json!([{"type": "page.view", "sessionId": "s-12345678"}, {"type": "tool.opened", "sessionId": "x"}]),
                "events[1].sessionId",
                400,
            ),
            (
                json!([{"type": "page.view", "sessionId": "s-12345678", "page": "https://evil.example/"}]),
                "events[0].page",
                400,
            ),
            (json!([{"type": "page.view", "sessionId": "s-12345678", "properties": [1]}]), "events[0].properties", 400),
            (
                json!([{"type": "page.view", "sessionId": "s-12345678", "properties": {"x": "y".repeat(3000)}}]),
                "events[0].properties",
                413,
            ),
        ];
        for (events, field, status) in cases {
            let error = block_on(ingest(&db, &sender(false, CHROME), &batch(events), 1)).expect_err(field);
            assert!(error.to_string().starts_with(field), "{field}: {error}");
            assert_eq!(error.status_code(), status);
        }
        let many: Vec<Value> = (0..51).map(|_| json!({"type": "page.view", "sessionId": "s-12345678"})).collect();
        assert_eq!(
            block_on(ingest(&db, &sender(false, CHROME), &batch(json!(many)), 1)).expect_err("51").status_code(),
            413
        );
        let rows: Vec<Value> = block_on(db.query(Statement::new("SELECT * FROM analytics_events"))).expect("rows");
        assert!(rows.is_empty(), "a refused batch stores nothing");
    }

    #[test]
    fn server_event_types_are_refused_whole_and_nothing_is_stored() {
        let db = SqliteDb::with_schema();
        // Funnel steps and milestones the server records when they happen; and a type nobody uses.
        for kind in [
            "subscription.started",
            "checkout.started",
            "course.enrolled",
            "course.completed",
            "github.pushed",
            "builder.generated",
            "user.signed_up",
            "made.up",
        ] {
            let b = batch(json!([{"type": "page.view", "page": "/pricing", "sessionId": "s-12345678"},
                                 {"type": kind, "sessionId": "s-12345678"}]));
            let error = block_on(ingest(&db, &sender(false, CHROME), &b, 1)).expect_err(kind);
            assert_eq!(error.status_code(), 400, "{kind}");
            assert!(error.to_string().starts_with("events[1].type: not an event a browser sends"), "{kind}: {error}");
        }
        let rows: Vec<Value> = block_on(db.query(Statement::new("SELECT * FROM analytics_events"))).expect("rows");
        assert!(rows.is_empty(), "the page view in the same batch is refused with it");
        for kind in BROWSER_EVENT_TYPES {
            let b = batch(json!([{"type": kind, "sessionId": "s-12345678"}]));
            assert_eq!(block_on(ingest(&db, &sender(false, CHROME), &b, 1)).expect(kind).accepted, 1, "{kind}");
        }
    }

    #[test]
    fn the_openapi_document_lists_the_browser_event_types() {
        let openapi = include_str!("../../../docs/openapi.yaml");
        let listed = format!("type: {{ type: string, enum: [{}] }}", BROWSER_EVENT_TYPES.join(", "));
        assert!(openapi.contains(&listed), "docs/openapi.yaml should say {listed}");
    }

    #[test]
    fn secret_parameters_are_never_stored() {
        let db = SqliteDb::with_schema();
        let secret = "6f1c0ffee5ec2e7";
        let b = batch(json!([
            {"type": "page.view", "page": format!("/reset?token={secret}"), "sessionId": "s-12345678",
             "referrer": format!("https://fhiriq.dev/account?invite={secret}")},
            {"type": "page.view", "page": format!("/reset%3Ftoken%3D{secret}"), "sessionId": "s-12345678"},
            {"type": "page.view", "page": format!("/reset;token={secret}"), "sessionId": "s-12345678"},
            {"type": "tool.opened", "page": "/signin", "sessionId": "s-12345678",
             "properties": {"href": format!("/signin?next=%2Faccount%3Finvite%3D{secret}"),
                            "oauth": format!("/github/callback?code={secret}&state={secret}"), "token": secret}},
        ]));
        assert_eq!(block_on(ingest(&db, &sender(false, CHROME), &b, 1)).expect("stored").accepted, 4);
        let rows: Vec<Value> =
            block_on(db.query(Statement::new("SELECT page, referrer, properties FROM analytics_events ORDER BY id")))
                .expect("rows");
        let dump = serde_json::to_string(&rows).expect("json");
        assert!(!dump.contains(secret), "{dump}");
        let pages: Vec<&str> = rows.iter().map(|r| r["page"].as_str().unwrap_or_default()).collect();
        assert_eq!(pages, ["/reset", "/reset", "/reset", "/signin"]);
        let properties: Value = serde_json::from_str(rows[3]["properties"].as_str().unwrap_or("{}")).expect("json");
        assert_eq!(
            properties,
            json!({"href": "/signin?next=%2Faccount%3Finvite%3Dremoved",
                   "oauth": "/github/callback?code=removed&state=removed", "token": "removed"})
        );
    }
}
