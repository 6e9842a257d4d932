//! Reports from the daily rollups (funnels are in `super::funnels`), for one scope:
//! the whole platform (staff) or one organisation's members (its enterprise owner). Every report can
//! also be written as CSV.

use super::ingest::day_of;
use crate::auth::{Caller, Permission};
use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use crate::time::{DAY, Millis, parse_rfc3339, start_of_day};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Whose activity a report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Platform,
    Organisation(String),
}

impl Scope {
    /// Staff see the platform; an enterprise owner sees their organisation; anyone else is refused.
    pub fn of(caller: &Caller) -> Result<Self> {
        if caller.admin {
            return Ok(Self::Platform);
        }
        if !caller.role.has(Permission::AnalyticsDashboard) {
            return Err(Error::Forbidden("The analytics dashboard is part of the Enterprise plan.".into()));
        }
        match (&caller.org_id, caller.org_owner) {
            (Some(org), true) => Ok(Self::Organisation(org.clone())),
            (Some(_), false) => Err(Error::Forbidden("Only the organisation's owner sees its analytics.".into())),
            // No organisation yet: one that matches nobody, so the dashboard is empty, not the platform's.
            (None, _) => Ok(Self::Organisation(format!("none:{}", caller.user_id))),
        }
    }

    pub fn key(&self) -> &str {
        match self {
            Self::Platform => "*",
            Self::Organisation(id) => id,
        }
    }
}

/// Inclusive UTC days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Range {
    pub start: String,
    pub end: String,
    #[serde(skip)]
    pub start_ms: Millis,
    #[serde(skip)]
    pub end_ms: Millis,
}

pub const MAX_RANGE_DAYS: i64 = 366;

impl Range {
    /// `?start=YYYY-MM-DD&end=YYYY-MM-DD`; the last 30 days by default.
    pub fn parse(start: Option<&str>, end: Option<&str>, now: Millis) -> Result<Self> {
        let day = |name: &str, value: &str| {
            parse_rfc3339(&format!("{value}T00:00:00Z"))
                .filter(|ms| day_of(*ms) == value)
                .ok_or_else(|| Error::BadRequest(format!("{name} must be a date like 2026-12-01, not {value:?}")))
        };
        let today = start_of_day(now);
        let end_ms = match end {
            Some(e) => day("end", e)?,
            None => today,
        };
        let start_ms = match start {
            Some(s) => day("start", s)?,
            None => end_ms - 29 * DAY,
        };
        if start_ms > end_ms {
            return Err(Error::BadRequest("start is after end".into()));
        }
        if (end_ms - start_ms) / DAY >= MAX_RANGE_DAYS {
            return Err(Error::BadRequest(format!("a report covers at most {MAX_RANGE_DAYS} days")));
        }
        Ok(Self { start: day_of(start_ms), end: day_of(end_ms), start_ms, end_ms: end_ms + DAY })
    }

    pub fn days(&self) -> Vec<String> {
        (0..(self.end_ms - self.start_ms) / DAY).map(|i| day_of(self.start_ms + i * DAY)).collect()
    }
}

pub const REPORTS: [&str; 5] = ["user-engagement", "feature-usage", "ai-usage", "course-progress", "tool-usage"];

#[derive(Deserialize)]
struct DayRow {
    day: String,
    events: i64,
    users: i64,
    visitors: i64,
    sessions: i64,
    session_seconds: i64,
}

#[derive(Deserialize)]
struct TypeRow {
    event_type: String,
    events: i64,
    users: i64,
}

#[derive(Deserialize)]
struct TypeDayRow {
    day: String,
    event_type: String,
    events: i64,
}

#[derive(Deserialize)]
struct AiRow {
    day: String,
    provider: String,
    questions: i64,
    users: i64,
    input_tokens: i64,
    output_tokens: i64,
    latency_ms: i64,
}

#[derive(Deserialize)]
struct PageRow {
    page: String,
    views: i64,
    visitors: i64,
}

/// A report: a JSON body for the dashboard and the rows of its CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub json: Value,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

fn avg(total: i64, n: i64) -> i64 {
    total.checked_div(n).unwrap_or(0)
}

pub const COURSE_EVENTS: [&str; 4] = ["course.enrolled", "lesson.completed", "quiz.submitted", "course.completed"];
pub const TOOL_EVENTS: [&str; 4] = ["assistant.asked", "builder.previewed", "builder.generated", "github.pushed"];

