//! Rate limits with exponential backoff, in D1 (KV is eventually consistent, so counts there could be
//! exceeded from other locations). A key counts attempts in a fixed window; past `max`, each further
//! attempt doubles the wait (up to a cap) and the answer is 429 with Retry-After.

use crate::config::EnvSource;
use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use crate::time::{HOUR, Millis, SECOND};
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_ms: Millis,
}

impl Limit {
    /// `"max/seconds"`, as the RATE_LIMIT_* variables hold it.
    pub fn parse(name: &str, raw: &str) -> Result<Self> {
        let invalid = || Error::Config(format!("{name} must look like 5/900 (attempts per seconds), not {raw:?}"));
        let (max, seconds) = raw.trim().split_once('/').ok_or_else(invalid)?;
        let max: u32 = max.trim().parse().map_err(|_| invalid())?;
        let seconds: i64 = seconds.trim().parse().map_err(|_| invalid())?;
        if max == 0 || !(1..=86_400).contains(&seconds) {
            return Err(invalid());
        }
        Ok(Self { max, window_ms: seconds * SECOND })
    }
}

/// The limits of the account endpoints, configurable so tests can lower them.
#[derive(Debug, Clone, Copy)]
pub struct AuthLimits {
    pub signin_per_ip: Limit,
    pub signin_per_account: Limit,
    pub signup_per_ip: Limit,
    pub reset_per_ip: Limit,
    pub reset_per_account: Limit,
}

impl AuthLimits {
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        let get = |name: &str, default: &str| Limit::parse(name, &env.var(name).unwrap_or_else(|| default.to_owned()));
        Ok(Self {
            signin_per_ip: get("RATE_LIMIT_SIGNIN_IP", "30/900")?,
            signin_per_account: get("RATE_LIMIT_SIGNIN_ACCOUNT", "10/900")?,
            signup_per_ip: get("RATE_LIMIT_SIGNUP_IP", "10/3600")?,
            reset_per_ip: get("RATE_LIMIT_RESET_IP", "10/3600")?,
            reset_per_account: get("RATE_LIMIT_RESET_ACCOUNT", "3/3600")?,
        })
    }
}

/// A key that does not store the raw IP or email.
pub fn key(action: &str, subject: &str) -> String {
    format!("{action}:{}", &hex::encode(Sha256::digest(subject.as_bytes()))[..32])
}

const MAX_BACKOFF: Millis = 24 * HOUR;

#[derive(Deserialize)]
struct Counter {
    window_start: i64,
    count: i64,
    blocked_until: Option<i64>,
}

/// Counts one attempt against `key`; `Err(TooManyRequests)` when over the limit.
pub async fn hit(db: &impl Database, key: &str, limit: Limit, now: Millis) -> Result<()> {
    let expired_before = now - limit.window_ms;
    let counter: Option<Counter> = db
        .query_first(
            Statement::new(
                "INSERT INTO rate_limits (key, window_start, count) VALUES (?1, ?2, 1)
                 ON CONFLICT (key) DO UPDATE SET
                   count = CASE WHEN rate_limits.window_start <= ?3 AND coalesce(rate_limits.blocked_until, 0) <= ?2
                                THEN 1 ELSE rate_limits.count + 1 END,
                   window_start = CASE WHEN rate_limits.window_start <= ?3 AND coalesce(rate_limits.blocked_until, 0) <= ?2
                                THEN ?2 ELSE rate_limits.window_start END
                 RETURNING window_start, count, blocked_until",
            )
            .bind(key)
            .bind(now)
            .bind(expired_before),
        )
        .await?;
    let Some(counter) = counter else {
        return Ok(());
    };
    let over = counter.count - i64::from(limit.max);
    if over <= 0 {
        return Ok(());
    }
    // The first attempt over the limit waits out the window; each one after doubles the wait.
    let window_end = counter.window_start + limit.window_ms;
    let backoff = limit.window_ms.saturating_mul(1 << (over - 1).min(20)).min(MAX_BACKOFF);
    let until = window_end.max(now + backoff).max(counter.blocked_until.unwrap_or(0));
    db.execute(Statement::new("UPDATE rate_limits SET blocked_until = ?2 WHERE key = ?1").bind(key).bind(until))
        .await?;
    let retry_after_seconds = u64::try_from((until - now + SECOND - 1) / SECOND).unwrap_or(1).max(1);
    Err(Error::TooManyRequests { retry_after_seconds })
}

/// Removes counters whose window and block have both passed (the clean-up cron).
pub fn delete_stale(now: Millis) -> Statement {
    Statement::new("DELETE FROM rate_limits WHERE window_start < ?1 AND coalesce(blocked_until, 0) < ?2")
        .bind(now - MAX_BACKOFF)
        .bind(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    const LIMIT: Limit = Limit { max: 3, window_ms: 60_000 };

    fn retry_after(result: Result<()>) -> u64 {
        match result {
            Err(Error::TooManyRequests { retry_after_seconds }) => retry_after_seconds,
            other => panic!("expected 429, got {other:?}"),
        }
    }

    #[test]
    fn attempts_within_the_limit_pass_and_the_next_waits_out_the_window() {
        let db = SqliteDb::with_schema();
        for i in 0..3 {
            block_on(hit(&db, "signin:x", LIMIT, i * 1_000)).expect("within the limit");
        }
        assert_eq!(
            retry_after(block_on(hit(&db, "signin:x", LIMIT, 10_000))),
            60,
            "the first wait is at least the window"
        );
        block_on(hit(&db, "signin:other", LIMIT, 10_000)).expect("keys are independent");
    }

    #[test]
    fn each_attempt_while_blocked_doubles_the_wait() {
        let db = SqliteDb::with_schema();
        for _ in 0..3 {
            block_on(hit(&db, "k", LIMIT, 0)).expect("within");
        }
        let first = retry_after(block_on(hit(&db, "k", LIMIT, 0)));
        let second = retry_after(block_on(hit(&db, "k", LIMIT, 0)));
        let third = retry_after(block_on(hit(&db, "k", LIMIT, 0)));
        assert_eq!((first, second, third), (60, 120, 240));
        // Still blocked after the window passes, because the backoff outlasts it...
        assert!(block_on(hit(&db, "k", LIMIT, 61_000)).is_err());
    }

    #[test]
    fn the_count_starts_over_once_window_and_block_have_passed() {
        let db = SqliteDb::with_schema();
        for _ in 0..4 {
            let _ = block_on(hit(&db, "k", LIMIT, 0));
        }
        block_on(hit(&db, "k", LIMIT, 60_001)).expect("a fresh window");
    }

    #[test]
    fn limits_parse_from_configuration_with_clear_errors() {
        assert_eq!(Limit::parse("X", "5/900").expect("valid"), Limit { max: 5, window_ms: 900_000 });
        for bad in ["5", "0/60", "5/0", "a/60", "5/99999"] {
            let error = Limit::parse("RATE_LIMIT_SIGNIN_IP", bad).expect_err(bad);
            assert!(error.to_string().contains("RATE_LIMIT_SIGNIN_IP"));
        }
    }

    #[test]
    fn keys_do_not_contain_the_raw_subject() {
        let k = key("signin-ip", "203.0.113.9");
        assert!(!k.contains("203.0.113.9"));
        assert_eq!(k, key("signin-ip", "203.0.113.9"));
    }
}
