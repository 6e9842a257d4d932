//! The data behind `/status`: each endpoint's current state, uptime and response times over the last
//! 24 hours, a bar per probe for the chart, and the recent alerts.

use super::monitor::State;
use super::store::{self, AlertRow, CheckRow};
use crate::error::Result;
use crate::storage::Database;
use crate::time::{HOUR, Millis, to_rfc3339};

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

#[derive(Debug, Clone, PartialEq)]
pub struct StatusView {
    /// `up` (all operational), `slow` (degraded), `down` (outage), or `unknown` (no checks yet).
    pub overall: &'static str,
    pub headline: &'static str,
    pub endpoints: Vec<EndpointStatus>,
    pub alerts: Vec<AlertView>,
    pub generated_at: String,
}

pub async fn load(db: &impl Database, now: Millis) -> Result<StatusView> {
    let rows = store::checks_since(db, now - WINDOW).await?;
    let alerts = store::recent_alerts(db, 10).await?;
    Ok(build(rows, alerts, now))
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
}
