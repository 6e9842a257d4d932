//! The 5-minute monitor: probe every configured endpoint, record each result, and alert when an
//! endpoint's state differs from the state last announced, so a state that holds never alerts twice
//! and a failed alert is retried on the next run.

use super::endpoints::Endpoint;
pub use super::probe::{Alert, AlertKind, Probe, State};
use super::store;
use crate::config::{EnvSource, Environment, Secret, environment, number, optional_secret, required_secret, vars};
use crate::error::{Error, Result};
use crate::storage::Database;
use crate::time::{Clock, with_timeout};
use serde::Serialize;

/// The cron monitor's settings.
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    pub endpoints: Vec<Endpoint>,
    /// A response slower than this counts as slow and alerts.
    pub slow_ms: u64,
    /// A request still unanswered after this counts as down.
    pub timeout_ms: u64,
    /// Slack incoming webhook. Required in production; without it in development alerts go to the log.
    pub slack_webhook: Option<Secret>,
}

impl MonitorConfig {
    /// From `MONITOR_ENDPOINTS`, `MONITOR_SLOW_MS`, `MONITOR_TIMEOUT_MS` and `SLACK_WEBHOOK_URL`.
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        let endpoints = match env.var(vars::MONITOR_ENDPOINTS).filter(|v| !v.trim().is_empty()) {
            Some(list) => Endpoint::parse_list(&list)?,
            None => Endpoint::defaults(),
        };
        let slack_webhook = match environment(env)? {
            Environment::Production => Some(required_secret(env, vars::SLACK_WEBHOOK_URL)?),
            Environment::Development => optional_secret(env, vars::SLACK_WEBHOOK_URL),
        };
        if let Some(url) = &slack_webhook
            && !(url.expose().starts_with("https://") || url.expose().starts_with("http://"))
        {
            return Err(Error::Config(format!("{} must be an http(s) URL", vars::SLACK_WEBHOOK_URL)));
        }
        Ok(Self {
            endpoints,
            slow_ms: number(env, vars::MONITOR_SLOW_MS, 5_000, 1..=60_000)?,
            timeout_ms: number(env, vars::MONITOR_TIMEOUT_MS, 10_000, 100..=60_000)?,
            slack_webhook,
        })
    }
}

/// How the site answers a probe: an HTTP status, or why no status came back.
pub trait Prober {
    async fn get(&self, endpoint: &Endpoint) -> std::result::Result<u16, String>;
}

/// Where alerts go: Slack in production, the log when no webhook is configured.
pub trait Notifier {
    async fn notify(&self, alert: &Alert) -> Result<()>;
}

/// Down: no answer, or an error status (4xx means a page is missing, 5xx that it broke).
/// Slow: answered well but later than the threshold. Up otherwise.
pub fn classify(
    answer: Option<std::result::Result<u16, String>>,
    response_ms: u64,
    config: &MonitorConfig,
) -> (State, Option<u16>, Option<String>) {
    match answer {
        None => (State::Down, None, Some(format!("no response within {} ms", config.timeout_ms))),
        Some(Err(why)) => (State::Down, None, Some(why)),
        Some(Ok(code)) if code >= 400 => (State::Down, Some(code), Some(format!("HTTP {code}"))),
        Some(Ok(code)) if response_ms > config.slow_ms => {
            (State::Slow, Some(code), Some(format!("{response_ms} ms is over the {} ms threshold", config.slow_ms)))
        }
        Some(Ok(code)) => (State::Up, Some(code), None),
    }
}

async fn probe_one(prober: &impl Prober, clock: &impl Clock, config: &MonitorConfig, endpoint: &Endpoint) -> Probe {
    let started = clock.now_ms();
    let answer = with_timeout(clock, config.timeout_ms, prober.get(endpoint)).await;
    let response_ms = u64::try_from(clock.now_ms() - started).unwrap_or(0);
    let (state, status_code, error) = classify(answer, response_ms, config);
    Probe { endpoint: endpoint.name().to_owned(), status_code, response_ms, state, error, checked_at: started }
}

/// The alert owed when an endpoint is now `current` and was last announced as `announced`
/// (`None`: never seen, which counts as up, so a new healthy endpoint raises nothing).
pub fn alert_kind(announced: Option<State>, current: State) -> Option<AlertKind> {
    let announced = announced.unwrap_or(State::Up);
    if announced == current {
        return None;
    }
    Some(match current {
        State::Down => AlertKind::Down,
        State::Slow => AlertKind::Slow,
        State::Up => AlertKind::Recovered,
    })
}

