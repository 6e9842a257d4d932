//! Typed configuration, read once per request (or cron run) from the worker's vars and secrets.
//!
//! Every variable is documented in README.md and `.dev.vars.example`. A missing required secret or an
//! unparsable value is an [`Error::Config`] that names the variable, never a panic.

use crate::error::{Error, Result};
use crate::monitoring::endpoints::Endpoint;

/// Where configuration comes from: the Workers `Env` in production, a map in tests.
pub trait EnvSource {
    /// A plain `[vars]` value.
    fn var(&self, name: &str) -> Option<String>;
    /// A secret (`wrangler secret put`, or `.dev.vars` locally).
    fn secret(&self, name: &str) -> Option<String>;
}

impl EnvSource for std::collections::HashMap<&str, &str> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).map(|v| (*v).to_owned())
    }
    fn secret(&self, name: &str) -> Option<String> {
        self.var(name)
    }
}

/// A secret value. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(\"[redacted]\")")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Variable names, in one place.
pub mod vars {
    pub const ENVIRONMENT: &str = "ENVIRONMENT";
    pub const HEALTH_CHECK_TIMEOUT_MS: &str = "HEALTH_CHECK_TIMEOUT_MS";
    pub const MONITOR_ENDPOINTS: &str = "MONITOR_ENDPOINTS";
    pub const MONITOR_SLOW_MS: &str = "MONITOR_SLOW_MS";
    pub const MONITOR_TIMEOUT_MS: &str = "MONITOR_TIMEOUT_MS";
    pub const HEALTH_RETENTION_DAYS: &str = "HEALTH_RETENTION_DAYS";
    pub const EVENTS_RETENTION_DAYS: &str = "EVENTS_RETENTION_DAYS";
    pub const SLACK_WEBHOOK_URL: &str = "SLACK_WEBHOOK_URL";
    pub const SITE_URL: &str = "SITE_URL";
}

/// The public origin (`https://fhiriq.dev`), for links in alerts and emails. No trailing slash.
pub fn site_url(env: &impl EnvSource) -> Result<String> {
    let url =
        env.var(vars::SITE_URL).filter(|v| !v.trim().is_empty()).unwrap_or_else(|| "http://127.0.0.1:8787".into());
    let url = url.trim().trim_end_matches('/').to_owned();
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url)
    } else {
        Err(Error::Config(format!("{} must be an http(s) origin, not {url:?}", vars::SITE_URL)))
    }
}

pub fn environment(env: &impl EnvSource) -> Result<Environment> {
    match env.var(vars::ENVIRONMENT).as_deref().map(str::trim) {
        None | Some("") | Some("development") => Ok(Environment::Development),
        Some("production") => Ok(Environment::Production),
        Some(other) => Err(Error::Config(format!(
            "{} must be \"development\" or \"production\", not {other:?}",
            vars::ENVIRONMENT
        ))),
    }
}

/// A whole number from a var, or `default` when unset. Out of `range` is an error naming the var.
pub fn number(env: &impl EnvSource, name: &str, default: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64> {
    let Some(raw) = env.var(name).filter(|v| !v.trim().is_empty()) else {
        return Ok(default);
    };
    match raw.trim().parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(Error::Config(format!(
            "{name} must be a whole number from {} to {}, not {raw:?}",
            range.start(),
            range.end()
        ))),
    }
}

/// A secret that must be set; the error names it.
pub fn required_secret(env: &impl EnvSource, name: &str) -> Result<Secret> {
    optional_secret(env, name).ok_or_else(|| {
        Error::Config(format!("the secret {name} is not set (wrangler secret put {name}, or .dev.vars locally)"))
    })
}

pub fn optional_secret(env: &impl EnvSource, name: &str) -> Option<Secret> {
    env.secret(name).filter(|v| !v.trim().is_empty()).map(Secret::new)
}

/// The `health` function's settings.
#[derive(Debug, Clone)]
pub struct HealthConfig {
    /// How long one binding check may take before it counts as failed.
    pub check_timeout_ms: u64,
}

impl HealthConfig {
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        Ok(Self { check_timeout_ms: number(env, vars::HEALTH_CHECK_TIMEOUT_MS, 2_000, 50..=30_000)? })
    }
}

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

/// How long rows are kept before the clean-up job deletes them.
#[derive(Debug, Clone, Copy)]
pub struct RetentionConfig {
    pub health_check_days: u64,
    pub event_days: u64,
    pub chat_days: u64,
}

impl RetentionConfig {
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        Ok(Self {
            health_check_days: number(env, vars::HEALTH_RETENTION_DAYS, 30, 1..=3_650)?,
            event_days: number(env, vars::EVENTS_RETENTION_DAYS, 90, 1..=3_650)?,
            chat_days: number(env, "CHAT_RETENTION_DAYS", 90, 1..=3_650)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let env: HashMap<&str, &str> = HashMap::new();
        let monitor = MonitorConfig::from_env(&env).expect("defaults are valid");
        assert_eq!(monitor.slow_ms, 5_000);
        assert!(monitor.slack_webhook.is_none());
        assert_eq!(monitor.endpoints, Endpoint::defaults());
        assert_eq!(RetentionConfig::from_env(&env).expect("defaults").health_check_days, 30);
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

    #[test]
    fn an_unknown_environment_is_rejected() {
        let env = HashMap::from([("ENVIRONMENT", "staging")]);
        assert!(environment(&env).is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret::new("https://hooks.slack.com/services/T000/B000/XXXX");
        assert!(!format!("{secret:?}").contains("hooks.slack.com"));
    }
}
