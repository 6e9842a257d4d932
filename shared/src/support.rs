//! The support desk. Any signed-in user opens a request (subject, message, category and, optionally,
//! a link to a generation, course or order of their own) and reads the thread; staff answer from
//! `/admin/support`. Priority comes from the permission matrix: plans with `priority_support` (Pro,
//! Enterprise) get `priority`, a first-response target and a Slack alert to staff, queued in the same
//! batch as the request. Enterprise members (`custom_integrations`) may file `integration` requests,
//! which reach the same desk with that label. A staff reply is emailed through the outbox in the same
//! batch as the reply itself, and recorded in the staff audit log.
//!
//! Text is stored as the user wrote it (trimmed, control characters removed, within its length) and
//! only ever put on a page as text: the pages escape it, Slack gets it escaped.

use crate::alerts::{self, escape};
use crate::auth::roles::{Caller, Permission};
use crate::error::{Error, Result};
use crate::ids;
use crate::storage::{Database, Statement, json_list};
use crate::time::{HOUR, Millis};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How soon a priority request gets its first answer: one business day.
pub const PRIORITY_FIRST_RESPONSE_MS: Millis = 24 * HOUR;
/// Shown to Pro and Enterprise members when they open a request.
pub const PRIORITY_TARGET: &str = "one business day";

pub const CATEGORIES: [&str; 7] = ["billing", "account", "course", "builder", "assistant", "integration", "other"];

/// A new request as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub subject: String,
    pub message: String,
    pub category: String,
    pub link: Option<Link>,
}

/// What a request is about, of the user's own: `generation` (a Builder generation id), `course` (a
/// course slug they are enrolled in) or `order` (an order id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub kind: String,
    pub id: String,
}

/// A user's reply.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    pub message: String,
}

/// A staff reply: the message, and where it leaves the request (`answered`, the default, or
/// `closed`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffReply {
    pub message: String,
    pub status: Option<String>,
}

/// Trimmed, without control characters (newlines and tabs kept), 1 to `max` characters; else 422
/// naming the field.
fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String> {
    let kept: String =
        value.replace("\r\n", "\n").chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect();
    let cleaned = kept.trim().to_owned();
    let length = cleaned.chars().count();
    if length < min || length > max {
        return Err(Error::Unprocessable(format!("{field} must be {min} to {max} characters")));
    }
    Ok(cleaned)
}

/// A request accepted for `caller`: fields valid, category allowed, priority decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub subject: String,
    pub message: String,
    pub category: &'static str,
    pub priority: &'static str,
    pub link: Option<Link>,
}

impl Parsed {
    pub fn new(input: NewRequest, caller: &Caller) -> Result<Self> {
        // One line: it becomes an email subject and a Slack heading.
        let subject = text("subject", &input.subject, 3, 150)?.replace(['\n', '\t'], " ");
        let message = text("message", &input.message, 10, 5_000)?;
        let category = CATEGORIES
            .into_iter()
            .find(|c| *c == input.category)
            .ok_or_else(|| Error::Unprocessable(format!("category must be one of {}", CATEGORIES.join(", "))))?;
        if category == "integration" && !caller.role.has(Permission::CustomIntegrations) {
            return Err(Error::Forbidden(
                "Integration requests are part of the Enterprise plan; choose another category.".into(),
            ));
        }
        if let Some(link) = &input.link
            && (!["generation", "course", "order"].contains(&link.kind.as_str())
                || link.id.is_empty()
                || link.id.len() > 100)
        {
            return Err(Error::Unprocessable("link must be {kind: generation|course|order, id}".into()));
        }
        let priority = if caller.role.has(Permission::PrioritySupport) { "priority" } else { "normal" };
        Ok(Self { subject, message, category, priority, link: input.link })
    }
}

/// 422 unless the link names something of the caller's own (without saying whether it exists).
pub async fn check_link(db: &impl Database, user_id: &str, link: &Link) -> Result<()> {
    let sql = match link.kind.as_str() {
        "generation" => "SELECT 1 AS n FROM code_generations WHERE id = ?1 AND user_id = ?2",
        "course" => "SELECT 1 AS n FROM enrollments WHERE course_slug = ?1 AND user_id = ?2",
        _ => "SELECT 1 AS n FROM orders WHERE id = ?1 AND user_id = ?2",
    };
    let found: Option<serde_json::Value> =
        db.query_first(Statement::new(sql).bind(link.id.as_str()).bind(user_id)).await?;
    match found {
        Some(_) => Ok(()),
        None => Err(Error::Unprocessable(format!("link: no {} {} of yours", link.kind, link.id))),
    }
}

/// What `POST /api/support/requests` answers (201).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Opened {
    pub id: String,
    pub priority: &'static str,
    pub status: &'static str,
    /// When a priority request will have its first answer (ms), and the target in words.
    pub first_response_due: Option<Millis>,
    pub first_response_target: Option<&'static str>,
}