#[derive(Debug, Default, Serialize)]
pub struct CycleSummary {
    pub probes: Vec<Probe>,
    pub alerts_sent: Vec<String>,
    pub alerts_failed: Vec<String>,
}

/// One monitor run: probe all endpoints concurrently, store each result, then settle alerts.
pub async fn run_cycle(
    db: &impl Database,
    prober: &impl Prober,
    notifier: &impl Notifier,
    clock: &impl Clock,
    config: &MonitorConfig,
) -> Result<CycleSummary> {
    let probes = futures::future::join_all(config.endpoints.iter().map(|e| probe_one(prober, clock, config, e))).await;
    let mut summary = CycleSummary::default();
    for probe in &probes {
        let announced = store::notified_state(db, &probe.endpoint).await?;
        db.batch(vec![store::insert_check(probe), store::upsert_state(probe)]).await?;
        let Some(kind) = alert_kind(announced, probe.state) else {
            continue;
        };
        let alert = Alert { endpoint: probe.endpoint.clone(), kind, probe: probe.clone() };
        let now = clock.now_ms();
        match notifier.notify(&alert).await {
            Ok(()) => {
                db.batch(vec![
                    store::set_notified(&alert.endpoint, probe.state),
                    store::insert_alert(&alert, true, None, now),
                ])
                .await?;
                summary.alerts_sent.push(alert.message());
            }
            Err(e) => {
                // notified_state stays as it was, so the next run tries again.
                db.execute(store::insert_alert(&alert, false, Some(e.to_string()), now)).await?;
                summary.alerts_failed.push(format!("{}: {e}", alert.message()));
            }
        }
    }
    summary.probes = probes;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Statement;
    use crate::storage::sqlite::SqliteDb;
    use crate::time::testing::FixedClock;
    use futures::executor::block_on;
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// Answers each endpoint with a scripted status (or failure), changeable between runs.
    #[derive(Default)]
    struct ScriptedSite(RefCell<HashMap<String, std::result::Result<u16, String>>>);

    impl ScriptedSite {
        fn set(&self, endpoint: &str, answer: std::result::Result<u16, String>) {
            self.0.borrow_mut().insert(endpoint.to_owned(), answer);
        }
    }

    impl Prober for ScriptedSite {
        async fn get(&self, endpoint: &Endpoint) -> std::result::Result<u16, String> {
            self.0.borrow().get(endpoint.name()).cloned().unwrap_or(Ok(200))
        }
    }

    #[derive(Default)]
    struct RecordingNotifier {
        sent: RefCell<Vec<String>>,
        failing: std::cell::Cell<bool>,
    }

    impl Notifier for RecordingNotifier {
        async fn notify(&self, alert: &Alert) -> Result<()> {
            if self.failing.get() {
                return Err(Error::upstream("posting to Slack", "HTTP 500"));
            }
            self.sent.borrow_mut().push(alert.message());
            Ok(())
        }
    }

    #[test]
    fn monitor_defaults_apply_when_nothing_is_set() {
        let env: HashMap<&str, &str> = HashMap::new();
        let monitor = MonitorConfig::from_env(&env).expect("defaults are valid");
        assert_eq!(monitor.slow_ms, 5_000);
        assert!(monitor.slack_webhook.is_none());
        assert_eq!(monitor.endpoints, Endpoint::defaults());
    }

    #[test]
    fn production_without_the_slack_secret_is_an_error_naming_it() {
        let env = HashMap::from([("ENVIRONMENT", "production")]);
        let error = MonitorConfig::from_env(&env).expect_err("the secret is required in production");
        assert_eq!(error.status_code(), 500);
        assert!(error.to_string().contains("SLACK_WEBHOOK_URL"), "{error}");
    }

    #[test]
    fn bad_numbers_are_errors_naming_the_variable() {
        // Each of these must fail: not a number, negative, zero where a minimum applies, too large.
        for bad in ["soon", "-5", "0", "99999999"] {
            let env = HashMap::from([("MONITOR_SLOW_MS", bad)]);
            let error = MonitorConfig::from_env(&env).expect_err(bad);
            assert!(error.to_string().contains("MONITOR_SLOW_MS"), "{bad}: {error}");
        }
    }

    fn config(endpoints: &str) -> MonitorConfig {
        MonitorConfig {
            endpoints: Endpoint::parse_list(endpoints).expect("valid"),
            slow_ms: 5_000,
            timeout_ms: 10_000,
            slack_webhook: None,
        }
    }

    use crate::testing::count;

    #[test]
    fn a_failure_alerts_once_while_it_lasts_and_recovery_alerts_once() {
        let (db, site, slack, clock) =
            (SqliteDb::with_schema(), ScriptedSite::default(), RecordingNotifier::default(), FixedClock::at(0));
        let config = config("/, /pricing");
        let run = || block_on(run_cycle(&db, &site, &slack, &clock, &config)).expect("cycle runs");

        run();
        assert!(slack.sent.borrow().is_empty(), "healthy endpoints raise nothing");

        site.set("/pricing", Ok(500));
        run();
        run();
        run();
        assert_eq!(*slack.sent.borrow(), vec!["/pricing is DOWN: HTTP 500".to_owned()]);

        site.set("/pricing", Ok(200));
        run();
        run();
        assert_eq!(slack.sent.borrow().len(), 2);
        assert!(slack.sent.borrow()[1].starts_with("/pricing has RECOVERED"));
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM health_checks"), 12, "every probe is recorded");
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM monitor_alerts WHERE delivered = 1"), 2);
    }

    #[test]
    fn an_alert_that_fails_to_send_is_retried_on_the_next_run() {
        let (db, site, slack, clock) =
            (SqliteDb::with_schema(), ScriptedSite::default(), RecordingNotifier::default(), FixedClock::at(0));
        let config = config("/");
        site.set("/", Err("connection refused".into()));
        slack.failing.set(true);
        block_on(run_cycle(&db, &site, &slack, &clock, &config)).expect("cycle runs");
        assert!(slack.sent.borrow().is_empty());
        slack.failing.set(false);
        block_on(run_cycle(&db, &site, &slack, &clock, &config)).expect("cycle runs");
        block_on(run_cycle(&db, &site, &slack, &clock, &config)).expect("cycle runs");
        assert_eq!(*slack.sent.borrow(), vec!["/ is DOWN: connection refused".to_owned()]);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM monitor_alerts WHERE delivered = 0"), 1);
    }

    #[test]
    fn states_are_classified_by_status_and_time() {
        let config = config("/");
        let cases = [
            (Some(Ok(200)), 10, State::Up),
            (Some(Ok(301)), 10, State::Up),
            (Some(Ok(200)), 5_001, State::Slow),
            (Some(Ok(404)), 10, State::Down),
            (Some(Ok(503)), 10, State::Down),
            (Some(Err("refused".to_owned())), 10, State::Down),
            (None, 10_000, State::Down),
        ];
        for (answer, ms, expected) in cases {
            assert_eq!(classify(answer.clone(), ms, &config).0, expected, "{answer:?} after {ms} ms");
        }
    }

    #[test]
    fn alerts_follow_changes_of_state_only() {
        assert_eq!(alert_kind(None, State::Up), None);
        assert_eq!(alert_kind(None, State::Down), Some(AlertKind::Down));
        assert_eq!(alert_kind(Some(State::Down), State::Down), None);
        assert_eq!(alert_kind(Some(State::Up), State::Slow), Some(AlertKind::Slow));
        assert_eq!(alert_kind(Some(State::Slow), State::Down), Some(AlertKind::Down));
        assert_eq!(alert_kind(Some(State::Slow), State::Up), Some(AlertKind::Recovered));
    }

    #[test]
    fn since_moves_only_when_the_state_changes() {
        let (db, site, slack, clock) =
            (SqliteDb::with_schema(), ScriptedSite::default(), RecordingNotifier::default(), FixedClock::at(1_000));
        let config = config("/");
        let since = || {
            #[derive(serde::Deserialize)]
            struct S {
                since: i64,
            }
            block_on(db.query_first::<S>(Statement::new("SELECT since FROM monitor_state")))
                .expect("q")
                .map(|s| s.since)
        };
        block_on(run_cycle(&db, &site, &slack, &clock, &config)).expect("runs");
        clock.advance(300_000);
        block_on(run_cycle(&db, &site, &slack, &clock, &config)).expect("runs");
        assert_eq!(since(), Some(1_000));
        site.set("/", Ok(500));
        block_on(run_cycle(&db, &site, &slack, &clock, &config)).expect("runs");
        assert_eq!(since(), Some(301_000));
    }
}