pub async fn report(db: &impl Database, name: &str, scope: &Scope, range: &Range) -> Result<Report> {
    let bind =
        |sql: &'static str| Statement::new(sql).bind(scope.key()).bind(range.start.as_str()).bind(range.end.as_str());
    match name {
        "user-engagement" => {
            let rows: Vec<DayRow> = db
                .query(bind(
                    "SELECT day, events, users, visitors, sessions, session_seconds FROM analytics_daily
                     WHERE scope = ?1 AND event_type = '*' AND day BETWEEN ?2 AND ?3 ORDER BY day",
                ))
                .await?;
            let days: Vec<Value> = range
                .days()
                .into_iter()
                .map(|day| {
                    let r = rows.iter().find(|r| r.day == day);
                    let get = |f: fn(&DayRow) -> i64| r.map_or(0, f);
                    json!({"day": day, "activeUsers": get(|r| r.users), "visitors": get(|r| r.visitors),
                           "events": get(|r| r.events), "sessions": get(|r| r.sessions),
                           "avgSessionSeconds": avg(get(|r| r.session_seconds), get(|r| r.sessions))})
                })
                .collect();
            let sum = |f: fn(&DayRow) -> i64| rows.iter().map(f).sum::<i64>();
            let table = days
                .iter()
                .map(|d| {
                    ["day", "activeUsers", "visitors", "events", "sessions", "avgSessionSeconds"]
                        .iter()
                        .map(|k| cell(&d[*k]))
                        .collect()
                })
                .collect();
            Ok(Report {
                json: json!({"report": name, "range": range, "days": days, "totals": {
                    "events": sum(|r| r.events), "activeUserDays": sum(|r| r.users), "sessions": sum(|r| r.sessions),
                    "avgSessionSeconds": avg(sum(|r| r.session_seconds), sum(|r| r.sessions))}}),
                header: vec!["day", "active_users", "visitors", "events", "sessions", "avg_session_seconds"],
                rows: table,
            })
        }
        "feature-usage" => {
            let rows: Vec<TypeRow> = db
                .query(bind(
                    "SELECT event_type, SUM(events) AS events, SUM(users) AS users FROM analytics_daily
                     WHERE scope = ?1 AND event_type <> '*' AND day BETWEEN ?2 AND ?3
                     GROUP BY event_type ORDER BY events DESC, event_type",
                ))
                .await?;
            Ok(Report {
                json: json!({"report": name, "range": range, "features": rows.iter().map(|r| json!({
                    "type": r.event_type, "events": r.events, "userDays": r.users})).collect::<Vec<_>>()}),
                header: vec!["event_type", "events", "user_days"],
                rows: rows
                    .iter()
                    .map(|r| vec![r.event_type.clone(), r.events.to_string(), r.users.to_string()])
                    .collect(),
            })
        }
        "ai-usage" => {
            let rows: Vec<AiRow> = db
                .query(bind(
                    "SELECT day, provider, questions, users, input_tokens, output_tokens, latency_ms FROM analytics_daily_ai
                     WHERE scope = ?1 AND day BETWEEN ?2 AND ?3 ORDER BY day, provider",
                ))
                .await?;
            let mut providers: Vec<String> = rows.iter().map(|r| r.provider.clone()).collect();
            providers.sort();
            providers.dedup();
            let by_provider: Vec<Value> = providers
                .iter()
                .map(|p| {
                    let mine = rows.iter().filter(|r| &r.provider == p);
                    let (q, i, o, l) = mine.fold((0, 0, 0, 0), |(q, i, o, l), r| {
                        (q + r.questions, i + r.input_tokens, o + r.output_tokens, l + r.latency_ms)
                    });
                    json!({"provider": p, "questions": q, "inputTokens": i, "outputTokens": o, "avgLatencyMs": avg(l, q)})
                })
                .collect();
            let days: Vec<Value> = range
                .days()
                .into_iter()
                .map(|day| {
                    let today = rows.iter().filter(|r| r.day == day);
                    let (q, t) =
                        today.fold((0, 0), |(q, t), r| (q + r.questions, t + r.input_tokens + r.output_tokens));
                    json!({"day": day, "questions": q, "tokens": t})
                })
                .collect();
            Ok(Report {
                json: json!({"report": name, "range": range, "days": days, "providers": by_provider}),
                header: vec![
                    "day",
                    "provider",
                    "questions",
                    "users",
                    "input_tokens",
                    "output_tokens",
                    "avg_latency_ms",
                ],
                rows: rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.day.clone(),
                            r.provider.clone(),
                            r.questions.to_string(),
                            r.users.to_string(),
                            r.input_tokens.to_string(),
                            r.output_tokens.to_string(),
                            avg(r.latency_ms, r.questions).to_string(),
                        ]
                    })
                    .collect(),
            })
        }
        "course-progress" | "tool-usage" => {
            let kinds: &[&str] = if name == "course-progress" { &COURSE_EVENTS } else { &TOOL_EVENTS };
            let rows: Vec<TypeDayRow> = db
                .query(
                    bind(
                        "SELECT day, event_type, events FROM analytics_daily
                         WHERE scope = ?1 AND day BETWEEN ?2 AND ?3 AND event_type IN (SELECT value FROM json_each(?4))
                         ORDER BY day, event_type",
                    )
                    .bind(json!(kinds).to_string()),
                )
                .await?;
            let totals: Vec<Value> = kinds
                .iter()
                .map(|k| json!({"type": k, "events": rows.iter().filter(|r| r.event_type == *k).map(|r| r.events).sum::<i64>()}))
                .collect();
            let days: Vec<Value> = range
                .days()
                .into_iter()
                .map(|day| {
                    let mut row = json!({"day": day});
                    for k in kinds {
                        row[*k] = json!(
                            rows.iter().filter(|r| r.day == day && r.event_type == *k).map(|r| r.events).sum::<i64>()
                        );
                    }
                    row
                })
                .collect();
            let mut body = json!({"report": name, "range": range, "days": days, "totals": totals});
            if name == "tool-usage" {
                let pages: Vec<PageRow> = db
                    .query(bind(
                        "SELECT page, SUM(views) AS views, SUM(visitors) AS visitors FROM analytics_daily_pages
                         WHERE scope = ?1 AND day BETWEEN ?2 AND ?3
                           AND (page LIKE '/tools%' OR page IN ('/chat', '/search') OR page LIKE '/fhir/R4%')
                         GROUP BY page ORDER BY views DESC, page LIMIT 50",
                    ))
                    .await?;
                body["pages"] = json!(
                    pages
                        .iter()
                        .map(|p| json!({"page": p.page, "views": p.views, "visitorDays": p.visitors}))
                        .collect::<Vec<_>>()
                );
            }
            Ok(Report {
                json: body,
                header: vec!["day", "event_type", "events"],
                rows: rows.iter().map(|r| vec![r.day.clone(), r.event_type.clone(), r.events.to_string()]).collect(),
            })
        }
        other => Err(Error::NotFound(format!("There is no report {other:?}; use {}.", REPORTS.join(", ")))),
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// RFC 4180 CSV. A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`) is prefixed with `'`.
pub fn csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let field = |raw: &str| {
        let safe = if raw.starts_with(['=', '+', '-', '@']) && raw.parse::<f64>().is_err() {
            format!("'{raw}")
        } else {
            raw.to_owned()
        };
        if safe.contains([',', '"', '\n', '\r']) { format!("\"{}\"", safe.replace('"', "\"\"")) } else { safe }
    };
    let mut out = header.iter().map(|h| field(h)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::rollup;
    use crate::analytics::rollup::tests::{T0, event};
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;
    use proptest::collection::vec;
    use proptest::prelude::*;

    const H: Millis = 3_600_000;

    #[test]
    fn reports_read_the_rollups_and_fill_empty_days() {
        let db = SqliteDb::with_schema();
        event(&db, "page.view", Some("u1"), "s1", Some("/tools/builder"), T0 + H);
        event(&db, "builder.generated", Some("u1"), "s1", None, T0 + 2 * H);
        block_on(rollup::run(&db, T0 + DAY + H)).expect("rollup");
        let range = Range::parse(Some("2025-11-30"), Some("2025-12-02"), T0).expect("range");
        let engagement = block_on(report(&db, "user-engagement", &Scope::Platform, &range)).expect("report");
        let days = engagement.json["days"].as_array().expect("days");
        assert_eq!(days.len(), 3);
        assert_eq!(
            (days[0]["events"].as_i64(), days[1]["events"].as_i64(), days[1]["activeUsers"].as_i64()),
            (Some(0), Some(2), Some(1))
        );
        assert_eq!(days[1]["avgSessionSeconds"], 3600);
        let features = block_on(report(&db, "feature-usage", &Scope::Platform, &range)).expect("report");
        assert_eq!(features.rows.len(), 2);
        let tools = block_on(report(&db, "tool-usage", &Scope::Platform, &range)).expect("report");
        assert_eq!(tools.json["pages"][0]["page"], "/tools/builder");
        let other =
            block_on(report(&db, "feature-usage", &Scope::Organisation("org-x".into()), &range)).expect("report");
        assert!(other.rows.is_empty(), "another organisation sees nothing of these");
        assert_eq!(block_on(report(&db, "nope", &Scope::Platform, &range)).expect_err("404").status_code(), 404);
    }

    #[test]
    fn ranges_and_csv() {
        assert!(Range::parse(Some("2025-12-31"), Some("2025-12-01"), T0).is_err());
        assert!(Range::parse(Some("2025-02-30"), None, T0).is_err());
        assert!(Range::parse(Some("2024-01-01"), Some("2025-12-01"), T0).is_err(), "over a year");
        assert_eq!(Range::parse(None, None, T0).expect("default").days().len(), 30);
        let out = csv(&["a", "b"], &[vec!["=HYPERLINK(\"x\")".into(), "1,5".into()], vec!["-3".into(), "ok".into()]]);
        assert_eq!(out, "a,b\r\n\"'=HYPERLINK(\"\"x\"\")\",\"1,5\"\r\n-3,ok\r\n");
    }

    /// RFC 4180 read strictly: records end in CRLF, a quoted field doubles its quotes and may hold
    /// commas, quotes, CR and LF, an unquoted field holds none of them. `None` for anything else.
    fn parse_rfc4180(text: &str) -> Option<Vec<Vec<String>>> {
        let mut records = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let mut record = Vec::new();
            loop {
                let field;
                if let Some(quoted) = rest.strip_prefix('"') {
                    let mut value = String::new();
                    let mut chars = quoted.char_indices();
                    let end = loop {
                        match chars.next()? {
                            (i, '"') if quoted[i + 1..].starts_with('"') => {
                                value.push('"');
                                chars.next();
                            }
                            (i, '"') => break i + 1,
                            (_, c) => value.push(c),
                        }
                    };
                    field = value;
                    rest = &quoted[end..];
                } else {
                    let end = rest.find([',', '\r', '\n', '"']).unwrap_or(rest.len());
                    field = rest[..end].to_owned();
                    rest = &rest[end..];
                }
                record.push(field);
                if let Some(next) = rest.strip_prefix(',') {
                    rest = next;
                } else {
                    rest = rest.strip_prefix("\r\n")?;
                    break;
                }
            }
            records.push(record);
        }
        Some(records)
    }

    /// Cells a report may hold: numbers, formulas, quotes, separators, line breaks and any text.
    fn cell() -> impl Strategy<Value = String> {
        let fragment = prop_oneof![
            Just(",".to_owned()),
            Just("\"".to_owned()),
            Just("\r".to_owned()),
            Just("\n".to_owned()),
            Just("\r\n".to_owned()),
            Just("'".to_owned()),
            "[=+@-]",
            "-?[0-9]{1,4}(\\.[0-9]{1,3})?",
            ".{0,6}",
        ];
        vec(fragment, 0..6).prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(crate::testing::properties(1_000))]

        #[test]
        fn every_cell_reads_back_from_the_csv_and_none_starts_a_formula(
            header in vec("[A-Za-z ,\"]{0,8}", 1..5),
            rows in vec(vec(cell(), 1..6), 0..6),
        ) {
            let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
            let out = csv(&header_refs, &rows);
            let records = parse_rfc4180(&out);
            prop_assert!(records.is_some(), "not RFC 4180: {:?}", out);
            let records = records.expect("checked");
            prop_assert_eq!(records.len(), rows.len() + 1);
            let written = std::iter::once(&header).chain(&rows);
            for (record, cells) in records.iter().zip(written) {
                prop_assert_eq!(record.len(), cells.len(), "{:?}", out);
                for (read, raw) in record.iter().zip(cells) {
                    // A formula gains a leading `'`; a number such as -3 is left alone.
                    let formula = raw.starts_with(['=', '+', '-', '@']) && raw.parse::<f64>().is_err();
                    let expected = if formula { format!("'{raw}") } else { raw.clone() };
                    prop_assert_eq!(read, &expected);
                    prop_assert!(!read.starts_with(['=', '+', '-', '@']) || read.parse::<f64>().is_ok());
                }
            }
        }
    }
}
