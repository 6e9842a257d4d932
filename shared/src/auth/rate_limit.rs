//! Rate limits with exponential backoff, in D1 (KV is eventually consistent, so counts there could be
//! exceeded from other locations). A key counts attempts in a fixed window; past `max`, each further
//! attempt doubles the wait (up to a cap) and the answer is 429 with Retry-After.
//!
//! An attempt is counted before the work it guards (one statement, so parallel requests cannot all
//! slip under the limit); a flow that only limits failures gives the attempt back on success
//! ([`release`]). The account flows cap every wait at [`AUTH_MAX_BLOCK`], following OWASP: a limit
//! slows an attacker down, it never locks a person or a shared address out for long.

use crate::config::EnvSource;
use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use crate::time::{HOUR, MINUTE, Millis, SECOND};
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

    /// The limit in var `name`, or `default` (`"max/seconds"`) when it is not set.
    pub fn from_env(env: &impl EnvSource, name: &str, default: &str) -> Result<Self> {
        Self::parse(name, &env.var(name).unwrap_or_else(|| default.into()))
    }
}

/// The limits of the account endpoints, configurable so tests can lower them. Sign-in limits count
/// failures (a successful sign-in gives its attempt back), so a class signing in from one school
/// address is never slowed down by its own successes.
#[derive(Debug, Clone, Copy)]
pub struct AuthLimits {
    /// Failed sign-ins from one address (an IPv6 /64).
    pub signin_per_ip: Limit,
    /// Failed sign-ins for one account from browsers that never signed in to it. A browser holding
    /// the account's device cookie counts its failures on its own key instead.
    pub signin_per_account: Limit,
    /// Sign-ups from one address: room for a class of 30 within minutes.
    pub signup_per_ip: Limit,
    pub reset_per_ip: Limit,
    pub reset_per_account: Limit,
    /// New email verification links one account may ask for (each deletes the older ones).
    pub verify_resend_per_account: Limit,
}

impl AuthLimits {
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        let get = |name: &str, default: &str| Limit::parse(name, &env.var(name).unwrap_or_else(|| default.to_owned()));
        Ok(Self {
            signin_per_ip: get("RATE_LIMIT_SIGNIN_IP", "30/900")?,
            signin_per_account: get("RATE_LIMIT_SIGNIN_ACCOUNT", "10/900")?,
            signup_per_ip: get("RATE_LIMIT_SIGNUP_IP", "50/3600")?,
            reset_per_ip: get("RATE_LIMIT_RESET_IP", "10/3600")?,
            reset_per_account: get("RATE_LIMIT_RESET_ACCOUNT", "3/3600")?,
            verify_resend_per_account: get("RATE_LIMIT_VERIFY_RESEND", "3/3600")?,
        })
    }
}

/// A key that does not store the raw IP or email.
pub fn key(action: &str, subject: &str) -> String {
    format!("{action}:{}", &hex::encode(Sha256::digest(subject.as_bytes()))[..32])
}

/// What a per-address limit counts: an IPv4 address, or the /64 network of an IPv6 one (a single
/// subscriber is usually given a whole /64, so its addresses are one client). IPv4-mapped IPv6 is
/// its IPv4 address. Anything unparseable counts as itself.
pub fn network(ip: &str) -> String {
    use std::net::IpAddr;
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => ip.trim().to_owned(),
    }
}

const MAX_BACKOFF: Millis = 24 * HOUR;
/// The longest an account flow ever makes anyone wait.
pub const AUTH_MAX_BLOCK: Millis = 15 * MINUTE;

#[derive(Deserialize)]
struct Counter {
    window_start: i64,
    count: i64,
    blocked_until: Option<i64>,
}

/// Counts one attempt against `key`; `Err(TooManyRequests)` when over the limit. Waits double up to a
/// day.
pub async fn hit(db: &impl Database, key: &str, limit: Limit, now: Millis) -> Result<()> {
    hit_capped(db, key, limit, now, MAX_BACKOFF).await
}