/// The statements that open a request: the request, its first message and, for priority, a staff
/// alert, in one batch.
pub fn open(caller: &Caller, request: &Parsed, site_url: &str, now: Millis) -> Result<(Opened, Vec<Statement>)> {
    let id = ids::new_id()?;
    let priority = request.priority == "priority";
    let due = priority.then_some(now + PRIORITY_FIRST_RESPONSE_MS);
    let mut statements = vec![
        Statement::new(
            "INSERT INTO support_requests (id, user_id, subject, category, priority, status, link_kind, link_id,
               created_at, updated_at, first_response_due)
             VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6, ?7, ?8, ?8, ?9)",
        )
        .bind(id.as_str())
        .bind(caller.user_id.as_str())
        .bind(request.subject.as_str())
        .bind(request.category)
        .bind(request.priority)
        .bind(request.link.as_ref().map(|l| l.kind.clone()))
        .bind(request.link.as_ref().map(|l| l.id.clone()))
        .bind(now)
        .bind(due),
        message(&id, "user", &caller.user_id, &request.message, now),
    ];
    if priority {
        let text = format!(
            ":sos: Priority support request from {} ({}), {}: *{}*\n>{}\nAnswer within {PRIORITY_TARGET}: {site_url}/admin/support",
            escape(&caller.email),
            caller.role.as_str(),
            request.category,
            escape(&request.subject),
            escape(&request.message.chars().take(500).collect::<String>()).replace('\n', "\n>"),
        );
        statements.push(alerts::enqueue(alerts::Kind::Support, &text, now)?);
    }
    let opened = Opened {
        id,
        priority: request.priority,
        status: "open",
        first_response_due: due,
        first_response_target: priority.then_some(PRIORITY_TARGET),
    };
    Ok((opened, statements))
}

fn message(request_id: &str, author: &str, author_id: &str, body: &str, now: Millis) -> Statement {
    Statement::new(
        "INSERT INTO support_messages (request_id, author, author_id, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(request_id)
    .bind(author)
    .bind(author_id)
    .bind(body)
    .bind(now)
}

#[derive(Debug, Clone, Deserialize)]
pub struct RequestRow {
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub subject: String,
    pub category: String,
    pub priority: String,
    pub status: String,
    pub link_kind: Option<String>,
    pub link_id: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub first_response_due: Option<Millis>,
    pub first_response_at: Option<Millis>,
}

/// `SELECT` of [`RequestRow`]s, then `$rest` (a WHERE, ORDER BY, LIMIT), as one static string.
macro_rules! select_requests {
    ($rest:literal) => {
        concat!(
            "SELECT r.id, r.user_id, u.email, r.subject, r.category, r.priority, r.status, r.link_kind, r.link_id,
                    r.created_at, r.updated_at, r.first_response_due, r.first_response_at
             FROM support_requests r JOIN users u ON u.id = r.user_id ",
            $rest
        )
    };
}

/// One request, if it exists.
pub async fn request(db: &impl Database, id: &str) -> Result<Option<RequestRow>> {
    db.query_first(Statement::new(select_requests!("WHERE r.id = ?1")).bind(id)).await
}

/// A user's reply to their own request (404 for anyone else's, 409 once closed): the request is open
/// again.
pub async fn user_reply(db: &impl Database, caller: &Caller, id: &str, input: NewMessage, now: Millis) -> Result<()> {
    let body = text("message", &input.message, 1, 5_000)?;
    let found = request(db, id).await?.filter(|r| r.user_id == caller.user_id);
    let found = found.ok_or_else(|| Error::NotFound("No such support request of yours.".into()))?;
    if found.status == "closed" {
        return Err(Error::Conflict("This request is closed; open a new one.".into()));
    }
    db.batch(vec![
        message(&found.id, "user", &caller.user_id, &body, now),
        Statement::new("UPDATE support_requests SET status = 'open', updated_at = ?2 WHERE id = ?1")
            .bind(found.id.as_str())
            .bind(now),
    ])
    .await?;
    Ok(())
}

/// A staff reply: stored, the request answered (or closed), its first response time kept, the user
/// emailed through the outbox and the action audited, in one batch. Answers the email's outbox id.
pub async fn staff_reply(
    db: &impl Database,
    staff: &Caller,
    id: &str,
    input: StaffReply,
    site_url: &str,
    now: Millis,
) -> Result<String> {
    let body = text("message", &input.message, 1, 5_000)?;
    let status = match input.status.as_deref() {
        None | Some("answered") => "answered",
        Some("closed") => "closed",
        Some(_) => return Err(Error::Unprocessable("status must be answered or closed".into())),
    };
    let found = request(db, id).await?.ok_or_else(|| Error::NotFound("No such support request.".into()))?;
    let email = format!(
        "FHIR IQ support answered your request \"{}\":\n\n{}\n\nRead the thread and reply: {site_url}/support#request-{}",
        found.subject, body, found.id
    );
    let (outbox_id, mail) = crate::mail::enqueue(&found.email, &format!("Re: {}", found.subject), &email, now)?;
    db.batch(vec![
        message(&found.id, "staff", &staff.user_id, &body, now),
        Statement::new(
            "UPDATE support_requests SET status = ?2, updated_at = ?3, first_response_at = COALESCE(first_response_at, ?3)
             WHERE id = ?1",
        )
        .bind(found.id.as_str())
        .bind(status)
        .bind(now),
        mail,
        crate::auth::audit::entry(staff, if status == "closed" { "support.close" } else { "support.reply" }, &found.id, now),
    ])
    .await?;
    Ok(outbox_id)
}

/// One message of a thread, as its reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    /// `user` or `staff`.
    pub author: String,
    pub body: String,
    pub created_at: Millis,
}

