//! Where backups go in R2 and which old ones go: `daily/YYYY-MM-DD.sql` every night, and
//! `monthly/YYYY-MM.sql` for the first backup of each month. The newest [`DAILY_KEEP`] daily and
//! [`MONTHLY_KEEP`] monthly objects are kept, counted rather than dated, so nights the cron missed
//! never shorten what is kept. Objects that do not look like backups are never deleted.

use crate::time::{Millis, to_rfc3339};

pub const DAILY_PREFIX: &str = "daily/";
pub const MONTHLY_PREFIX: &str = "monthly/";
pub const DAILY_KEEP: usize = 30;
pub const MONTHLY_KEEP: usize = 12;

/// `daily/2026-12-02.sql` for a time on that UTC day.
pub fn daily_key(now: Millis) -> String {
    format!("{DAILY_PREFIX}{}.sql", &to_rfc3339(now)[..10])
}

/// `monthly/2026-12.sql` for a time in that UTC month.
pub fn monthly_key(now: Millis) -> String {
    format!("{MONTHLY_PREFIX}{}.sql", &to_rfc3339(now)[..7])
}

/// Whether `key` is a backup under `prefix`: the prefix, a date of `date_len` characters (digits and
/// dashes where the date has them), `.sql`.
fn is_backup(key: &str, prefix: &str, date_len: usize) -> bool {
    let Some(date) = key.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(".sql")) else {
        return false;
    };
    date.len() == date_len
        && date.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() })
}

/// The backups under `prefix` beyond the newest `keep`, oldest last.
fn beyond(keys: &[String], prefix: &str, date_len: usize, keep: usize) -> Vec<String> {
    let mut backups: Vec<&String> = keys.iter().filter(|k| is_backup(k, prefix, date_len)).collect();
    backups.sort_unstable_by(|a, b| b.cmp(a));
    backups.dedup();
    backups.into_iter().skip(keep).cloned().collect()
}

/// Daily backups to delete from a listing of `daily/`.
pub fn expired_daily(keys: &[String]) -> Vec<String> {
    beyond(keys, DAILY_PREFIX, 10, DAILY_KEEP)
}

/// Monthly backups to delete from a listing of `monthly/`.
pub fn expired_monthly(keys: &[String]) -> Vec<String> {
    beyond(keys, MONTHLY_PREFIX, 7, MONTHLY_KEEP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{DAY, parse_rfc3339};

    fn at(text: &str) -> Millis {
        parse_rfc3339(text).expect("a valid time")
    }

    #[test]
    fn keys_carry_the_utc_day_and_month() {
        assert_eq!(daily_key(at("2026-12-02T03:17:00Z")), "daily/2026-12-02.sql");
        assert_eq!(monthly_key(at("2026-12-02T03:17:00Z")), "monthly/2026-12.sql");
        assert_eq!(daily_key(at("2026-12-31T23:59:59.999Z")), "daily/2026-12-31.sql");
    }

    #[test]
    fn the_newest_thirty_daily_backups_are_kept() {
        let start = at("2026-01-01T03:17:00Z");
        let keys: Vec<String> = (0..40).map(|d| daily_key(start + d * DAY)).collect();
        let expired = expired_daily(&keys);
        assert_eq!(expired.len(), 10);
        assert_eq!(expired.first().map(String::as_str), Some("daily/2026-01-10.sql"), "newest of the expired");
        assert_eq!(expired.last().map(String::as_str), Some("daily/2026-01-01.sql"));
        assert!(expired_daily(&keys[..30]).is_empty(), "thirty are all kept");
    }

    #[test]
    fn the_newest_twelve_monthly_backups_are_kept_across_years() {
        let keys: Vec<String> =
            (2025..=2026).flat_map(|y| (1..=12).map(move |m| format!("monthly/{y}-{m:02}.sql"))).collect();
        let expired = expired_monthly(&keys);
        assert_eq!(expired.len(), 12);
        assert!(expired.iter().all(|k| k.starts_with("monthly/2025-")), "{expired:?}");
    }

    #[test]
    fn objects_that_are_not_backups_are_never_deleted() {
        let mut keys: Vec<String> = (1..=31).map(|d| format!("daily/2026-01-{d:02}.sql")).collect();
        keys.extend(
            ["daily/notes.txt", "daily/2020-01-01.sql.bak", "daily/2020-1-1.sql", "daily/20200101xx.sql"]
                .map(String::from),
        );
        assert_eq!(expired_daily(&keys), ["daily/2026-01-01.sql"]);
        assert!(expired_monthly(&["monthly/2020-01-01.sql".to_owned()]).is_empty(), "a daily name under monthly/");
    }
}
