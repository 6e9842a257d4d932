//! Time. `SystemTime::now()` panics on wasm32, so the clock is a trait: `js_sys::Date` on Workers,
//! the system clock natively, and a settable clock in tests.

use std::future::Future;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

/// Midnight UTC at or before `ms`.
pub fn start_of_day(ms: Millis) -> Millis {
    ms - ms.rem_euclid(DAY)
}

pub trait Clock {
    fn now_ms(&self) -> Millis;
    /// Resolves after `ms` milliseconds; used to bound checks with a timeout.
    fn sleep(&self, ms: u64) -> impl Future<Output = ()>;
}

/// Races `work` against the clock. `None` when `timeout_ms` passed first.
pub async fn with_timeout<T>(clock: &impl Clock, timeout_ms: u64, work: impl Future<Output = T>) -> Option<T> {
    use futures::future::{Either, select};
    let work = std::pin::pin!(work);
    let timer = std::pin::pin!(clock.sleep(timeout_ms));
    match select(work, timer).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(((), _)) => None,
    }
}

/// RFC 3339 UTC timestamp (`2026-11-28T01:46:40.123Z`) for a Unix time in milliseconds.
pub fn to_rfc3339(ms: Millis) -> String {
    let days = ms.div_euclid(DAY);
    let rem = ms.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / HOUR,
        rem % HOUR / MINUTE,
        rem % MINUTE / SECOND,
        rem % SECOND
    )
}

/// A UTC RFC 3339 timestamp (`2026-11-28T01:46:40Z`, fractions allowed) to Unix milliseconds, as
/// GitHub writes `expires_at`. Other offsets are not accepted.
pub fn parse_rfc3339(text: &str) -> Option<Millis> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (date.next()??, date.next()??, date.next()??);
    let (hms, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut hms = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (hms.next()??, hms.next()??, hms.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let millis = format!("{fraction:0<3}").get(..3)?.parse::<i64>().ok()?;
    Some(days_from_civil(y, m, d) * DAY + hh * HOUR + mm * MINUTE + ss * SECOND + millis)
}

/// (year, month, day) to days since 1970-01-01: the inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's civil-from-days algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A clock for tests: time stands still unless moved, and `sleep` never resolves unless the
/// duration is zero, so a timeout only fires when a test makes it.
#[cfg(test)]
pub mod testing {
    use super::*;
    use std::cell::Cell;

    pub struct FixedClock {
        now: Cell<Millis>,
    }

    impl FixedClock {
        pub fn at(ms: Millis) -> Self {
            Self { now: Cell::new(ms) }
        }
        pub fn advance(&self, ms: Millis) {
            self.now.set(self.now.get() + ms);
        }
    }

    impl Clock for FixedClock {
        fn now_ms(&self) -> Millis {
            self.now.get()
        }
        async fn sleep(&self, ms: u64) {
            if ms > 0 {
                futures::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(to_rfc3339(0), "1970-01-01T00:00:00.000Z");
        // `date -u -d @1795836400` = Sat Nov 28 03:26:40 UTC 2026
        assert_eq!(to_rfc3339(1_795_836_400_123), "2026-11-28T03:26:40.123Z");
        assert_eq!(to_rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn parses_what_it_formats_and_githubs_form() {
        for ms in [0, 951_782_400_000, 1_795_836_400_123, 4_102_444_799_999] {
            assert_eq!(parse_rfc3339(&to_rfc3339(ms)), Some(ms));
        }
        assert_eq!(parse_rfc3339("2026-11-28T03:26:40Z"), Some(1_795_836_400_000));
        assert_eq!(parse_rfc3339("2026-11-28T03:26:40+01:00"), None);
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
    }

    #[test]
    fn a_timeout_fires_only_when_the_work_is_slower() {
        let clock = testing::FixedClock::at(0);
        let done = futures::executor::block_on(with_timeout(&clock, 1_000, async { 7 }));
        assert_eq!(done, Some(7));
        let stuck = futures::executor::block_on(with_timeout(&clock, 0, futures::future::pending::<u8>()));
        assert_eq!(stuck, None);
    }
}