/// A request and its thread (`GET /api/support/requests`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestView {
    pub id: String,
    pub subject: String,
    pub category: String,
    pub priority: String,
    pub status: String,
    pub link: Option<Link>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub first_response_due: Option<Millis>,
    pub messages: Vec<MessageView>,
}

#[derive(Deserialize)]
struct ThreadRow {
    request_id: String,
    author: String,
    body: String,
    created_at: Millis,
}

/// The most requests a list shows.
pub const LIST_LIMIT: i64 = 100;

/// The threads of the given requests, oldest message first, in one query.
async fn threads(db: &impl Database, rows: &[RequestRow]) -> Result<HashMap<String, Vec<MessageView>>> {
    let ids = json_list(rows.iter().map(|r| r.id.as_str()));
    let messages: Vec<ThreadRow> = db
        .query(
            Statement::new(
                "SELECT request_id, author, body, created_at FROM support_messages
                 WHERE request_id IN (SELECT value FROM json_each(?1)) ORDER BY id",
            )
            .bind(ids),
        )
        .await?;
    let mut threads: HashMap<String, Vec<MessageView>> = HashMap::new();
    for m in messages {
        threads.entry(m.request_id).or_default().push(MessageView {
            author: m.author,
            body: m.body,
            created_at: m.created_at,
        });
    }
    Ok(threads)
}

async fn with_threads(db: &impl Database, rows: Vec<RequestRow>) -> Result<Vec<RequestView>> {
    let mut threads = threads(db, &rows).await?;
    Ok(rows
        .into_iter()
        .map(|row| RequestView {
            messages: threads.remove(&row.id).unwrap_or_default(),
            link: row.link_kind.zip(row.link_id).map(|(kind, id)| Link { kind, id }),
            id: row.id,
            subject: row.subject,
            category: row.category,
            priority: row.priority,
            status: row.status,
            created_at: row.created_at,
            updated_at: row.updated_at,
            first_response_due: row.first_response_due,
        })
        .collect())
}

/// The caller's own requests, newest activity first, with their threads.
pub async fn mine(db: &impl Database, user_id: &str) -> Result<Vec<RequestView>> {
    let sql = select_requests!("WHERE r.user_id = ?1 ORDER BY r.updated_at DESC LIMIT ?2");
    with_threads(db, db.query(Statement::new(sql).bind(user_id).bind(LIST_LIMIT)).await?).await
}

