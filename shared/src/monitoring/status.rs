//! The data behind `/status`: each endpoint's current state, uptime and response times over the last
//! 24 hours, a bar per probe for the chart, the recent alerts, each scheduled job's last run and the
//! latest backup's age and size.

use super::jobs::{Job, JobRow};
use super::monitor::State;
use super::store::{self, AlertRow, CheckRow};
use crate::backup::{self, store::BackupRow};
use crate::error::Result;
use crate::storage::Database;
use crate::time::{DAY, HOUR, MINUTE, Millis, to_rfc3339};

pub const WINDOW: Millis = 24 * HOUR;
/// The chart's drawing width in SVG user units: one 2-unit bar per 5-minute probe fills it.
pub const CHART_WIDTH: u32 = 576;
pub const CHART_HEIGHT: u32 = 48;

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    /// `up` / `slow` / `down`: the CSS class that colours it.
    pub state: &'static str,
    /// Tooltip and accessible text: time, state, status and response time.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EndpointStatus {
    pub endpoint: String,
    pub state: &'static str,
    pub uptime: String,
    pub avg_ms: i64,
    pub p95_ms: i64,
    pub checks: usize,
    pub last_checked: String,
    pub last_error: Option<String>,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertView {
    pub at: String,
    pub kind: String,
    pub message: String,
    pub delivered: bool,
}

/// One scheduled job's last run.
#[derive(Debug, Clone, PartialEq)]
pub struct JobView {
    pub name: &'static str,
    pub title: &'static str,
    pub schedule: &'static str,
    /// `ok`, `failed` or `not run`.
    pub state: &'static str,
    /// The pill's CSS class: `up`, `down`, or `kind` (not run yet).
    pub pill: &'static str,
    /// When it last started (RFC 3339), and how long ago in words.
    pub last_run: Option<String>,
    pub ago: String,
    pub duration: String,
    pub message: String,
    /// When it last succeeded, shown while it fails.
    pub last_ok: Option<String>,
}

/// The latest backup written to R2.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupView {
    pub key: String,
    pub size: String,
    pub rows: i64,
    pub created_at: String,
    pub age: String,
    /// `up` within a day and a bit of the last run, `down` when a nightly run was missed.
    pub pill: &'static str,
    pub state: &'static str,
}

/// A backup older than this means a night was missed.
pub const BACKUP_STALE_AFTER: Millis = 26 * HOUR;

#[derive(Debug, Clone, PartialEq)]
pub struct StatusView {
    /// `up` (all operational), `slow` (degraded), `down` (outage), or `unknown` (no checks yet).
    pub overall: &'static str,
    pub headline: &'static str,
    pub endpoints: Vec<EndpointStatus>,
    pub alerts: Vec<AlertView>,
    /// Every scheduled job, run or not (empty when the history could not be read).
    pub jobs: Vec<JobView>,
    pub backup: Option<BackupView>,
    pub generated_at: String,
}

pub async fn load(db: &impl Database, now: Millis) -> Result<StatusView> {
    let rows = store::checks_since(db, now - WINDOW).await?;
    let alerts = store::recent_alerts(db, 10).await?;
    let mut view = build(rows, alerts, now);
    view.jobs = jobs(&super::jobs::last_runs(db).await?, now);
    view.backup = backup::store::latest(db).await?.map(|b| backup_view(&b, now));
    Ok(view)
}

/// Every job in cron order, with its last run where there is one.
pub fn jobs(rows: &[JobRow], now: Millis) -> Vec<JobView> {
    Job::ALL
        .into_iter()
        .map(|job| {
            let row = rows.iter().find(|r| r.job == job.name());
            let (state, pill) = match row {
                None => ("not run", "kind"),
                Some(r) if r.ok == 1 => ("ok", "up"),
                Some(_) => ("failed", "down"),
            };
            JobView {
                name: job.name(),
                title: job.title(),
                schedule: job.schedule(),
                state,
                pill,
                last_run: row.map(|r| to_rfc3339(r.started_at)),
                ago: row.map_or_else(|| "not run yet".to_owned(), |r| ago(now - r.started_at)),
                duration: row.map_or_else(String::new, |r| format!("{} ms", r.duration_ms)),
                message: row.map_or_else(String::new, |r| r.message.clone()),
                last_ok: row.filter(|r| r.ok == 0).and_then(|r| r.last_ok_at).map(to_rfc3339),
            }
        })
        .collect()
}

