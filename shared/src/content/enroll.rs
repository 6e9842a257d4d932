//! Enrolment (`enroll_courses`). A seat is a row in `enrollments`; it is taken by ONE conditional
//! statement that counts the other seats inside the same write, so two requests for the last seat
//! can never both succeed: D1 (SQLite) runs each statement atomically.
//!
//! Free courses enrol at once. A paid course holds a seat (`reserved`) for [`HOLD_MS`] while its
//! one-time Stripe checkout is open (the checkout itself expires sooner); the payment turns the hold
//! into a seat in the same batch that completes the order. A payment that arrives after its hold
//! lapsed takes a seat only if one is free, else it is `waitlisted` for staff to refund or place.
//!
//! Holds cannot be hoarded: a user has one hold per course (enrolling again while it is live answers
//! the same checkout, and never extends the hold) and live holds in at most [`MAX_HOLDS`] courses at
//! once, both checked inside the statement that takes the seat. Seat counts are not in the content
//! generation: pages show them through a per-course fingerprint in their cache key
//! ([`super::views::seats_fingerprint`]), so an enrolment never empties the whole page cache.

use super::seats::{HOLD_MS, seats_taken_since};
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

// A checkout closes before its seat hold lapses, so a payment never arrives for a released seat
// (checked when compiling).
const _: () = assert!(checkout::PURCHASE_OPEN_SECONDS * 1000 < HOLD_MS);

/// Courses a user may hold unpaid seats in at the same time.
pub const MAX_HOLDS: i64 = 2;

/// Takes a seat as `status` (`active` or `reserved`) if one is free; changes one row or none.
fn take_seat(user_id: &str, course: &str, status: &str, now: Millis) -> Statement {
    Statement::new(
        "INSERT INTO enrollments (user_id, course_slug, status, order_id, created_at, updated_at)
         SELECT ?1, c.slug, ?3, NULL, ?4, ?4 FROM content_courses c
         WHERE c.slug = ?2 AND c.published = 1
           AND c.capacity > (SELECT COUNT(*) FROM enrollments e WHERE e.course_slug = c.slug AND e.user_id <> ?1
                             AND (e.status = 'active' OR (e.status = 'reserved' AND e.created_at > ?5)))
           AND (?3 <> 'reserved' OR ?6 > (SELECT COUNT(*) FROM enrollments h WHERE h.user_id = ?1
                             AND h.course_slug <> ?2 AND h.status = 'reserved' AND h.created_at > ?5))
         ON CONFLICT (user_id, course_slug) DO UPDATE SET status = excluded.status,
             created_at = excluded.created_at, updated_at = excluded.updated_at, checkout_url = NULL
         WHERE enrollments.status <> 'active'
           AND NOT (enrollments.status = 'reserved' AND enrollments.created_at > ?5)",
    )
    .bind(user_id)
    .bind(course)
    .bind(status)
    .bind(now)
    .bind(seats_taken_since(now))
    .bind(MAX_HOLDS)
}

#[derive(Debug, Deserialize)]
struct Holds {
    n: i64,
}

/// Live holds of the user in other courses than `course`.
async fn holds_elsewhere(db: &impl Database, user_id: &str, course: &str, now: Millis) -> Result<i64> {
    let holds: Option<Holds> = db
        .query_first(
            Statement::new(
                "SELECT COUNT(*) AS n FROM enrollments WHERE user_id = ?1 AND course_slug <> ?2
                 AND status = 'reserved' AND created_at > ?3",
            )
            .bind(user_id)
            .bind(course)
            .bind(seats_taken_since(now)),
        )
        .await?;
    Ok(holds.map_or(0, |h| h.n))
}

#[derive(Debug, Deserialize)]
struct StatusRow {
    status: String,
    created_at: i64,
    /// The Checkout a hold was opened with.
    checkout_url: Option<String>,
}

/// The user's enrolment row in `course`, as it stands `now`: a lapsed hold is no enrolment.
async fn current(db: &impl Database, user_id: &str, course: &str, now: Millis) -> Result<Option<StatusRow>> {
    let row: Option<StatusRow> = db
        .query_first(
            Statement::new(
                "SELECT status, created_at, checkout_url FROM enrollments WHERE user_id = ?1 AND course_slug = ?2",
            )
            .bind(user_id)
            .bind(course),
        )
        .await?;
    Ok(row.filter(|r| !(r.status == "reserved" && r.created_at <= seats_taken_since(now))))
}

