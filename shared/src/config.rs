//! Typed configuration, read once per request (or cron run) from the worker's vars and secrets.
//!
//! Every variable is documented in README.md and `.dev.vars.example`. A missing required secret or an
//! unparsable value is an [`Error::Config`] that names the variable, never a panic.

use crate::error::{Error, Result};

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
    use regex_lite::Regex;
    use std::collections::{BTreeSet, HashMap};

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let env: HashMap<&str, &str> = HashMap::new();
        assert_eq!(RetentionConfig::from_env(&env).expect("defaults").health_check_days, 30);
        assert_eq!(HealthConfig::from_env(&env).expect("defaults").check_timeout_ms, 2_000);
    }

    #[test]
    fn an_unknown_environment_is_rejected() {
        let env = HashMap::from([("ENVIRONMENT", "staging")]);
        assert!(environment(&env).is_err());
    }

    /// The repository's root (`shared/..`).
    fn root() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
    }

    /// Names in backticks in the first column of README.md's Configuration table.
    fn readme_names() -> BTreeSet<String> {
        let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
        let section = readme.split("## Configuration").nth(1).and_then(|s| s.split("\n## ").next()).expect("section");
        let name = Regex::new(r"`([A-Z][A-Z0-9_<>]+)`").expect("a valid pattern");
        section
            .lines()
            .filter(|l| l.starts_with("| `"))
            .flat_map(|l| {
                let first = l.trim_matches('|').split('|').next().unwrap_or_default().to_owned();
                name.captures_iter(&first).map(|c| c[1].to_owned()).collect::<Vec<_>>()
            })
            .collect()
    }

    /// Every ALL_CAPS string literal with an underscore in the workers' and the library's code
    /// (comments and tests left out): the names passed to `var`, `secret` and their helpers.
    fn names_in_code(code: &str) -> BTreeSet<String> {
        let literal = Regex::new(r#""([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)""#).expect("a valid pattern");
        // Binding names are not configuration values: the functions' service bindings, the limiter.
        let mut bindings: Vec<&str> = crate::web::routes::FUNCTIONS.iter().map(|f| f.binding).collect();
        bindings.push(crate::analytics::queue::RATE_LIMIT_BINDING);
        literal
            .captures_iter(code)
            .map(|c| c[1].to_owned())
            // CARGO_* are Cargo's compile-time variables (`env!`), not the workers' configuration.
            .filter(|name| !bindings.contains(&name.as_str()) && !name.starts_with("CARGO_"))
            .collect()
    }

    /// The workers' and the library's code, comments and tests left out.
    fn code() -> String {
        let mut dirs = vec![root().join("shared/src")];
        for entry in std::fs::read_dir(root().join("functions")).expect("functions/").filter_map(|e| e.ok()) {
            dirs.push(entry.path().join("src"));
        }
        dirs.iter().flat_map(|dir| crate::testing::rust_code(dir)).map(|(_, code)| code + "\n").collect()
    }

    fn listed(table: &BTreeSet<String>, name: &str) -> bool {
        table.contains(name)
            || table.iter().filter(|row| row.contains('<')).any(|row| {
                let prefix = row.split('<').next().unwrap_or_default();
                name.starts_with(prefix)
            })
    }

    #[test]
    fn every_name_the_code_reads_is_in_the_readme_table_and_the_dev_vars_example_and_no_more() {
        let table = readme_names();
        assert!(table.len() > 60, "the table was read ({} names)", table.len());
        let example = std::fs::read_to_string(root().join(".dev.vars.example")).expect(".dev.vars.example");
        let line = Regex::new(r"(?m)^# ([A-Z][A-Z0-9_<>]+)=").expect("a valid pattern");
        let in_example: BTreeSet<String> = line.captures_iter(&example).map(|c| c[1].to_owned()).collect();
        let in_example: BTreeSet<String> = in_example
            .into_iter()
            .map(|n| if n.starts_with("STRIPE_PRICE_") { "STRIPE_PRICE_<PLAN>_<INTERVAL>".into() } else { n })
            .collect();
        assert_eq!(table, in_example, "README's table and .dev.vars.example list the same names");

        let text = code();
        let code = names_in_code(&text);
        let unlisted: Vec<&String> = code.iter().filter(|n| !listed(&table, n)).collect();
        assert!(unlisted.is_empty(), "read by the code but not in README's Configuration table: {unlisted:?}");
        // Names the code builds from a provider's prefix: `"ANTHROPIC"` written whole and
        // `"{prefix}_API_KEY"` formatted. `ENVIRONMENT` has no underscore for the pattern above.
        let built = |n: &str| {
            let Some((prefix, suffix)) = n.split_once('_') else {
                return text.contains(&format!("\"{n}\""));
            };
            text.contains(&format!("\"{prefix}\"")) && text.contains(&format!("{{prefix}}_{suffix}"))
        };
        let stale: Vec<&String> =
            table.iter().filter(|n| !n.contains('<') && !code.contains(*n) && !built(n)).collect();
        assert!(stale.is_empty(), "in README's table but read nowhere: {stale:?}");

        let mut configs = vec![root().join("wrangler.toml")];
        for entry in std::fs::read_dir(root().join("functions")).expect("functions/").filter_map(|e| e.ok()) {
            configs.push(entry.path().join("wrangler.toml"));
        }
        for path in configs.iter().filter(|p| p.exists()) {
            let config: toml::Table = toml::from_str(&std::fs::read_to_string(path).expect("reads")).expect("TOML");
            let envs = config.get("env").and_then(|e| e.as_table()).cloned().unwrap_or_default();
            let sections = std::iter::once(config.get("vars")).chain(envs.values().map(|e| e.get("vars")));
            for vars in sections.flatten().filter_map(|v| v.as_table()) {
                for name in vars.keys() {
                    assert!(listed(&table, name), "{}: {name} is not in README's table", path.display());
                }
            }
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret::new("https://hooks.slack.com/services/T000/B000/XXXX");
        assert!(!format!("{secret:?}").contains("hooks.slack.com"));
    }
}