/// The staff inbox: requests waiting on staff first (priority before normal, oldest first), then
/// those waiting on the user, then closed ones.
pub async fn inbox(db: &impl Database) -> Result<Vec<(RequestRow, Vec<MessageView>)>> {
    let sql = select_requests!(
        "ORDER BY CASE r.status WHEN 'open' THEN 0 WHEN 'answered' THEN 1 ELSE 2 END,
                  CASE r.priority WHEN 'priority' THEN 0 ELSE 1 END, r.updated_at
         LIMIT ?1"
    );
    let rows: Vec<RequestRow> = db.query(Statement::new(sql).bind(LIST_LIMIT)).await?;
    let mut threads = threads(db, &rows).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let thread = threads.remove(&row.id).unwrap_or_default();
            (row, thread)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::roles::Role;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    fn caller(id: &str, role: Role) -> Caller {
        Caller {
            user_id: id.into(),
            email: format!("{id}@example.org"),
            role,
            admin: false,
            org_id: None,
            org_owner: false,
            verified: true,
        }
    }

    fn db() -> SqliteDb {
        let db = SqliteDb::with_schema();
        for id in ["pro", "free", "staff"] {
            block_on(
                db.execute(
                    Statement::new(
                        "INSERT INTO users (id, email, password_hash, created_at, password_changed_at, admin)
                     VALUES (?1, ?1 || '@example.org', 'x', 0, 0, ?2)",
                    )
                    .bind(id)
                    .bind(i64::from(id == "staff")),
                ),
            )
            .expect("user");
        }
        db
    }

    fn input(category: &str) -> NewRequest {
        NewRequest {
            subject: "  Push failed \u{7}".into(),
            message: "The GitHub push says 403 <script>alert(1)</script>".into(),
            category: category.into(),
            link: None,
        }
    }

    use crate::testing::count;

    #[test]
    fn priority_follows_the_plan_and_only_enterprise_files_integrations() {
        let pro = Parsed::new(input("builder"), &caller("pro", Role::Pro)).expect("valid");
        assert_eq!((pro.priority, pro.subject.as_str()), ("priority", "Push failed"), "trimmed, control chars gone");
        let mut two_lines = input("builder");
        two_lines.subject = "Push\nBcc: x@y.z".into();
        assert_eq!(Parsed::new(two_lines, &caller("pro", Role::Pro)).expect("valid").subject, "Push Bcc: x@y.z");
        assert_eq!(Parsed::new(input("builder"), &caller("free", Role::Free)).expect("valid").priority, "normal");
        assert_eq!(Parsed::new(input("builder"), &caller("s", Role::Student)).expect("valid").priority, "normal");
        let refused = Parsed::new(input("integration"), &caller("pro", Role::Pro)).expect_err("not enterprise");
        assert_eq!(refused.status_code(), 403);
        assert!(Parsed::new(input("integration"), &caller("e", Role::Enterprise)).is_ok());
        assert_eq!(Parsed::new(input("gossip"), &caller("e", Role::Free)).expect_err("category").status_code(), 422);
        let mut short = input("other");
        short.message = "help".into();
        assert_eq!(Parsed::new(short, &caller("e", Role::Free)).expect_err("too short").status_code(), 422);
        let mut link = input("other");
        link.link = Some(Link { kind: "user".into(), id: "x".into() });
        assert_eq!(Parsed::new(link, &caller("e", Role::Free)).expect_err("kind").status_code(), 422);
    }

    #[test]
    fn a_priority_request_alerts_staff_and_a_staff_reply_emails_the_user_and_is_audited() {
        let db = db();
        let pro = caller("pro", Role::Pro);
        let (opened, statements) =
            open(&pro, &Parsed::new(input("builder"), &pro).expect("valid"), "https://fhiriq.test", 1_000)
                .expect("opens");
        block_on(db.batch(statements)).expect("stored");
        assert_eq!(
            (opened.priority, opened.first_response_due),
            ("priority", Some(1_000 + PRIORITY_FIRST_RESPONSE_MS))
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) AS n FROM staff_alerts WHERE kind = 'support' AND text LIKE '%&lt;script&gt;%'"
            ),
            1
        );
        let free = caller("free", Role::Free);
        let (_, statements) =
            open(&free, &Parsed::new(input("other"), &free).expect("valid"), "", 2_000).expect("opens");
        block_on(db.batch(statements)).expect("stored");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM staff_alerts"), 1, "normal requests do not page staff");

        let inbox = block_on(inbox(&db)).expect("inbox");
        assert_eq!(inbox[0].0.priority, "priority", "priority first");
        let staff = Caller { admin: true, ..caller("staff", Role::Free) };
        let reply = StaffReply { message: "Reinstall the GitHub App.".into(), status: None };
        block_on(staff_reply(&db, &staff, &opened.id, reply, "https://fhiriq.test", 5_000)).expect("replied");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM email_outbox WHERE to_email = 'pro@example.org'"), 1);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM admin_audit WHERE action = 'support.reply'"), 1);
        let mine = block_on(mine(&db, "pro")).expect("mine");
        assert_eq!(mine.len(), 1, "only the caller's own");
        assert_eq!((mine[0].status.as_str(), mine[0].messages.len()), ("answered", 2));
        assert_eq!(mine[0].messages[1].author, "staff");

        let answer = NewMessage { message: "Thanks, that worked".into() };
        let others = block_on(user_reply(&db, &free, &opened.id, answer.clone(), 6_000)).expect_err("not theirs");
        assert_eq!(others.status_code(), 404);
        block_on(user_reply(&db, &pro, &opened.id, answer.clone(), 6_000)).expect("replied");
        assert_eq!(block_on(mine_status(&db)), "open");
        let close = StaffReply { message: "Closing: fixed.".into(), status: Some("closed".into()) };
        block_on(staff_reply(&db, &staff, &opened.id, close, "", 7_000)).expect("closed");
        let late = block_on(user_reply(&db, &pro, &opened.id, answer, 8_000)).expect_err("closed");
        assert_eq!(late.status_code(), 409);
    }

    async fn mine_status(db: &SqliteDb) -> String {
        mine(db, "pro").await.expect("mine")[0].status.clone()
    }
}
