//! Enterprise "contact sales": the request is stored first (never lost), then the team is told in
//! Slack. A failed notification stays pending and the monitor cron retries it.

use crate::alerts::escape;
use crate::auth::email::Email;
use crate::error::{Error, Result};
use crate::http::{HttpClient, OutboundRequest};
use crate::ids;
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::Deserialize;
use serde_json::{Value, json};

/// The contact-sales form as sent; [`Inquiry::parse`] makes it an inquiry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InquiryInput {
    pub name: String,
    pub email: String,
    pub company: String,
    pub seats: Option<u32>,
    pub message: String,
}

/// An inquiry, parsed: its text trimmed and within its lengths, the email valid (normalised), the
/// seats, if given, from 1 to 1,000,000.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inquiry {
    pub name: String,
    pub email: Email,
    pub company: String,
    pub seats: Option<u32>,
    pub message: String,
}

impl Inquiry {
    /// 422 naming the first field that breaks its rule.
    pub fn parse(input: InquiryInput) -> Result<Self> {
        let text = |field: &str, value: &str, max: usize| {
            let value = value.trim();
            let length = value.chars().count();
            if length == 0 || length > max {
                Err(Error::Unprocessable(format!("{field} must be 1 to {max} characters")))
            } else {
                Ok(value.to_owned())
            }
        };
        let name = text("name", &input.name, 200)?;
        let company = text("company", &input.company, 200)?;
        let message = text("message", &input.message, 5_000)?;
        let email = Email::parse(&input.email)?;
        if input.seats.is_some_and(|s| s == 0 || s > 1_000_000) {
            return Err(Error::Unprocessable("seats must be from 1 to 1,000,000".into()));
        }
        Ok(Self { name, email, company, seats: input.seats, message })
    }
}

pub fn insert(inquiry: &Inquiry, user_id: Option<&str>, now: Millis) -> Result<(String, Statement)> {
    let id = ids::new_id()?;
    let statement = Statement::new(
        "INSERT INTO sales_inquiries (id, name, email, company, seats, message, user_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(id.as_str())
    .bind(inquiry.name.as_str())
    .bind(inquiry.email.as_ref())
    .bind(inquiry.company.as_str())
    .bind(inquiry.seats.map(i64::from))
    .bind(inquiry.message.as_str())
    .bind(user_id)
    .bind(now);
    Ok((id, statement))
}

#[derive(Debug, Deserialize)]
struct Pending {
    id: String,
    name: String,
    email: String,
    company: String,
    seats: Option<i64>,
    message: String,
}

fn payload(p: &Pending) -> Value {
    let seats = p.seats.map(|s| format!(", {s} seats")).unwrap_or_default();
    let text = format!(
        ":briefcase: Enterprise inquiry from {} ({}) at {}{}:\n>{}",
        escape(&p.name),
        escape(&p.email),
        escape(&p.company),
        seats,
        escape(&p.message).replace('\n', "\n>")
    );
    json!({"text": text})
}

/// Posts every inquiry not yet notified to the Slack webhook; answers how many went out.
pub async fn notify_pending(db: &impl Database, http: &impl HttpClient, webhook: &str, now: Millis) -> Result<usize> {
    let pending: Vec<Pending> = db
        .query(Statement::new(
            "SELECT id, name, email, company, seats, message FROM sales_inquiries
             WHERE notified_at IS NULL ORDER BY created_at LIMIT 20",
        ))
        .await?;
    let mut sent = 0;
    for inquiry in &pending {
        let response = http.send(OutboundRequest::post_json(webhook, &payload(inquiry))).await?;
        response.success("notifying Slack of an inquiry")?;
        db.execute(
            Statement::new("UPDATE sales_inquiries SET notified_at = ?2 WHERE id = ?1")
                .bind(inquiry.id.as_str())
                .bind(now),
        )
        .await?;
        sent += 1;
    }
    Ok(sent)
}

/// One inquiry as staff see it (`/admin/inquiries`).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct InquiryLine {
    pub id: String,
    pub name: String,
    pub email: String,
    pub company: String,
    pub seats: Option<i64>,
    pub message: String,
    pub created_at: Millis,
    /// When Slack took it; NULL while the notification waits for a retry.
    pub notified_at: Option<Millis>,
}

/// The newest inquiries first (at most 200).
pub async fn list(db: &impl Database) -> Result<Vec<InquiryLine>> {
    db.query(Statement::new(
        "SELECT id, name, email, company, seats, message, created_at, notified_at FROM sales_inquiries
         ORDER BY created_at DESC LIMIT 200",
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::RecordingHttp;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    fn inquiry() -> InquiryInput {
        InquiryInput {
            name: "Ada <!channel>".into(),
            email: "Ada@Example.org".into(),
            company: "St. Elsewhere".into(),
            seats: Some(40),
            message: "We need SMART backend services\nfor 40 developers.".into(),
        }
    }

    #[test]
    fn an_inquiry_is_stored_then_sent_to_slack_once_escaped() {
        let db = SqliteDb::with_schema();
        let (_, insert) = insert(&Inquiry::parse(inquiry()).expect("valid"), None, 1_000).expect("stored");
        block_on(db.execute(insert)).expect("stored");
        let failing = RecordingHttp::answering(500, "no_service");
        assert!(block_on(notify_pending(&db, &failing, "http://127.0.0.1:9/hook", 2_000)).is_err());
        let slack = RecordingHttp::answering(200, "ok");
        assert_eq!(block_on(notify_pending(&db, &slack, "http://127.0.0.1:9/hook", 3_000)).expect("sent"), 1);
        assert_eq!(block_on(notify_pending(&db, &slack, "http://127.0.0.1:9/hook", 4_000)).expect("none left"), 0);
        let body = slack.sent.borrow()[0].body.clone().unwrap_or_default();
        assert!(body.contains("&lt;!channel&gt;") && !body.contains("<!channel>"), "{body}");
        assert!(body.contains("ada@example.org"));
    }

    #[test]
    fn bad_inquiries_are_422() {
        let mut blank = inquiry();
        blank.company = " ".into();
        assert_eq!(Inquiry::parse(blank).expect_err("blank").status_code(), 422);
        let mut seats = inquiry();
        seats.seats = Some(0);
        assert_eq!(Inquiry::parse(seats).expect_err("no seats").status_code(), 422);
        let mut email = inquiry();
        email.email = "not an address".into();
        assert_eq!(Inquiry::parse(email).expect_err("email").status_code(), 422);
        let parsed = Inquiry::parse(inquiry()).expect("valid");
        assert_eq!((parsed.email.as_ref(), parsed.name.as_str()), ("ada@example.org", "Ada <!channel>"));
    }
}