pub fn backup_view(row: &BackupRow, now: Millis) -> BackupView {
    let stale = now - row.created_at > BACKUP_STALE_AFTER;
    BackupView {
        key: row.object_key.clone(),
        size: backup::human_size(u64::try_from(row.bytes).unwrap_or(0)),
        rows: row.row_count,
        created_at: to_rfc3339(row.created_at),
        age: ago(now - row.created_at),
        pill: if stale { "down" } else { "up" },
        state: if stale { "stale" } else { "current" },
    }
}

/// `just now`, `12 min ago`, `5 h ago`, `3 days ago`.
pub fn ago(elapsed: Millis) -> String {
    match elapsed.max(0) {
        e if e < MINUTE => "just now".to_owned(),
        e if e < HOUR => format!("{} min ago", e / MINUTE),
        e if e < 2 * DAY => format!("{} h ago", e / HOUR),
        e => format!("{} days ago", e / DAY),
    }
}

/// Builds the view from rows ordered by endpoint, then time.
pub fn build(rows: Vec<CheckRow>, alerts: Vec<AlertRow>, now: Millis) -> StatusView {
    let mut endpoints: Vec<EndpointStatus> = Vec::new();
    for group in rows.chunk_by(|a, b| a.endpoint == b.endpoint) {
        endpoints.push(summarize(group, now));
    }
    let worst = endpoints.iter().map(|e| e.state).max_by_key(|s| severity(s));
    let (overall, headline) = match worst {
        None => ("unknown", "No checks recorded yet"),
        Some("down") => ("down", "Some systems are down"),
        Some("slow") => ("slow", "Some systems are slow"),
        Some(_) => ("up", "All systems operational"),
    };
    StatusView {
        overall,
        headline,
        endpoints,
        alerts: alerts
            .into_iter()
            .map(|a| AlertView {
                at: to_rfc3339(a.created_at),
                kind: a.kind,
                message: a.message,
                delivered: a.delivered == 1,
            })
            .collect(),
        jobs: Vec::new(),
        backup: None,
        generated_at: to_rfc3339(now),
    }
}

fn severity(state: &str) -> u8 {
    match state {
        "down" => 2,
        "slow" => 1,
        _ => 0,
    }
}

fn state_name(raw: &str) -> &'static str {
    State::parse(raw).map_or("down", State::as_str)
}

fn summarize(checks: &[CheckRow], now: Millis) -> EndpointStatus {
    let last = checks.last().expect("chunk_by never yields an empty group");
    let not_down = checks.iter().filter(|c| c.state != "down").count();
    let mut times: Vec<i64> = checks.iter().map(|c| c.response_time_ms).collect();
    times.sort_unstable();
    let p95_index = (times.len() * 95).div_ceil(100).saturating_sub(1);
    let sum: i64 = times.iter().sum();
    let count = i64::try_from(times.len()).unwrap_or(i64::MAX).max(1);
    let scale = times.last().copied().unwrap_or(0).max(50);
    let start = now - WINDOW;
    let bars = checks
        .iter()
        .map(|c| {
            let offset = (c.checked_at - start).clamp(0, WINDOW);
            let x = u32::try_from(offset * i64::from(CHART_WIDTH - 2) / WINDOW).unwrap_or(0);
            let height = if c.state == "down" {
                CHART_HEIGHT
            } else {
                let h = c.response_time_ms.clamp(0, scale) * i64::from(CHART_HEIGHT) / scale;
                u32::try_from(h).unwrap_or(CHART_HEIGHT).max(2)
            };
            let status = c.status_code.map_or_else(|| "no response".to_owned(), |s| format!("HTTP {s}"));
            EndpointStatus::bar(
                x,
                height,
                state_name(&c.state),
                format!("{}: {}, {status}, {} ms", to_rfc3339(c.checked_at), c.state, c.response_time_ms),
            )
        })
        .collect();
    EndpointStatus {
        endpoint: last.endpoint.clone(),
        state: state_name(&last.state),
        uptime: format!("{:.2}%", 100.0 * not_down as f64 / checks.len() as f64),
        avg_ms: sum / count,
        p95_ms: times.get(p95_index).copied().unwrap_or(0),
        checks: checks.len(),
        last_checked: to_rfc3339(last.checked_at),
        last_error: last.error.clone(),
        bars,
    }
}