/// The caller's enrolment in `course`: `active`, `reserved` (a live hold), `waitlisted`, or none.
pub async fn status(db: &impl Database, user_id: &str, course: &str, now: Millis) -> Result<Option<String>> {
    Ok(current(db, user_id, course, now).await?.map(|r| r.status))
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
    let enrolment = current(db, &caller.user_id, slug, now).await?;
    if enrolment.as_ref().is_some_and(|r| r.status == "active") {
        return Ok(Enrolment { status: "active", checkout_url: None, already: true, seats_left: course.seats_left });
    }
    // A live hold answers the checkout it opened: the hold is neither renewed nor repeated.
    let held = |row: StatusRow| Enrolment {
        status: "checkout",
        checkout_url: row.checkout_url,
        already: true,
        seats_left: course.seats_left,
    };
    if let Some(row) = enrolment.filter(|r| r.status == "reserved") {
        return Ok(held(row));
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
        // A parallel request of the same user took the hold first: answer it, never a second one.
        if let Some(row) = current(db, &caller.user_id, slug, now).await?.filter(|r| r.status == "reserved") {
            return Ok(held(row));
        }
        if paid_and_not_owned && holds_elsewhere(db, &caller.user_id, slug, now).await? >= MAX_HOLDS {
            return Err(Error::Conflict(format!(
                "You are holding unpaid seats in {MAX_HOLDS} courses already: finish one of those checkouts, or let it lapse ({} minutes after it opened), before holding another.",
                HOLD_MS / MINUTE
            )));
        }
        return Err(full(&course.title));
    }
    let seats_left = views::course(db, slug, now).await?.seats_left;
    let kind = EventType::parse(if paid_and_not_owned { "course.checkout_started" } else { "course.enrolled" })?;
    events::log(db, Some(&caller.user_id), &kind, &json!({"course": slug}), now).await?;
    if let (true, Some(product), Some(ctx)) = (paid_and_not_owned, &course.product, checkout) {
        let input = CheckoutInput { plan: None, interval: None, product: Some(product.clone()) };
        let redirect = match checkout::checkout(ctx, caller, &input).await {
            Ok(redirect) => redirect,
            Err(e) => {
                // No checkout, no hold: the seat is free again at once.
                let _ = db
                    .execute(
                        Statement::new(
                            "DELETE FROM enrollments WHERE user_id = ?1 AND course_slug = ?2 AND status = 'reserved'",
                        )
                        .bind(caller.user_id.as_str())
                        .bind(slug),
                    )
                    .await;
                return Err(e);
            }
        };
        db.execute(
            Statement::new(
                "UPDATE enrollments SET checkout_url = ?3 WHERE user_id = ?1 AND course_slug = ?2 AND status = 'reserved'",
            )
            .bind(caller.user_id.as_str())
            .bind(slug)
            .bind(redirect.url.as_str()),
        )
        .await?;
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
    use crate::content::seats::after_purchase;
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

    #[test]
    fn a_hold_is_never_renewed_and_a_user_holds_seats_in_two_courses_at_most() {
        let db = db_with_course();
        db.run(
            "CREATE TEMP TABLE copies AS SELECT * FROM content_courses;
             UPDATE copies SET slug = 'second'; INSERT INTO content_courses SELECT * FROM copies;
             UPDATE copies SET slug = 'third'; INSERT INTO content_courses SELECT * FROM copies;",
        );
        let hold =
            |course: &str, at: Millis| block_on(db.execute(take_seat("u1", course, "reserved", at))).expect("runs");
        let seats =
            |course: Option<&str>, at: Millis| block_on(views::seats_fingerprint(&db, course, at)).expect("query");
        assert_eq!(seats(None, 10), "");
        assert_eq!(hold("basics", 10), 1);
        assert_eq!(
            (seats(None, 11), seats(Some("basics"), 11), seats(Some("second"), 11)),
            ("basics=1".into(), "basics=1".into(), String::new())
        );
        assert_eq!(seats(Some("basics"), 10 + HOLD_MS + 1), "", "a lapsed hold changes the pages' key without a write");
        // Enrolling again while the hold is live changes nothing: the hold lapses when it would have.
        assert_eq!(hold("basics", 20 * MINUTE), 0, "a live hold is not renewed");
        assert_eq!(block_on(status(&db, "u1", "basics", 10 + HOLD_MS + 1)).expect("status"), None);
        // Two courses held at once, never three.
        assert_eq!(hold("second", 20), 1);
        assert_eq!(hold("third", 30), 0, "a third hold is refused");
        assert_eq!(block_on(holds_elsewhere(&db, "u1", "third", 30)).expect("count"), 2);
        // Paying for, or enrolling at once in, another course is not a hold and is not limited.
        assert_eq!(block_on(db.execute(take_seat("u1", "third", "active", 30))).expect("runs"), 1);
        // Once a hold lapses, another course can be held.
        assert_eq!(block_on(db.execute(take_seat("u2", "third", "reserved", 40))).expect("runs"), 1);
        assert_eq!(hold("basics", 10 + HOLD_MS + 1), 1, "a lapsed hold may be taken again");
    }
}
