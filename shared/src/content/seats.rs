//! Seats of a course: how long a hold lasts, which holds still count, and the statement that turns a
//! payment into a seat. Below both enrolment (which opens holds through a checkout) and the billing
//! webhook (which completes the order), so neither imports the other to share them.

use crate::storage::Statement;
use crate::time::{MINUTE, Millis};

/// How long an open paid checkout holds its seat.
pub const HOLD_MS: Millis = 45 * MINUTE;

/// Reservations created after this still hold a seat.
pub fn seats_taken_since(now: Millis) -> Millis {
    now - HOLD_MS
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
