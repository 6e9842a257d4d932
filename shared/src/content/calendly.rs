//! Calendly bookings of a course's live sessions. `Calendly-Webhook-Signature: t=<unix>,v1=<hex>` is
//! HMAC-SHA256 of `"{t}.{raw body}"` with the webhook signing key, compared in constant time; a
//! timestamp older than [`TOLERANCE_SECONDS`] is refused (a replayed delivery). `invitee.created` and
//! `invitee.canceled` become rows in `bookings`, linked to the account with the invitee's email and to
//! the course the embed tagged (`utm_campaign`). A repeated delivery changes nothing; a cancellation
//! is final even if it arrives before its creation.

use super::doc::check_slug;
use crate::config::Secret;
use crate::error::{Error, Result};
use crate::events::{self, EventType};
use crate::signing::Timestamped;
use crate::storage::{Database, Statement};
use crate::time::Millis;
use serde::Serialize;
use serde_json::{Value, json};

/// Calendly does not publish its window; three minutes tolerates clock skew and stops replays.
pub const TOLERANCE_SECONDS: i64 = 180;

pub fn verify(header: Option<&str>, body: &[u8], key: &Secret, now_seconds: i64) -> Result<()> {
    Timestamped {
        header_name: "Calendly-Webhook-Signature",
        secret_name: "CALENDLY_WEBHOOK_SIGNING_KEY",
        tolerance_seconds: TOLERANCE_SECONDS,
    }
    .verify(header, body, key.expose(), now_seconds)
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// `recorded` or `ignored` (an event we do not use).
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub course: Option<String>,
    pub linked_to_user: bool,
}

/// Records a verified delivery.
pub async fn apply(db: &impl Database, body: &[u8], now: Millis) -> Result<Outcome> {
    let event: Value = serde_json::from_slice(body).map_err(|e| Error::BadRequest(format!("not JSON: {e}")))?;
    let status = match event["event"].as_str() {
        Some("invitee.created") => "active",
        Some("invitee.canceled") => "canceled",
        _ => return Ok(Outcome { result: "ignored", status: None, course: None, linked_to_user: false }),
    };
    let payload = &event["payload"];
    let text = |pointer: &str| payload.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
    let uri = text("/uri").ok_or_else(|| Error::Unprocessable("payload.uri (the invitee) is missing".into()))?;
    let email = text("/email")
        .map(|e| e.trim().to_lowercase())
        .filter(|e| e.contains('@'))
        .ok_or_else(|| Error::Unprocessable("payload.email is missing".into()))?;
    // The embed tags bookings with utm_campaign = the course slug; anything else is not ours.
    let course = text("/tracking/utm_campaign").filter(|c| check_slug("utm_campaign", c).is_ok());
    let event_uri = text("/event").or_else(|| text("/scheduled_event/uri"));
    let start = text("/scheduled_event/start_time");
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    let user: Option<Id> =
        db.query_first(Statement::new("SELECT id FROM users WHERE email = ?1").bind(email.as_str())).await?;
    let course_exists = match &course {
        Some(slug) => db
            .query_first::<Value>(
                Statement::new("SELECT slug FROM content_courses WHERE slug = ?1").bind(slug.as_str()),
            )
            .await?
            .is_some(),
        None => false,
    };
    let course = course.filter(|_| course_exists);
    let user_id = user.map(|u| u.id);
    let kind = EventType::parse(if status == "active" { "booking.created" } else { "booking.canceled" })?;
    db.batch(vec![
        Statement::new(
            "INSERT INTO bookings (invitee_uri, event_uri, user_id, course_slug, email, name, status, start_time,
                 cancel_url, reschedule_url, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
             ON CONFLICT (invitee_uri) DO UPDATE SET
                 status = CASE WHEN bookings.status = 'canceled' THEN 'canceled' ELSE excluded.status END,
                 event_uri = coalesce(excluded.event_uri, bookings.event_uri),
                 start_time = coalesce(excluded.start_time, bookings.start_time),
                 updated_at = excluded.updated_at",
        )
        .bind(uri.as_str())
        .bind(event_uri)
        .bind(user_id.clone())
        .bind(course.clone())
        .bind(email.as_str())
        .bind(text("/name"))
        .bind(status)
        .bind(start)
        .bind(text("/cancel_url"))
        .bind(text("/reschedule_url"))
        .bind(now),
        events::statement(user_id.as_deref(), &kind, &json!({"course": course}), now)?,
    ])
    .await?;
    Ok(Outcome { result: "recorded", status: Some(status), course, linked_to_user: user_id.is_some() })
}