/// [`hit`], with no wait longer than `max_block` (the window's end included).
pub async fn hit_capped(db: &impl Database, key: &str, limit: Limit, now: Millis, max_block: Millis) -> Result<()> {
    let expired_before = now - limit.window_ms;
    let counter: Option<Counter> = db
        .query_first(
            Statement::new(
                "INSERT INTO rate_limits (key, window_start, count) VALUES (?1, ?2, 1)
                 ON CONFLICT (key) DO UPDATE SET
                   count = CASE WHEN rate_limits.window_start <= ?3 AND coalesce(rate_limits.blocked_until, 0) <= ?2
                                THEN 1 ELSE rate_limits.count + 1 END,
                   window_start = CASE WHEN rate_limits.window_start <= ?3 AND coalesce(rate_limits.blocked_until, 0) <= ?2
                                THEN ?2 ELSE rate_limits.window_start END,
                   blocked_until = CASE WHEN rate_limits.window_start <= ?3 AND coalesce(rate_limits.blocked_until, 0) <= ?2
                                THEN NULL ELSE rate_limits.blocked_until END
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
    // The first attempt over the limit waits out the window (or `max_block`, if shorter); each one
    // after doubles the wait, up to `max_block`.
    let max_block = max_block.max(SECOND);
    let window_end = counter.window_start + limit.window_ms;
    let backoff = limit.window_ms.saturating_mul(1 << (over - 1).min(20)).min(MAX_BACKOFF);
    let previous = counter.blocked_until.unwrap_or(0);
    if previous != 0 && previous <= now {
        // A capped block has passed while the window has not: the address is slowed down, not shut
        // out. One attempt goes through and the next waits again. The conditional update makes
        // that one attempt: of parallel requests, only the one that moves the block on passes.
        let until = (now + backoff).min(now + max_block);
        let moved = db
            .execute(
                Statement::new("UPDATE rate_limits SET blocked_until = ?2 WHERE key = ?1 AND blocked_until = ?3")
                    .bind(key)
                    .bind(until)
                    .bind(previous),
            )
            .await?;
        return if moved == 1 { Ok(()) } else { Err(too_many(now + max_block, now)) };
    }
    let until = window_end.max(now + backoff).max(previous).min(now + max_block);
    db.execute(Statement::new("UPDATE rate_limits SET blocked_until = ?2 WHERE key = ?1").bind(key).bind(until))
        .await?;
    Err(too_many(until, now))
}

fn too_many(until: Millis, now: Millis) -> Error {
    let retry_after_seconds = u64::try_from((until - now + SECOND - 1) / SECOND).unwrap_or(1).max(1);
    Error::TooManyRequests { retry_after_seconds }
}

/// Gives back an attempt [`hit`] counted, once its work succeeded (limits that count failures).
pub fn release(key: &str) -> Statement {
    Statement::new("UPDATE rate_limits SET count = count - 1 WHERE key = ?1 AND count > 0").bind(key.to_owned())
}

/// Forgets `key` entirely: its count and any block (a completed password reset clears the account's).
pub fn clear(key: &str) -> Statement {
    Statement::new("DELETE FROM rate_limits WHERE key = ?1").bind(key.to_owned())
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
        for i in 0..3 {
            block_on(hit(&db, "k", LIMIT, 0)).unwrap_or_else(|e| panic!("attempt {} is within the limit: {e}", i + 1));
        }
        assert_eq!(retry_after(block_on(hit(&db, "k", LIMIT, 0))), 60, "the fourth waits out the window");
        // Window and block over: the count starts again from one, so a full limit passes before the
        // next 429.
        for i in 0..3 {
            block_on(hit(&db, "k", LIMIT, 60_001 + i))
                .unwrap_or_else(|e| panic!("attempt {} of the fresh window passes: {e}", i + 1));
        }
        assert_eq!(retry_after(block_on(hit(&db, "k", LIMIT, 60_010))), 60, "the fresh window has the same limit");
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
    fn a_capped_limit_slows_an_address_down_and_never_blocks_it_longer_than_the_cap() {
        let db = SqliteDb::with_schema();
        let hour = Limit { max: 3, window_ms: 3_600_000 };
        let cap = 15 * 60_000;
        for _ in 0..3 {
            block_on(hit_capped(&db, "k", hour, 0, cap)).expect("within");
        }
        // Over the limit: the wait is the cap, not the hour's end, and stays capped however often it is tried.
        assert_eq!(retry_after(block_on(hit_capped(&db, "k", hour, 0, cap))), 900);
        for _ in 0..5 {
            assert!(retry_after(block_on(hit_capped(&db, "k", hour, 1_000, cap))) <= 900);
        }
        // Once the block has passed, one attempt goes through and the next waits again.
        let later = 1_000 + cap;
        block_on(hit_capped(&db, "k", hour, later, cap)).expect("one attempt after the block");
        assert!(retry_after(block_on(hit_capped(&db, "k", hour, later, cap))) <= 900);
        // After the window and the block, the count starts over.
        for i in 0..3 {
            block_on(hit_capped(&db, "k", hour, 3 * 3_600_000 + i, cap)).expect("a fresh window");
        }
    }

    #[test]
    fn a_released_attempt_is_not_counted_and_a_cleared_key_starts_over() {
        let db = SqliteDb::with_schema();
        for _ in 0..10 {
            block_on(hit(&db, "ok", LIMIT, 0)).expect("each success gives its attempt back");
            block_on(db.execute(release("ok"))).expect("released");
        }
        for _ in 0..3 {
            block_on(hit(&db, "bad", LIMIT, 0)).expect("within");
        }
        assert!(block_on(hit(&db, "bad", LIMIT, 0)).is_err());
        block_on(db.execute(clear("bad"))).expect("cleared");
        block_on(hit(&db, "bad", LIMIT, 0)).expect("cleared: no block, a fresh count");
    }

    #[test]
    fn an_ipv6_address_counts_as_its_64_and_ipv4_as_itself() {
        assert_eq!(network("2001:db8:1:2:aaaa::1"), network("2001:db8:1:2:ffff:1:2:3"));
        assert_ne!(network("2001:db8:1:2::1"), network("2001:db8:1:3::1"));
        assert_eq!(network("2001:0db8:0001:0002:0000:0000:0000:0001"), "2001:db8:1:2::/64");
        assert_eq!(network("203.0.113.9"), "203.0.113.9");
        assert_eq!(network("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(network(" unknown "), "unknown");
    }

    #[test]
    fn keys_do_not_contain_the_raw_subject() {
        let k = key("signin-ip", "203.0.113.9");
        assert!(!k.contains("203.0.113.9"));
        assert_eq!(k, key("signin-ip", "203.0.113.9"));
    }
}