impl EndpointStatus {
    fn bar(x: u32, height: u32, state: &'static str, label: String) -> Bar {
        Bar { x, y: CHART_HEIGHT - height, height, state, label }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(endpoint: &str, state: &str, ms: i64, at: Millis) -> CheckRow {
        CheckRow {
            endpoint: endpoint.into(),
            status_code: Some(if state == "down" { 500 } else { 200 }),
            response_time_ms: ms,
            state: state.into(),
            error: (state == "down").then(|| "HTTP 500".to_owned()),
            checked_at: at,
        }
    }

    #[test]
    fn uptime_and_response_times_are_computed_per_endpoint() {
        let now = 2 * WINDOW;
        let rows = vec![
            row("/", "up", 10, now - 3 * HOUR),
            row("/", "up", 30, now - 2 * HOUR),
            row("/", "down", 100, now - HOUR),
            row("/", "up", 20, now - 1),
            row("/about", "up", 5, now - HOUR),
        ];
        let view = build(rows, vec![], now);
        assert_eq!(view.overall, "up", "every endpoint is up now");
        let home = &view.endpoints[0];
        assert_eq!(home.uptime, "75.00%");
        assert_eq!(home.avg_ms, 40);
        assert_eq!(home.p95_ms, 100);
        assert_eq!(home.bars.len(), 4);
        assert_eq!(home.bars[2].state, "down");
        assert_eq!(home.bars[2].height, CHART_HEIGHT, "a failed probe is drawn full height");
        assert!(home.bars[0].x < home.bars[3].x, "bars run left to right in time");
        assert!(home.bars[3].x <= CHART_WIDTH - 2);
    }

    #[test]
    fn the_worst_current_state_sets_the_headline() {
        let now = WINDOW;
        let view = build(vec![row("/", "up", 1, now), row("/x", "down", 1, now)], vec![], now);
        assert_eq!((view.overall, view.headline), ("down", "Some systems are down"));
        let empty = build(vec![], vec![], now);
        assert_eq!(empty.overall, "unknown");
    }

    #[test]
    fn every_job_is_listed_with_its_last_outcome() {
        let now = 10 * DAY;
        let rows = vec![
            JobRow {
                job: "monitor".into(),
                started_at: now - 3 * MINUTE,
                duration_ms: 812,
                ok: 0,
                message: "configuration error: MONITOR_ENDPOINTS: ...".into(),
                last_ok_at: Some(now - DAY),
            },
            JobRow {
                job: "backup".into(),
                started_at: now - 5 * HOUR,
                duration_ms: 40,
                ok: 1,
                message: "daily/1970-01-10.sql: 9 rows".into(),
                last_ok_at: Some(now - 5 * HOUR),
            },
        ];
        let jobs = jobs(&rows, now);
        assert_eq!(jobs.len(), Job::ALL.len());
        let monitor = &jobs[0];
        assert_eq!((monitor.state, monitor.pill, monitor.ago.as_str()), ("failed", "down", "3 min ago"));
        assert_eq!(monitor.last_ok.as_deref(), Some("1970-01-10T00:00:00.000Z"), "since when it has failed");
        assert_eq!(monitor.duration, "812 ms");
        let backup = jobs.iter().find(|j| j.name == "backup").expect("listed");
        assert_eq!((backup.state, backup.last_ok.as_deref()), ("ok", None));
        let never = jobs.iter().find(|j| j.name == "cache-cleanup").expect("listed");
        assert_eq!((never.state, never.ago.as_str(), never.last_run.as_deref()), ("not run", "not run yet", None));
    }

    #[test]
    fn the_latest_backup_shows_its_age_and_size_and_goes_stale_after_a_missed_night() {
        let row = BackupRow {
            object_key: "daily/1970-01-10.sql".into(),
            bytes: 12_345,
            row_count: 9,
            migration: "0004_operations.sql".into(),
            created_at: 0,
        };
        let fresh = backup_view(&row, 5 * HOUR);
        assert_eq!((fresh.size.as_str(), fresh.age.as_str(), fresh.state), ("12.3 KB", "5 h ago", "current"));
        let stale = backup_view(&row, 27 * HOUR);
        assert_eq!((stale.state, stale.pill), ("stale", "down"));
        assert_eq!(ago(3 * DAY), "3 days ago");
        assert_eq!(ago(30_000), "just now");
    }
}
