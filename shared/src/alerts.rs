//! Alerts for staff: a dispute opened on a payment, a priority support request. Each is a row of
//! `staff_alerts`, written in the same batch as what caused it, so it is never lost and never sent
//! for something that did not happen. [`notify_pending`] posts the pending ones to Slack
//! (`STAFF_SLACK_WEBHOOK_URL`, else `SLACK_WEBHOOK_URL`): the worker that wrote one calls it after
//! answering, and the 5-minute cron retries what is still pending. Without a webhook they wait in
//! the table (and in the staff pages that show their sources).

use crate::error::Result;
use crate::http::{HttpClient, OutboundRequest};
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::Deserialize;
use serde_json::json;

/// What an alert is about (`staff_alerts.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dispute,
    Support,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Dispute => "dispute",
            Kind::Support => "support",
        }
    }
}

/// Slack reads `&`, `<` and `>` as markup: escaped, so user text cannot ping @channel or forge links.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The statement that queues an alert. `text` is Slack mrkdwn: escape any user text in it first.
pub fn enqueue(kind: Kind, text: &str, now: Millis) -> Result<Statement> {
    Ok(Statement::new("INSERT INTO staff_alerts (id, kind, text, created_at) VALUES (?1, ?2, ?3, ?4)")
        .bind(crate::ids::new_id()?)
        .bind(kind.as_str())
        .bind(text)
        .bind(now))
}

#[derive(Debug, Deserialize)]
struct Pending {
    id: String,
    text: String,
}

/// Posts every alert not yet sent, oldest first, marking each once Slack accepts it; answers how
/// many went out. The first refusal stops the run (the rest wait for the next one).
pub async fn notify_pending(db: &impl Database, http: &impl HttpClient, webhook: &str, now: Millis) -> Result<usize> {
    let pending: Vec<Pending> = db
        .query(Statement::new(
            "SELECT id, text FROM staff_alerts WHERE notified_at IS NULL ORDER BY created_at LIMIT 20",
        ))
        .await?;
    let mut sent = 0;
    for alert in &pending {
        let response = http.send(OutboundRequest::post_json(webhook, &json!({"text": alert.text}))).await?;
        response.success("posting a staff alert to Slack")?;
        db.execute(
            Statement::new("UPDATE staff_alerts SET notified_at = ?2 WHERE id = ?1 AND notified_at IS NULL")
                .bind(alert.id.as_str())
                .bind(now),
        )
        .await?;
        sent += 1;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::RecordingHttp;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    #[test]
    fn an_alert_waits_until_slack_takes_it_then_goes_once() {
        let db = SqliteDb::with_schema();
        let text = format!("Dispute from {}", escape("<!channel> & co"));
        block_on(db.execute(enqueue(Kind::Dispute, &text, 1_000).expect("id"))).expect("stored");
        let refusing = RecordingHttp::answering(404, "no_service");
        assert!(block_on(notify_pending(&db, &refusing, "http://127.0.0.1:9/hook", 2_000)).is_err());
        let slack = RecordingHttp::answering(200, "ok");
        assert_eq!(block_on(notify_pending(&db, &slack, "http://127.0.0.1:9/hook", 3_000)).expect("sent"), 1);
        assert_eq!(block_on(notify_pending(&db, &slack, "http://127.0.0.1:9/hook", 4_000)).expect("none"), 0);
        let body = slack.sent.borrow()[0].body.clone().unwrap_or_default();
        assert!(body.contains("&lt;!channel&gt; &amp; co") && !body.contains("<!channel>"), "{body}");
    }
}
