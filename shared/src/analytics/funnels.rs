//! Funnels: steps counted in order per person (a signed-in user, else a browser session), each after
//! the previous and all within the funnel's window from the first.
//!
//! A report must not replay raw events: at a million events a funnel over 30 days read ~150,000 rows
//! and took over a second. So the 5-minute rollup keeps, per funnel, UTC day and person, the most steps
//! reached by a journey that *started* that day (`analytics_funnel_daily`), and a report counts people
//! from those rows: the best journey each person started in the range, its later steps may fall after
//! the range's end (within the window), as in product-analytics tools. Each run redoes only the people
//! with step events since the previous run, and only the days whose journeys those events can extend;
//! adding events can never shorten a journey, so a row only ever grows (`MAX`), and rows stay when
//! the raw events they came from are deleted at the end of their retention.
//!
//! A funnel is rolled up under its id and a hash of its definition: changing `ANALYTICS_FUNNELS`
//! starts that funnel afresh from the raw events still kept.

use super::ingest::day_of;
use super::reports::{Range, Report, Scope};
use super::rollup::{MAX_DAYS_PER_RUN, Rolled, first_event};
use crate::config::EnvSource;
use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use crate::time::{DAY, HOUR, Millis, start_of_day};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// One funnel step: an event type, and for page views the page (a trailing `*` matches a prefix).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Step {
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

impl Step {
    fn matches(&self, event: &str, page: Option<&str>) -> bool {
        if self.event != event {
            return false;
        }
        match (&self.page, page) {
            (None, _) => true,
            (Some(want), Some(page)) => match want.strip_suffix('*') {
                Some(prefix) => page.starts_with(prefix),
                None => want == page,
            },
            (Some(_), None) => false,
        }
    }

