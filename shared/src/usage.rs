//! Per-plan daily limits: assistant questions, Builder generations and GitHub pushes. Use is
//! reserved BEFORE the work starts, by one conditional statement that increments the day's counter
//! only while it is under the limit, so N parallel requests get exactly the limit's worth of
//! successes, however many arrive at once (D1 runs each statement atomically). Work that then fails
//! without giving the user anything gives its reservation back ([`release`]).

use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use crate::time::{DAY, Millis, SECOND, start_of_day};
use serde::Deserialize;

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meter {
    Questions,
    Generations,
    Pushes,
}

impl Meter {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Questions => "questions",
            Self::Generations => "generations",
            Self::Pushes => "pushes",
        }
    }
}

/// The daily limits of the plans that may generate and push (Pro and Enterprise): generous for a
/// person, small for a script. Questions have their own per-plan quotas (`assistant::quota`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuilderLimits {
    pub generations_per_day: u64,
    pub pushes_per_day: u64,
}

impl BuilderLimits {
    pub fn from_env(env: &impl crate::config::EnvSource) -> Result<Self> {
        Ok(Self {
            generations_per_day: crate::config::number(env, "BUILDER_GENERATIONS_PER_DAY", 50, 1..=100_000)?,
            pushes_per_day: crate::config::number(env, "GITHUB_PUSHES_PER_DAY", 20, 1..=100_000)?,
        })
    }
}

/// One unit of a day's allowance, taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub user_id: String,
    pub meter: Meter,
    pub day: Millis,
    /// The day's use, this reservation included.
    pub used: u64,
}

#[derive(Deserialize)]
struct Used {
    used: i64,
}

/// Takes one unit of `user_id`'s `limit` for today. Over the limit: 429 `quota_exceeded` with the time
/// to midnight UTC, and `message(limit)` as its message.
pub async fn reserve(
    db: &impl Database,
    user_id: &str,
    meter: Meter,
    limit: u64,
    now: Millis,
    message: impl FnOnce(u64) -> String,
) -> Result<Reservation> {
    let day = start_of_day(now);
    let taken: Option<Used> = db
        .query_first(
            Statement::new(
                "INSERT INTO usage_counters (user_id, meter, day, used) SELECT ?1, ?2, ?3, 1 WHERE ?4 > 0
                 ON CONFLICT (user_id, meter, day) DO UPDATE SET used = usage_counters.used + 1
                 WHERE usage_counters.used < ?4
                 RETURNING used",
            )
            .bind(user_id)
            .bind(meter.as_str())
            .bind(day)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX)),
        )
        .await?;
    match taken {
        Some(t) => Ok(Reservation { user_id: user_id.to_owned(), meter, day, used: t.used.max(0) as u64 }),
        None => Err(Error::QuotaExceeded {
            retry_after_seconds: u64::try_from((day + DAY - now + SECOND - 1) / SECOND).unwrap_or(1).max(1),
            message: message(limit),
        }),
    }
}

/// Gives a reservation back: its work failed and the user got nothing.
pub fn release(reservation: &Reservation) -> Statement {
    Statement::new(
        "UPDATE usage_counters SET used = used - 1 WHERE user_id = ?1 AND meter = ?2 AND day = ?3 AND used > 0",
    )
    .bind(reservation.user_id.as_str())
    .bind(reservation.meter.as_str())
    .bind(reservation.day)
}

/// [`release`], for a path that is already failing: a failure to give back is logged by the caller's
/// error, not raised over it (the worst case is one unit of quota lost for the day).
pub async fn release_quietly(db: &impl Database, reservation: &Reservation) {
    let _ = db.execute(release(reservation)).await;
}

/// Counters of days before yesterday (the daily clean-up).
pub fn delete_stale(now: Millis) -> Statement {
    Statement::new("DELETE FROM usage_counters WHERE day < ?1").bind(start_of_day(now) - DAY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    fn exceeded(result: Result<Reservation>) -> (u64, String) {
        match result {
            Err(Error::QuotaExceeded { retry_after_seconds, message }) => (retry_after_seconds, message),
            other => panic!("expected quota_exceeded, got {other:?}"),
        }
    }

    #[test]
    fn exactly_the_limit_is_reserved_and_a_release_gives_one_back() {
        let db = SqliteDb::with_schema();
        let noon = DAY * 100 + DAY / 2;
        for i in 1..=3 {
            let r = block_on(reserve(&db, "u1", Meter::Questions, 3, noon, |_| String::new())).expect("within");
            assert_eq!(r.used, i);
        }
        let (retry, message) =
            exceeded(block_on(reserve(&db, "u1", Meter::Questions, 3, noon, |l| format!("limit {l}"))));
        assert_eq!((retry, message.as_str()), (DAY as u64 / 2 / 1000, "limit 3"));
        // Other meters and other users are counted apart.
        block_on(reserve(&db, "u1", Meter::Pushes, 3, noon, |_| String::new())).expect("another meter");
        block_on(reserve(&db, "u2", Meter::Questions, 3, noon, |_| String::new())).expect("another user");
        // A failed piece of work gives its unit back; the count never goes below zero.
        let last = Reservation { user_id: "u1".into(), meter: Meter::Questions, day: start_of_day(noon), used: 3 };
        block_on(db.execute(release(&last))).expect("released");
        block_on(reserve(&db, "u1", Meter::Questions, 3, noon, |_| String::new())).expect("the unit given back");
        // Tomorrow starts over, and the clean-up keeps only yesterday and today.
        block_on(reserve(&db, "u1", Meter::Questions, 3, noon + DAY, |_| String::new())).expect("a new day");
        block_on(db.execute(delete_stale(noon + 2 * DAY))).expect("clean-up");
        let days: Vec<serde_json::Value> =
            block_on(db.query(Statement::new("SELECT DISTINCT day FROM usage_counters ORDER BY day"))).expect("rows");
        assert_eq!(days, vec![serde_json::json!({"day": start_of_day(noon + DAY)})]);
    }

    #[test]
    fn a_zero_limit_reserves_nothing() {
        let db = SqliteDb::with_schema();
        exceeded(block_on(reserve(&db, "u1", Meter::Generations, 0, 5, |_| String::new())));
    }
}
