//! Enrolment (`enroll_courses`). A seat is a row in `enrollments`; it is taken by ONE conditional
//! statement that counts the other seats inside the same write, so two requests for the last seat
//! can never both succeed: D1 (SQLite) runs each statement atomically.
//!
//! Free courses enrol at once. A paid course holds a seat (`reserved`) for [`HOLD_MS`] while its
//! one-time Stripe checkout is open (the checkout itself expires sooner); the payment turns the hold
//! into a seat in the same batch that completes the order. A payment that arrives after its hold
//! lapsed takes a seat only if one is free, else it is `waitlisted` for staff to refund or place.

use super::views;
use crate::auth::{Caller, Permission};
use crate::billing::checkout::{self, CheckoutInput};
use crate::billing::webhook::Ctx;
use crate::error::{Error, Result};
use crate::events::{self, EventType};
use crate::http::HttpClient;
use crate::storage::{Database, Statement};
use crate::time::{MINUTE, Millis};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How long an open paid checkout holds its seat.
pub const HOLD_MS: Millis = 45 * MINUTE;

// A checkout closes before its seat hold lapses, so a payment never arrives for a released seat
// (checked when compiling).
const _: () = assert!(checkout::PURCHASE_OPEN_SECONDS * 1000 < HOLD_MS);

/// Reservations created after this still hold a seat.
pub fn seats_taken_since(now: Millis) -> Millis {
    now - HOLD_MS
}

/// Takes a seat as `status` (`active` or `reserved`) if one is free; changes one row or none.
fn take_seat(user_id: &str, course: &str, status: &str, now: Millis) -> Statement {
    Statement::new(
        "INSERT INTO enrollments (user_id, course_slug, status, order_id, created_at, updated_at)
         SELECT ?1, c.slug, ?3, NULL, ?4, ?4 FROM content_courses c
         WHERE c.slug = ?2 AND c.published = 1
           AND c.capacity > (SELECT COUNT(*) FROM enrollments e WHERE e.course_slug = c.slug AND e.user_id <> ?1
                             AND (e.status = 'active' OR (e.status = 'reserved' AND e.created_at > ?5)))
         ON CONFLICT (user_id, course_slug) DO UPDATE SET status = excluded.status,
             created_at = excluded.created_at, updated_at = excluded.updated_at
         WHERE enrollments.status <> 'active'",
    )
    .bind(user_id)
    .bind(course)
    .bind(status)
    .bind(now)
    .bind(seats_taken_since(now))
}