    /// `[event, page or prefix or null, is a prefix]`, for the rollup's SQL filter.
    fn filter(&self) -> Value {
        match &self.page {
            None => json!([self.event, null, false]),
            Some(page) => match page.strip_suffix('*') {
                Some(prefix) => json!([self.event, prefix, true]),
                None => json!([self.event, page, false]),
            },
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Funnel {
    pub id: String,
    pub name: String,
    pub steps: Vec<Step>,
    /// Every later step must happen within this many hours of the first.
    pub window_hours: i64,
}

impl Funnel {
    fn window(&self) -> Millis {
        self.window_hours * HOUR
    }

    /// The key its rollup rows are kept under: the id and a hash of what it counts.
    pub fn key(&self) -> String {
        let definition = json!({"steps": self.steps, "windowHours": self.window_hours}).to_string();
        format!("{}@{}", self.id, &hex::encode(Sha256::digest(definition.as_bytes()))[..12])
    }
}

fn default_funnels() -> Vec<Funnel> {
    let step = |event: &str, page: Option<&str>| Step { event: event.into(), page: page.map(str::to_owned) };
    vec![
        Funnel {
            id: "pricing-to-subscription".into(),
            name: "Pricing page to a subscription".into(),
            steps: vec![
                step("page.view", Some("/pricing")),
                step("checkout.started", None),
                step("subscription.started", None),
            ],
            window_hours: 7 * 24,
        },
        Funnel {
            id: "builder-to-github".into(),
            name: "FHIR Builder opened to a project pushed to GitHub".into(),
            steps: vec![
                step("page.view", Some("/tools/fhir-builder")),
                step("builder.generated", None),
                step("github.pushed", None),
            ],
            window_hours: 24,
        },
        Funnel {
            id: "course-completion".into(),
            name: "Course page to a completed course".into(),
            steps: vec![
                step("page.view", Some("/courses/*")),
                step("course.enrolled", None),
                step("course.completed", None),
            ],
            window_hours: 60 * 24,
        },
    ]
}

/// The longest window a funnel may have: the rollup rereads this much history for each active person.
pub const MAX_WINDOW_HOURS: i64 = 90 * 24;

/// The funnels: `ANALYTICS_FUNNELS` (a JSON array of `{id, name, steps: [{event, page?}], windowHours}`)
/// or the defaults.
pub fn funnels(env: &impl EnvSource) -> Result<Vec<Funnel>> {
    let Some(raw) = env.var("ANALYTICS_FUNNELS") else { return Ok(default_funnels()) };
    let funnels: Vec<Funnel> = serde_json::from_str(&raw)
        .map_err(|e| Error::Config(format!("ANALYTICS_FUNNELS is not a JSON array of funnels: {e}")))?;
    for f in &funnels {
        let id_ok = (1..=64).contains(&f.id.len())
            && f.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if f.steps.len() < 2 || !(1..=MAX_WINDOW_HOURS).contains(&f.window_hours) || !id_ok {
            return Err(Error::Config(format!(
                "ANALYTICS_FUNNELS: {:?} needs an id of 1 to 64 of a-z, 0-9 and '-', 2 or more steps and windowHours from 1 to {MAX_WINDOW_HOURS}",
                f.id
            )));
        }
    }
    Ok(funnels)
}

/// One person's events, in time order: (event type, page, time).
pub type Trail<'a> = [(&'a str, Option<&'a str>, Millis)];

/// How many steps the journey that starts at `trail[start]` (an occurrence of the first step) reaches:
/// each step the earliest match after the previous one, within the window from the start.
fn journey(funnel: &Funnel, trail: &Trail<'_>, start: usize) -> usize {
    let began = trail[start].2;
    let mut reached = 1;
    let mut last = began;
    for (event, page, at) in &trail[start + 1..] {
        if reached == funnel.steps.len() || *at > began + funnel.window() {
            break;
        }
        if *at >= last && funnel.steps[reached].matches(event, *page) {
            reached += 1;
            last = *at;
        }
    }
    reached
}

/// For each UTC day (from `from` on) on which this person started a journey, the most steps any
/// journey started that day reached.
pub fn depths_by_day(funnel: &Funnel, trail: &Trail<'_>, from: Millis) -> Vec<(Millis, usize)> {
    let mut days: Vec<(Millis, usize)> = Vec::new();
    for (i, (event, page, at)) in trail.iter().enumerate() {
        if *at < from || !funnel.steps[0].matches(event, *page) {
            continue;
        }
        let day = start_of_day(*at);
        match days.last_mut() {
            Some((d, best)) if *d == day => {
                if *best < funnel.steps.len() {
                    *best = (*best).max(journey(funnel, trail, i));
                }
            }
            _ => days.push((day, journey(funnel, trail, i))),
        }
    }
    days
}

#[derive(Deserialize)]
struct TrailRow {
    actor: String,
    org_id: Option<String>,
    event_type: String,
    page: Option<String>,
    created_at: i64,
}

/// Rows per upsert statement (each a JSON array bound as one parameter, well under D1's limits).
const UPSERT_CHUNK: usize = 2_000;

/// Rolls up every funnel: the people with step events since its last run (all of them the first
/// time), over the days those events can extend. Answers the rows written per funnel id.
pub async fn roll_up(db: &impl Database, funnels: &[Funnel], now: Millis) -> Result<Vec<(String, usize)>> {
    let today = start_of_day(now);
    let mut written = Vec::with_capacity(funnels.len());
    for funnel in funnels {
        let key = funnel.key();
        let rolled: Option<Rolled> = db
            .query_first(
                Statement::new("SELECT rolled_through FROM analytics_funnel_state WHERE funnel = ?1")
                    .bind(key.as_str()),
            )
            .await?;
        // As the daily rollups do, the last finished day is redone (events may arrive late), and a long
        // history is caught up over several runs: events before `until` this time.
        let since = match rolled {
            Some(r) => r.rolled_through - DAY,
            None => first_event(db, now).await?,
        };
        let until = start_of_day(since) + MAX_DAYS_PER_RUN * DAY;
        let from = start_of_day(since - funnel.window());
        let filters: Value = funnel.steps.iter().map(Step::filter).collect();
        let rows: Vec<TrailRow> = db
            .query(
                Statement::new(
                    // Each step's events through an index (type and page, or type alone), once each;
                    // then every step event since `from` of the people active since `since`.
                    "WITH steps AS (SELECT DISTINCT json_extract(value, '$[0]') AS event, json_extract(value, '$[1]') AS page,
                                           json_extract(value, '$[2]') AS prefix FROM json_each(?3)),
                          evts AS (SELECT CASE WHEN user_id IS NULL THEN 's:' || session_id ELSE 'u:' || user_id END AS actor,
                                          user_id, event_type, page, created_at
                                   FROM (SELECT 'b' AS source, a.id, a.user_id, a.session_id, a.event_type, a.page, a.created_at
                                         FROM steps s JOIN analytics_events a ON a.event_type = s.event AND a.created_at >= ?1 AND a.created_at < ?4
                                         WHERE s.page IS NULL
                                         UNION
                                         SELECT 'b', a.id, a.user_id, a.session_id, a.event_type, a.page, a.created_at
                                         FROM steps s JOIN analytics_events a
                                              ON a.event_type = s.event AND a.page = s.page AND a.created_at >= ?1 AND a.created_at < ?4
                                         WHERE NOT s.prefix
                                         UNION
                                         SELECT 'b', a.id, a.user_id, a.session_id, a.event_type, a.page, a.created_at
                                         FROM steps s JOIN analytics_events a
                                              ON a.event_type = s.event AND a.page >= s.page AND a.page < s.page || char(1114111)
                                                 AND a.created_at >= ?1 AND a.created_at < ?4
                                         WHERE s.prefix
                                         UNION
                                         SELECT 's', u.id, u.user_id, NULL, u.event_type, NULL, u.created_at
                                         FROM steps s JOIN user_events u ON u.event_type = s.event AND u.created_at >= ?1 AND u.created_at < ?4
                                         WHERE s.page IS NULL AND u.event_type <> 'page.view')
                                   WHERE coalesce(user_id, session_id) IS NOT NULL)
                     SELECT e.actor, u.org_id, e.event_type, e.page, e.created_at FROM evts e
                     LEFT JOIN users u ON u.id = e.user_id
                     WHERE e.actor IN (SELECT actor FROM evts WHERE created_at >= ?2)
                     ORDER BY e.actor, e.created_at",
                )
                .bind(from)
                .bind(since)
                .bind(filters.to_string())
                .bind(until),
            )
            .await?;
        let mut records: Vec<Value> = Vec::new();
        for person in rows.chunk_by(|a, b| a.actor == b.actor) {
            let trail: Vec<(&str, Option<&str>, Millis)> =
                person.iter().map(|r| (r.event_type.as_str(), r.page.as_deref(), r.created_at)).collect();
            for (day, depth) in depths_by_day(funnel, &trail, from) {
                records.push(json!([day_of(day), person[0].actor, person[0].org_id, depth]));
            }
        }
        let mut statements: Vec<Statement> = records
            .chunks(UPSERT_CHUNK)
            .map(|chunk| {
                Statement::new(
                    "INSERT INTO analytics_funnel_daily (funnel, day, actor, org_id, depth)
                     SELECT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
                            json_extract(value, '$[3]')
                     FROM json_each(?2) WHERE true
                     ON CONFLICT (funnel, day, actor) DO UPDATE SET depth = max(depth, excluded.depth), org_id = excluded.org_id
                     WHERE excluded.depth > analytics_funnel_daily.depth OR excluded.org_id IS NOT analytics_funnel_daily.org_id",
                )
                .bind(key.as_str())
                .bind(Value::from(chunk.to_vec()).to_string())
            })
            .collect();
        statements.push(
            Statement::new(
                "INSERT INTO analytics_funnel_state (funnel, rolled_through) VALUES (?1, ?2)
                 ON CONFLICT (funnel) DO UPDATE SET rolled_through = excluded.rolled_through",
            )
            .bind(key.as_str())
            .bind(if until > now { today } else { until }),
        );
        db.batch(statements).await?;
        written.push((funnel.id.clone(), records.len()));
    }
    Ok(written)
}

#[derive(Deserialize)]
struct DepthRow {
    depth: i64,
    people: i64,
}

/// Counts, per step, the people who reached it in order on a journey they started in the range.
pub async fn report(db: &impl Database, funnel: &Funnel, scope: &Scope, range: &Range) -> Result<Report> {
    let key = funnel.key();
    let (start, end) = (range.start.as_str(), range.end.as_str());
    let statement = match scope {
        Scope::Platform => Statement::new(
            "SELECT depth, COUNT(*) AS people FROM (
                 SELECT MAX(depth) AS depth FROM analytics_funnel_daily
                 WHERE funnel = ?1 AND day BETWEEN ?2 AND ?3 GROUP BY actor)
             GROUP BY depth",
        )
        .bind(key.as_str())
        .bind(start)
        .bind(end),
        Scope::Organisation(org) => Statement::new(
            "SELECT depth, COUNT(*) AS people FROM (
                 SELECT MAX(depth) AS depth FROM analytics_funnel_daily
                 WHERE funnel = ?1 AND day BETWEEN ?2 AND ?3 AND org_id = ?4 GROUP BY actor)
             GROUP BY depth",
        )
        .bind(key.as_str())
        .bind(start)
        .bind(end)
        .bind(org.as_str()),
    };
    let depths: Vec<DepthRow> = db.query(statement).await?;
    // People who reached step k: those whose best journey went at least k + 1 steps.
    let reached: Vec<i64> =
        (0..funnel.steps.len()).map(|k| depths.iter().filter(|d| d.depth > k as i64).map(|d| d.people).sum()).collect();
    let rate = |n: i64, of: i64| if of == 0 { 0.0 } else { n as f64 / of as f64 };
    // Per step: the step, its people, and its conversion from the step before and from the first.
    let per_step: Vec<(&Step, i64, f64, f64)> = funnel
        .steps
        .iter()
        .zip(&reached)
        .enumerate()
        .map(|(k, (step, &n))| (step, n, rate(n, reached[k.saturating_sub(1)]), rate(n, reached[0])))
        .collect();
    Ok(Report {
        json: json!({"funnel": funnel.id, "name": funnel.name, "windowHours": funnel.window_hours, "range": range,
                     "steps": per_step.iter().map(|(step, n, previous, start)| json!({
                         "event": step.event, "page": step.page, "count": n,
                         "conversionFromPrevious": previous, "conversionFromStart": start})).collect::<Vec<_>>()}),
        header: vec!["step", "event", "page", "people", "conversion_from_previous", "conversion_from_start"],
        rows: per_step
            .iter()
            .enumerate()
            .map(|(k, (step, n, previous, start))| {
                vec![
                    (k + 1).to_string(),
                    step.event.clone(),
                    step.page.clone().unwrap_or_default(),
                    n.to_string(),
                    format!("{previous:.4}"),
                    format!("{start:.4}"),
                ]
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::rollup::tests::{T0, event, two_users_one_in_org1};
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;

    const H: Millis = 3_600_000;

    fn counts(db: &SqliteDb, f: &Funnel, scope: &Scope, start: &str, end: &str) -> Vec<i64> {
        let range = Range::parse(Some(start), Some(end), T0).expect("range");
        let result = block_on(report(db, f, scope, &range)).expect("funnel").json;
        result["steps"].as_array().expect("steps").iter().map(|s| s["count"].as_i64().unwrap_or(-1)).collect()
    }

    #[test]
    fn funnel_steps_count_only_in_order_and_within_the_window() {
        let db = SqliteDb::with_schema();
        let f = &default_funnels()[1]; // builder page -> generated -> pushed, within 24 h
        let p = Some("/tools/fhir-builder");
        // u1: all three in order.
        event(&db, "page.view", Some("u1"), "s1", p, T0 + H);
        event(&db, "builder.generated", Some("u1"), "s1", None, T0 + 2 * H);
        event(&db, "github.pushed", Some("u1"), "s1", None, T0 + 3 * H);
        // u2: pushed before generating (out of order): two steps.
        event(&db, "page.view", Some("u2"), "s2", p, T0 + H);
        event(&db, "github.pushed", Some("u2"), "s2", None, T0 + 2 * H);
        event(&db, "builder.generated", Some("u2"), "s2", None, T0 + 3 * H);
        // u3: generated 30 h after opening (outside the window): one step.
        event(&db, "page.view", Some("u3"), "s3", p, T0 + H);
        event(&db, "builder.generated", Some("u3"), "s3", None, T0 + 31 * H);
        // u4: a later visit starts a full run within its own window.
        event(&db, "page.view", Some("u4"), "s4", p, T0 + H);
        event(&db, "page.view", Some("u4"), "s4", p, T0 + 40 * H);
        event(&db, "builder.generated", Some("u4"), "s4", None, T0 + 41 * H);
        event(&db, "github.pushed", Some("u4"), "s4", None, T0 + 42 * H);
        // An anonymous session that only looked, and a page that is not the builder.
        event(&db, "page.view", None, "anon-1", p, T0 + H);
        event(&db, "page.view", Some("u5"), "s5", Some("/pricing"), T0 + H);
        block_on(roll_up(&db, std::slice::from_ref(f), T0 + 3 * DAY)).expect("rollup");
        assert_eq!(counts(&db, f, &Scope::Platform, "2025-12-01", "2025-12-03"), [5, 3, 2]);
        let range = Range::parse(Some("2025-12-01"), Some("2025-12-03"), T0).expect("range");
        let result = block_on(report(&db, f, &Scope::Platform, &range)).expect("funnel");
        assert_eq!(result.json["steps"][1]["conversionFromPrevious"], 0.6);
        assert_eq!(result.rows[1], ["2", "builder.generated", "", "3", "0.6000", "0.6000"]);
        // Journeys are counted on the day they start: on 12-01 alone, u4's first visit went nowhere.
        assert_eq!(counts(&db, f, &Scope::Platform, "2025-12-01", "2025-12-01"), [5, 2, 1]);
        assert_eq!(counts(&db, f, &Scope::Platform, "2025-12-02", "2025-12-02"), [1, 1, 1]);
    }

    #[test]
    fn later_runs_extend_journeys_and_count_only_their_organisation() {
        let db = two_users_one_in_org1();
        let f = &default_funnels()[0]; // pricing -> checkout -> subscribed, within 7 days
        event(&db, "page.view", Some("a"), "sa", Some("/pricing"), T0 + H);
        event(&db, "page.view", Some("b"), "sb", Some("/pricing"), T0 + H);
        // An anonymous session whose id is a member's user id is still not that member.
        event(&db, "page.view", None, "a", Some("/pricing"), T0 + H);
        block_on(roll_up(&db, std::slice::from_ref(f), T0 + DAY)).expect("first run");
        let org = Scope::Organisation("org1".into());
        assert_eq!(counts(&db, f, &Scope::Platform, "2025-12-01", "2025-12-10"), [3, 0, 0]);
        assert_eq!(counts(&db, f, &org, "2025-12-01", "2025-12-10"), [1, 0, 0]);
        // Five days later both check out and one subscribes: a later run extends the 12-01 journeys.
        event(&db, "checkout.started", Some("a"), "sa2", None, T0 + 5 * DAY);
        event(&db, "checkout.started", Some("b"), "sb2", None, T0 + 5 * DAY);
        event(&db, "subscription.started", Some("a"), "sa2", None, T0 + 5 * DAY + H);
        block_on(roll_up(&db, std::slice::from_ref(f), T0 + 5 * DAY + 2 * H)).expect("later run");
        assert_eq!(counts(&db, f, &Scope::Platform, "2025-12-01", "2025-12-01"), [3, 2, 1]);
        assert_eq!(counts(&db, f, &org, "2025-12-01", "2025-12-01"), [1, 1, 1]);
        assert_eq!(counts(&db, f, &Scope::Organisation("org2".into()), "2025-12-01", "2025-12-01"), [0, 0, 0]);
        // The raw events go at the end of their retention; the rollup keeps the journeys.
        block_on(crate::analytics::rollup::delete_before(&db, T0 + 30 * DAY)).expect("retention");
        block_on(roll_up(&db, std::slice::from_ref(f), T0 + 31 * DAY)).expect("after retention");
        assert_eq!(counts(&db, f, &Scope::Platform, "2025-12-01", "2025-12-01"), [3, 2, 1]);
        // A changed definition is a different funnel, rolled up afresh.
        let mut longer = f.clone();
        longer.window_hours = 8 * 24;
        assert_ne!(longer.key(), f.key());
        assert_eq!(counts(&db, &longer, &Scope::Platform, "2025-12-01", "2025-12-01"), [0, 0, 0]);
    }

    #[test]
    fn a_long_history_is_caught_up_over_several_runs() {
        let db = SqliteDb::with_schema();
        let f = &default_funnels()[1];
        let later = T0 + (MAX_DAYS_PER_RUN + 8) * DAY;
        for (user, at) in [("u1", T0), ("u2", later)] {
            event(&db, "page.view", Some(user), user, Some("/tools/fhir-builder"), at);
            event(&db, "builder.generated", Some(user), user, None, at + H);
        }
        let all = |db: &SqliteDb| counts(db, f, &Scope::Platform, "2025-12-01", &day_of(later));
        block_on(roll_up(&db, std::slice::from_ref(f), later + DAY)).expect("first run");
        assert_eq!(all(&db), [1, 1, 0], "the first run stops after {MAX_DAYS_PER_RUN} days");
        block_on(roll_up(&db, std::slice::from_ref(f), later + DAY)).expect("second run");
        assert_eq!(all(&db), [2, 2, 0]);
    }

    #[test]
    fn depths_are_kept_per_start_day() {
        let f = &default_funnels()[0];
        let trail = [
            ("page.view", Some("/pricing"), T0 + H),
            ("page.view", Some("/pricing"), T0 + 2 * H),
            ("page.view", Some("/pricing"), T0 + DAY + H),
            ("checkout.started", None, T0 + DAY + 2 * H),
            ("page.view", Some("/other"), T0 + DAY + 3 * H),
        ];
        assert_eq!(depths_by_day(f, &trail, T0), [(T0, 2), (T0 + DAY, 2)]);
        assert_eq!(depths_by_day(f, &trail, T0 + DAY), [(T0 + DAY, 2)], "starts before `from` are not redone");
        let defined = |hours: i64| {
            format!(r#"[{{"id":"x","name":"x","steps":[{{"event":"a"}},{{"event":"b"}}],"windowHours":{hours}}}]"#)
        };
        let (too_long, longest) = (defined(MAX_WINDOW_HOURS + 1), defined(MAX_WINDOW_HOURS));
        let env = |json: &str| funnels(&std::collections::HashMap::from([("ANALYTICS_FUNNELS", json)]));
        assert!(env(&too_long).is_err(), "a window longer than the rollup rereads is refused");
        assert_eq!(env(&longest).map(|f| f.len()).ok(), Some(1));
        assert!(env(&longest.replace(r#""id":"x""#, r#""id":"x\"y""#)).is_err(), "ids are plain slugs");
    }
}
