//! Email: an outbox table in D1 and an HTTP email provider client. A message is written to the outbox
//! in the same batch as what it announces, then delivered; pending messages are retried by the cron.
//! Once a message is sent (or given up) its body is replaced by [`REMOVED_BODY`]: reset and invitation
//! links must not sit in plaintext in D1 (or its backups) for the rows' 30 days.
//!
//! The provider speaks Resend's API (`POST {base}/emails`, `Authorization: Bearer <key>`, JSON
//! `{from, to: [..], subject, text}`, answering `{id}`), configured with EMAIL_API_BASE,
//! EMAIL_API_KEY and EMAIL_FROM. With no key (development) messages are written to the log instead.

use crate::config::{EnvSource, Environment, Secret, environment, optional_secret, required_secret};
use crate::error::{Error, Result};
use crate::http::{HttpClient, OutboundRequest};
use crate::ids;
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OutgoingEmail {
    pub id: String,
    pub to_email: String,
    pub subject: String,
    pub body_text: String,
}

/// The outbox insert for a new message.
pub fn enqueue(to: &str, subject: &str, body: &str, now: Millis) -> Result<(String, Statement)> {
    let id = ids::new_id()?;
    let insert = Statement::new(
        "INSERT INTO email_outbox (id, to_email, subject, body_text, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(id.as_str())
    .bind(to)
    .bind(subject)
    .bind(body)
    .bind(now);
    Ok((id, insert))
}

pub trait Mailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<()>;
}

#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub api_base: String,
    pub api_key: Option<Secret>,
    pub from: String,
}

impl EmailConfig {
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        let api_base = env.var("EMAIL_API_BASE").unwrap_or_else(|| "https://api.resend.com".into());
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(Error::Config(format!("EMAIL_API_BASE must be an http(s) URL, not {api_base:?}")));
        }
        // In production a missing key is an error: logging reset links there would leak them.
        let api_key = match environment(env)? {
            Environment::Production => Some(required_secret(env, "EMAIL_API_KEY")?),
            Environment::Development => optional_secret(env, "EMAIL_API_KEY"),
        };
        Ok(Self {
            api_base: api_base.trim_end_matches('/').to_owned(),
            api_key,
            from: env.var("EMAIL_FROM").unwrap_or_else(|| "FHIR IQ <no-reply@fhiriq.dev>".into()),
        })
    }
}

/// Resend's `POST /emails`.
pub struct ResendMailer<'a, H> {
    pub base_url: &'a str,
    pub api_key: &'a Secret,
    pub from: &'a str,
    pub http: &'a H,
}

impl<H: HttpClient> Mailer for ResendMailer<'_, H> {
    async fn send(&self, email: &OutgoingEmail) -> Result<()> {
        let mut request = OutboundRequest::post_json(
            format!("{}/emails", self.base_url),
            &json!({"from": self.from, "to": [email.to_email], "subject": email.subject, "text": email.body_text}),
        );
        request.headers.push(("authorization".into(), format!("Bearer {}", self.api_key.expose())));
        // Resend deduplicates retries of the same message for 24 hours with this header.
        request.headers.push(("idempotency-key".into(), format!("outbox-{}", email.id)));
        let response = self.http.send(request).await?;
        response.success("sending email").map(|_| ())
    }
}

#[derive(Debug, Default, serde::Serialize, PartialEq, Eq)]
pub struct DeliverySummary {
    pub sent: u32,
    pub failed: u32,
}

const MAX_ATTEMPTS: i64 = 5;

/// What a message's body becomes once it no longer needs sending (delivered, or given up): bodies
/// carry single-use links (password resets, invitations) whose tokens are stored elsewhere only as
/// hashes, so the outbox keeps just what staff need: recipient, subject, status and dates.
pub const REMOVED_BODY: &str = "[removed once no longer needed for delivery: it may have held a single-use link]";