#[derive(Debug, serde::Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct Booking {
    pub status: String,
    pub start_time: Option<String>,
    pub cancel_url: Option<String>,
    pub reschedule_url: Option<String>,
}

/// The caller's bookings for a course, newest first.
pub async fn bookings(db: &impl Database, user_id: &str, course: &str) -> Result<Vec<Booking>> {
    db.query(
        Statement::new(
            "SELECT status, start_time, cancel_url, reschedule_url FROM bookings
             WHERE user_id = ?1 AND course_slug = ?2 ORDER BY created_at DESC LIMIT 20",
        )
        .bind(user_id)
        .bind(course),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::enroll::tests::db_with_course;
    use crate::signing::tests::{Delivery, holds_for};
    use futures::executor::block_on;
    use hmac::{Hmac, KeyInit, Mac};
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::Index;

    fn sign(key: &str, t: i64, body: &str) -> String {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("key");
        mac.update(format!("{t}.{body}").as_bytes());
        format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn valid_tampered_and_stale_signatures() {
        let key = Secret::new("calendly-key");
        let body = r#"{"event":"invitee.created"}"#;
        assert!(verify(Some(&sign("calendly-key", 1_000, body)), body.as_bytes(), &key, 1_010).is_ok());
        let tampered = verify(Some(&sign("calendly-key", 1_000, body)), b"{\"event\":\"x\"}", &key, 1_010);
        assert!(tampered.expect_err("an error").to_string().contains("no signature matches"));
        let stale = verify(Some(&sign("calendly-key", 1_000, body)), body.as_bytes(), &key, 1_000 + 181);
        assert!(stale.expect_err("an error").to_string().contains("tolerance"));
        let wrong_key = verify(Some(&sign("other", 1_000, body)), body.as_bytes(), &key, 1_000);
        assert_eq!(wrong_key.expect_err("an error").status_code(), 400);
        assert!(verify(None, body.as_bytes(), &key, 1_000).is_err());
    }

    fn delivery(event: &str) -> String {
        json!({"event": event, "payload": {
            "uri": "https://api.calendly.com/scheduled_events/E1/invitees/I1", "email": "U1@example.org",
            "name": "Una", "event": "https://api.calendly.com/scheduled_events/E1",
            "tracking": {"utm_campaign": "basics", "utm_source": "fhiriq"},
            "scheduled_event": {"start_time": "2027-01-19T16:00:00.000000Z"}}})
        .to_string()
    }

    #[test]
    fn bookings_link_to_the_account_and_course_and_a_cancellation_is_final() {
        let db = db_with_course();
        let created = block_on(apply(&db, delivery("invitee.created").as_bytes(), 1)).expect("created");
        assert_eq!(
            created,
            Outcome { result: "recorded", status: Some("active"), course: Some("basics".into()), linked_to_user: true }
        );
        block_on(apply(&db, delivery("invitee.canceled").as_bytes(), 2)).expect("canceled");
        block_on(apply(&db, delivery("invitee.created").as_bytes(), 3)).expect("a late duplicate");
        let rows = block_on(bookings(&db, "u1", "basics")).expect("bookings");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, "canceled");
        assert_eq!(rows[0].start_time.as_deref(), Some("2027-01-19T16:00:00.000000Z"));
        let other =
            block_on(apply(&db, br#"{"event":"routing_form_submission.created","payload":{}}"#, 4)).expect("ok");
        assert_eq!(other.result, "ignored");
    }

    proptest! {
        #![proptest_config(crate::testing::properties(2_000))]

        #[test]
        fn a_signed_delivery_verifies_for_three_minutes_and_any_changed_byte_is_refused(
            key in "[A-Za-z0-9_-]{1,64}",
            t in 1_000_000_000..4_000_000_000_i64,
            age in 0..=360_i64,
            body in vec(any::<u8>(), 1..500),
            at in any::<Index>(),
            flip in 1..=255_u8,
            digit in 0..64_usize,
        ) {
            let delivery = Delivery { secret: key, t, age, body, at, flip, digit };
            holds_for(&delivery, TOLERANCE_SECONDS, verify)?;
        }
    }
}