/// The paid seat, in the batch that completes order `order_id` (and only while it is pending): the
/// hold becomes a seat; without a live hold, a free seat; else the waitlist.
pub fn after_purchase(user_id: &str, product: &str, order_id: &str, now: Millis) -> Statement {
    Statement::new(
        "INSERT INTO enrollments (user_id, course_slug, status, order_id, created_at, updated_at)
         SELECT ?1, c.slug,
                CASE WHEN c.capacity > (SELECT COUNT(*) FROM enrollments e WHERE e.course_slug = c.slug AND e.user_id <> ?1
                                        AND (e.status = 'active' OR (e.status = 'reserved' AND e.created_at > ?5)))
                     THEN 'active' ELSE 'waitlisted' END,
                ?3, ?4, ?4
         FROM content_courses c
         WHERE c.product = ?2 AND EXISTS (SELECT 1 FROM orders WHERE id = ?3 AND status = 'pending')
         ON CONFLICT (user_id, course_slug) DO UPDATE SET
             status = CASE WHEN enrollments.status = 'active' THEN 'active'
                           WHEN enrollments.status = 'reserved' AND enrollments.created_at > ?5 THEN 'active'
                           ELSE excluded.status END,
             order_id = excluded.order_id, updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(product)
    .bind(order_id)
    .bind(now)
    .bind(seats_taken_since(now))
}

#[derive(Debug, Deserialize)]
struct StatusRow {
    status: String,
    created_at: i64,
}

/// The caller's enrolment in `course`: `active`, `reserved` (a live hold), `waitlisted`, or none.
pub async fn status(db: &impl Database, user_id: &str, course: &str, now: Millis) -> Result<Option<String>> {
    let row: Option<StatusRow> = db
        .query_first(
            Statement::new("SELECT status, created_at FROM enrollments WHERE user_id = ?1 AND course_slug = ?2")
                .bind(user_id)
                .bind(course),
        )
        .await?;
    Ok(row.and_then(|r| match r.status.as_str() {
        "reserved" if r.created_at <= seats_taken_since(now) => None,
        _ => Some(r.status),
    }))
}

/// Whether the user owns the course's product already (a completed order).
async fn owns(db: &impl Database, user_id: &str, product: &str) -> Result<bool> {
    #[derive(Deserialize)]
    struct One {
        n: i64,
    }
    let row: Option<One> = db
        .query_first(
            Statement::new(
                "SELECT COUNT(*) AS n FROM orders WHERE user_id = ?1 AND product = ?2 AND status = 'completed'",
            )
            .bind(user_id)
            .bind(product),
        )
        .await?;
    Ok(row.is_some_and(|r| r.n > 0))
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Enrolment {
    /// `active`, or `checkout` (pay at `checkout_url` to take the held seat).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkout_url: Option<String>,
    /// Already enrolled before this request.
    pub already: bool,
    pub seats_left: i64,
}

fn full(title: &str) -> Error {
    Error::Conflict(format!("{title} is full: every seat is taken."))
}

/// Enrols the caller in `slug`: at once for a free course (or a paid one they own), through a
/// checkout for a paid one.
/// `checkout` is the payments context, `None` where Stripe is not configured (free courses still work).
pub async fn enroll<D: Database, H: HttpClient>(
    db: &D,
    checkout: Option<&Ctx<'_, D, H>>,
    caller: &Caller,
    slug: &str,
    now: Millis,
) -> Result<Enrolment> {
    let course = views::course(db, slug, now).await?;
    let current = status(db, &caller.user_id, slug, now).await?;
    if current.as_deref() == Some("active") {
        return Ok(Enrolment { status: "active", checkout_url: None, already: true, seats_left: course.seats_left });
    }
    let paid_and_not_owned = match &course.product {
        Some(product) => !owns(db, &caller.user_id, product).await?,
        None => false,
    };
    if course.product.is_none() && !caller.role.has(Permission::EnrollCourses) {
        return Err(Error::Forbidden("Course enrolment is part of the Student plan and up: see /pricing.".into()));
    }
    if paid_and_not_owned && checkout.is_none() {
        return Err(Error::Unavailable("Payments are not configured here, so paid courses cannot be bought.".into()));
    }
    let status = if paid_and_not_owned { "reserved" } else { "active" };
    if db.execute(take_seat(&caller.user_id, slug, status, now)).await? == 0 {
        return Err(full(&course.title));
    }
    let seats_left = views::course(db, slug, now).await?.seats_left;
    let kind = EventType::parse(if paid_and_not_owned { "course.checkout_started" } else { "course.enrolled" })?;
    db.batch(vec![
        super::store::bump_generation(),
        events::statement(Some(&caller.user_id), &kind, &json!({"course": slug}), now)?,
    ])
    .await?;
    if let (true, Some(product), Some(ctx)) = (paid_and_not_owned, &course.product, checkout) {
        let input = CheckoutInput { plan: None, interval: None, product: Some(product.clone()) };
        let redirect = checkout::checkout(ctx, caller, &input).await?;
        return Ok(Enrolment { status: "checkout", checkout_url: Some(redirect.url), already: false, seats_left });
    }
    Ok(Enrolment { status: "active", checkout_url: None, already: false, seats_left })
}

/// Enrolled students only (quizzes, progress); a course that does not exist is a 404 first.
pub async fn require_active(db: &impl Database, caller: &Caller, course: &str, now: Millis) -> Result<()> {
    views::course(db, course, now).await?;
    match status(db, &caller.user_id, course, now).await?.as_deref() {
        Some("active") => Ok(()),
        _ => Err(Error::Forbidden("Enrol in this course first.".into())),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::content::bundle::{Bundle, tests::sample};
    use crate::content::store::sync_statements;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    pub(crate) fn db_with_course() -> SqliteDb {
        let db = SqliteDb::with_schema();
        let bundle = Bundle::from_files(&sample()).expect("valid");
        block_on(db.batch(sync_statements(&bundle, 1))).expect("sync");
        for user in ["u1", "u2", "u3"] {
            block_on(db.execute(
                Statement::new(
                    "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES (?1, ?2, 'x', 0, 0)",
                )
                .bind(user)
                .bind(format!("{user}@example.org")),
            ))
            .expect("user");
        }
        db
    }

    #[test]
    fn the_last_seat_goes_to_one_user_only() {
        let db = db_with_course(); // capacity 2
        assert_eq!(block_on(db.execute(take_seat("u1", "basics", "active", 10))).expect("u1"), 1);
        assert_eq!(block_on(db.execute(take_seat("u2", "basics", "reserved", 10))).expect("u2"), 1);
        assert_eq!(block_on(db.execute(take_seat("u3", "basics", "active", 10))).expect("u3"), 0, "full");
        assert_eq!(block_on(db.execute(take_seat("u1", "basics", "active", 11))).expect("again"), 0, "no second seat");
        // The hold lapses: its seat is free again.
        let later = 10 + HOLD_MS + 1;
        assert_eq!(block_on(db.execute(take_seat("u3", "basics", "active", later))).expect("u3"), 1);
        assert_eq!(block_on(status(&db, "u2", "basics", later)).expect("status"), None, "the hold lapsed");
    }

    fn order(db: &SqliteDb, id: &str, user: &str) {
        block_on(db.execute(crate::billing::store::create_order(id, user, "course-x", 0))).expect("order");
    }

    #[test]
    fn a_payment_turns_its_hold_into_a_seat_or_waitlists_when_the_course_filled_meanwhile() {
        let db = db_with_course();
        block_on(db.execute(Statement::new("UPDATE content_courses SET product = 'course-x'"))).expect("paid");
        assert_eq!(block_on(db.execute(take_seat("u1", "basics", "reserved", 10))).expect("hold"), 1);
        order(&db, "o1", "u1");
        block_on(db.execute(after_purchase("u1", "course-x", "o1", 20))).expect("paid in time");
        assert_eq!(block_on(status(&db, "u1", "basics", 20)).expect("status").as_deref(), Some("active"));
        // u2's hold lapses while two others fill the course; the late payment is waitlisted.
        assert_eq!(block_on(db.execute(take_seat("u2", "basics", "reserved", 10))).expect("hold"), 1);
        let later = 10 + HOLD_MS + 1;
        assert_eq!(block_on(db.execute(take_seat("u3", "basics", "active", later))).expect("u3"), 1);
        order(&db, "o2", "u2");
        block_on(db.execute(after_purchase("u2", "course-x", "o2", later))).expect("late");
        assert_eq!(block_on(status(&db, "u2", "basics", later)).expect("status").as_deref(), Some("waitlisted"));
    }
}