/// Delivers pending messages (all, or only `only_id`), recording each outcome.
pub async fn deliver_pending(
    db: &impl Database,
    mailer: &impl Mailer,
    now: Millis,
    only_id: Option<&str>,
) -> Result<DeliverySummary> {
    let pending: Vec<OutgoingEmail> = db
        .query(
            Statement::new(
                "SELECT id, to_email, subject, body_text FROM email_outbox
                 WHERE status = 'pending' AND (?1 IS NULL OR id = ?1) ORDER BY created_at LIMIT 50",
            )
            .bind(only_id),
        )
        .await?;
    let mut summary = DeliverySummary::default();
    for email in pending {
        match mailer.send(&email).await {
            Ok(()) => {
                db.execute(
                    Statement::new(
                        "UPDATE email_outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?2, body_text = ?3
                         WHERE id = ?1",
                    )
                    .bind(email.id.as_str())
                    .bind(now)
                    .bind(REMOVED_BODY),
                )
                .await?;
                summary.sent += 1;
            }
            Err(e) => {
                db.execute(
                    Statement::new(
                        "UPDATE email_outbox SET attempts = attempts + 1, last_error = ?2,
                           status = CASE WHEN attempts + 1 >= ?3 THEN 'failed' ELSE 'pending' END,
                           body_text = CASE WHEN attempts + 1 >= ?3 THEN ?4 ELSE body_text END
                         WHERE id = ?1",
                    )
                    .bind(email.id.as_str())
                    .bind(e.to_string())
                    .bind(MAX_ATTEMPTS)
                    .bind(REMOVED_BODY),
                )
                .await?;
                summary.failed += 1;
            }
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::RecordingHttp;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    #[test]
    fn a_message_is_sent_in_resends_format_and_marked_sent() {
        let db = SqliteDb::with_schema();
        let (id, insert) = enqueue("ada@example.org", "Reset", "Follow the link", 5).expect("enqueued");
        block_on(db.execute(insert)).expect("stored");
        let http = RecordingHttp::answering(200, r#"{"id":"49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}"#);
        let key = Secret::new("re_test_123");
        let mailer =
            ResendMailer { base_url: "http://127.0.0.1:9", api_key: &key, from: "FHIR IQ <a@b.dev>", http: &http };
        let summary = block_on(deliver_pending(&db, &mailer, 10, None)).expect("delivers");
        assert_eq!(summary, DeliverySummary { sent: 1, failed: 0 });
        let sent = http.sent.borrow();
        assert_eq!(sent[0].url, "http://127.0.0.1:9/emails");
        assert!(sent[0].headers.contains(&("authorization".into(), "Bearer re_test_123".into())));
        assert!(sent[0].headers.contains(&("idempotency-key".into(), format!("outbox-{id}"))));
        let body: serde_json::Value = serde_json::from_str(sent[0].body.as_deref().unwrap_or_default()).expect("json");
        assert_eq!(body["to"], json!(["ada@example.org"]));
        assert_eq!(body["subject"], "Reset");
        // Sent once: a second run finds nothing pending.
        assert_eq!(block_on(deliver_pending(&db, &mailer, 20, None)).expect("runs").sent, 0);
    }

    #[derive(Deserialize)]
    struct Row {
        to_email: String,
        subject: String,
        body_text: String,
        status: String,
    }

    fn rows(db: &SqliteDb) -> Vec<Row> {
        block_on(db.query(Statement::new("SELECT to_email, subject, body_text, status FROM email_outbox"))).expect("q")
    }

    const LINK: &str = "https://fhiriq.dev/reset?token=6f1c0ffee";

    #[test]
    fn a_sent_message_keeps_its_recipient_and_subject_but_not_its_link() {
        let db = SqliteDb::with_schema();
        let (_, insert) = enqueue("ada@example.org", "Reset", &format!("Open {LINK}"), 5).expect("enqueued");
        block_on(db.execute(insert)).expect("stored");
        assert!(rows(&db)[0].body_text.contains(LINK), "pending: the body is needed to send it");
        let http = RecordingHttp::answering(200, r#"{"id":"x"}"#);
        let key = Secret::new("re_test");
        let mailer = ResendMailer { base_url: "http://127.0.0.1:9", api_key: &key, from: "a@b.dev", http: &http };
        block_on(deliver_pending(&db, &mailer, 10, None)).expect("delivers");
        assert!(http.sent.borrow()[0].body.as_deref().unwrap_or_default().contains(LINK), "the email had the link");
        let row = &rows(&db)[0];
        assert_eq!(
            (row.to_email.as_str(), row.subject.as_str(), row.status.as_str()),
            ("ada@example.org", "Reset", "sent")
        );
        assert_eq!(row.body_text, REMOVED_BODY);
        assert!(!row.body_text.contains("token="));
    }

    #[test]
    fn a_message_given_up_loses_its_link_and_one_still_retried_keeps_it() {
        let db = SqliteDb::with_schema();
        let (_, insert) = enqueue("ada@example.org", "Reset", &format!("Open {LINK}"), 5).expect("enqueued");
        block_on(db.execute(insert)).expect("stored");
        let http = RecordingHttp::answering(500, "oops");
        let key = Secret::new("re_test");
        let mailer = ResendMailer { base_url: "http://127.0.0.1:9", api_key: &key, from: "a@b.dev", http: &http };
        for attempt in 1..=MAX_ATTEMPTS {
            block_on(deliver_pending(&db, &mailer, 10, None)).expect("runs");
            let row = &rows(&db)[0];
            if attempt < MAX_ATTEMPTS {
                assert_eq!((row.status.as_str(), row.body_text.contains(LINK)), ("pending", true), "attempt {attempt}");
            } else {
                assert_eq!((row.status.as_str(), row.body_text.as_str()), ("failed", REMOVED_BODY));
            }
        }
    }

    #[test]
    fn production_requires_an_email_provider_key() {
        let env = std::collections::HashMap::from([("ENVIRONMENT", "production")]);
        let error = EmailConfig::from_env(&env).expect_err("required in production");
        assert!(error.to_string().contains("EMAIL_API_KEY"));
        let dev = std::collections::HashMap::from([("ENVIRONMENT", "development")]);
        assert!(EmailConfig::from_env(&dev).expect("optional in development").api_key.is_none());
    }

    #[test]
    fn a_failed_delivery_stays_pending_and_is_given_up_after_five_attempts() {
        let db = SqliteDb::with_schema();
        let (_, insert) = enqueue("ada@example.org", "Reset", "x", 5).expect("enqueued");
        block_on(db.execute(insert)).expect("stored");
        let http = RecordingHttp::answering(500, "oops");
        let key = Secret::new("re_test");
        let mailer = ResendMailer { base_url: "http://127.0.0.1:9", api_key: &key, from: "a@b.dev", http: &http };
        for _ in 0..7 {
            block_on(deliver_pending(&db, &mailer, 10, None)).expect("runs");
        }
        assert_eq!(http.sent.borrow().len(), 5, "no more attempts after the fifth");
    }
}
