//! One typed configuration for a worker's request: [`Settings`] reads each part (sessions, Stripe,
//! email, the assistant's providers...) from the environment at most once per request, the first time
//! a handler asks for it, and hands out the same parsed value after that. A part nobody asks for is
//! never read, so a bad value in one feature's variables fails that feature's requests only, with an
//! error naming the variable, never the whole site. Each worker builds one `Settings` per request.
//!
//! Which names exist, and what each means: README.md's Configuration table (checked against the
//! code by `config::tests`).

use crate::analytics::funnels::{self, Funnel};
use crate::analytics::thirdparty::ThirdParty;
use crate::assistant::providers::AiConfig;
use crate::assistant::quota::Quotas;
use crate::auth::org::OrgLimits;
use crate::auth::rate_limit::AuthLimits;
use crate::auth::rate_limit::Limit;
use crate::auth::session::{SessionConfig, SessionCookie};
use crate::billing::catalog::Catalog;
use crate::billing::stripe::StripeConfig;
use crate::config::{EnvSource, HealthConfig, RetentionConfig, Secret, optional_secret};
use crate::error::Result;
use crate::github::client::GitHubConfig;
use crate::github::oauth::OAuthConfig;
use crate::knowledge::embeddings::{self, Embedder};
use crate::mail::EmailConfig;
use crate::monitoring::cleanup::CleanupConfig;
use crate::monitoring::monitor::MonitorConfig;
use crate::signing::webhook_secret;
use crate::usage::BuilderLimits;
use std::cell::OnceCell;

/// The parsed value in `cell`, reading it with `read` the first time. A failed read is not kept:
/// the next ask reads again and answers the same error.
fn once<T>(cell: &OnceCell<T>, read: impl FnOnce() -> Result<T>) -> Result<&T> {
    if let Some(value) = cell.get() {
        return Ok(value);
    }
    let value = read()?;
    Ok(cell.get_or_init(|| value))
}

macro_rules! settings {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = $read:expr;)*) => {
        /// A request's configuration, read lazily and at most once per part (see the module).
        pub struct Settings<'e, E: EnvSource> {
            env: &'e E,
            $($name: OnceCell<$ty>,)*
        }

        impl<'e, E: EnvSource> Settings<'e, E> {
            pub fn new(env: &'e E) -> Self {
                Self { env, $($name: OnceCell::new(),)* }
            }

            /// The environment itself, for what is not configuration (bindings).
            pub fn env(&self) -> &'e E {
                self.env
            }

            $(
                $(#[$doc])*
                pub fn $name(&self) -> Result<&$ty> {
                    once(&self.$name, || ($read)(self.env))
                }
            )*
        }
    };
}

settings! {
    /// `SITE_URL`: the public origin, for links in emails and alerts.
    site_url: String = crate::config::site_url;
    /// `SESSION_*`: session lifetimes.
    sessions: SessionConfig = SessionConfig::from_env;
    /// The session cookie's name for this `ENVIRONMENT`.
    session_cookie: SessionCookie = SessionCookie::from_env;
    /// `RATE_LIMIT_SIGNIN_*`, `RATE_LIMIT_SIGNUP_IP`, `RATE_LIMIT_RESET_*`, `RATE_LIMIT_VERIFY_RESEND`.
    auth_limits: AuthLimits = AuthLimits::from_env;
    /// `RATE_LIMIT_INVITES_OWNER`.
    org_limits: OrgLimits = OrgLimits::from_env;
    /// `EMAIL_*`.
    email: EmailConfig = EmailConfig::from_env;
    /// `STRIPE_SECRET_KEY`, `STRIPE_WEBHOOK_SECRET`, `STRIPE_API_BASE`.
    stripe: StripeConfig = StripeConfig::from_env;
    /// `STRIPE_PRICE_*`, `PLAN_AMOUNTS`, `ONE_TIME_PRODUCTS`, `BILLING_CURRENCY`, `ENTERPRISE_DEFAULT_SEATS`.
    catalog: Catalog = Catalog::from_env;
    /// `GITHUB_APP_*`, `GITHUB_INSTALLATION_ID`, `GITHUB_ORG`, `GITHUB_API_BASE`.
    github: GitHubConfig = GitHubConfig::from_env;
    /// `GITHUB_CLIENT_*`, `GITHUB_TOKEN_KEY`, `GITHUB_WEB_BASE`.
    github_oauth: OAuthConfig = OAuthConfig::from_env;
    /// `BUILDER_GENERATIONS_PER_DAY`, `GITHUB_PUSHES_PER_DAY`.
    builder_limits: BuilderLimits = BuilderLimits::from_env;
    /// `AI_*`, `ANTHROPIC_*`, `OPENAI_*`, `WORKERS_AI_*`.
    ai: AiConfig = AiConfig::from_env;
    /// `AI_QUOTA_*`.
    quotas: Quotas = Quotas::from_env;
    /// `EMBEDDING_*`: the embedding provider, or none.
    embedder: Option<Embedder> = embeddings::from_env;
    /// `GA4_MEASUREMENT_ID`, `POSTHOG_*`.
    third_party: ThirdParty = ThirdParty::from_env;
    /// `MONITOR_*`, `SLACK_WEBHOOK_URL`.
    monitor: MonitorConfig = MonitorConfig::from_env;
    /// `*_RETENTION_DAYS` of health checks, events and chats.
    retention: RetentionConfig = RetentionConfig::from_env;
    /// `WEBHOOK_RETENTION_DAYS`, `CODE_GENERATION_RETENTION_DAYS`.
    cleanup: CleanupConfig = CleanupConfig::from_env;
    /// `HEALTH_CHECK_TIMEOUT_MS`.
    health: HealthConfig = HealthConfig::from_env;
    /// `ANALYTICS_FUNNELS`, or the three defaults.
    funnels: Vec<Funnel> = funnels::funnels;
    /// `RATE_LIMIT_SUPPORT`: support requests and replies per user.
    support_limit: Limit = |env| Limit::from_env(env, "RATE_LIMIT_SUPPORT", "10/3600");
    /// `RATE_LIMIT_SALES_IP`: contact-sales requests per address.
    sales_limit: Limit = |env| Limit::from_env(env, "RATE_LIMIT_SALES_IP", "5/3600");
    /// `SALES_SLACK_WEBHOOK_URL`, else `SLACK_WEBHOOK_URL`: where contact-sales requests go (none: kept
    /// for staff, not posted).
    sales_webhook: Option<Secret> = |env| {
        Ok(optional_secret(env, "SALES_SLACK_WEBHOOK_URL").or_else(|| optional_secret(env, "SLACK_WEBHOOK_URL")))
    };
    /// `STAFF_SLACK_WEBHOOK_URL`, else `SLACK_WEBHOOK_URL`: where staff alerts go (disputes, priority
    /// support; none: they wait in `staff_alerts`).
    staff_webhook: Option<Secret> = |env| {
        Ok(optional_secret(env, "STAFF_SLACK_WEBHOOK_URL").or_else(|| optional_secret(env, "SLACK_WEBHOOK_URL")))
    };
    /// `CALENDLY_WEBHOOK_SIGNING_KEY`, or 503 naming it: no delivery can be verified without it.
    calendly_signing_key: Secret = |env| webhook_secret(env, "Calendly", "CALENDLY_WEBHOOK_SIGNING_KEY");
    /// `GITHUB_WEBHOOK_SECRET`, or 503 naming it.
    github_webhook_secret: Secret = |env| webhook_secret(env, "GitHub", "GITHUB_WEBHOOK_SECRET");
    /// `INTERNAL_SERVICE_TOKEN`: lets another service call the routes that accept it.
    service_token: Option<Secret> = |env| Ok(optional_secret(env, "INTERNAL_SERVICE_TOKEN"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// An environment that counts how often each name is read.
    struct Counting {
        values: HashMap<&'static str, &'static str>,
        reads: RefCell<HashMap<String, usize>>,
    }

    impl EnvSource for Counting {
        fn var(&self, name: &str) -> Option<String> {
            *self.reads.borrow_mut().entry(name.to_owned()).or_default() += 1;
            self.values.get(name).map(|v| (*v).to_owned())
        }
        fn secret(&self, name: &str) -> Option<String> {
            self.var(name)
        }
    }

    fn counting(values: &[(&'static str, &'static str)]) -> Counting {
        Counting { values: values.iter().copied().collect(), reads: RefCell::default() }
    }

    #[test]
    fn each_part_is_read_once_per_request_however_often_it_is_asked_for() {
        let env = counting(&[("SESSION_IDLE_SECONDS", "3600"), ("SITE_URL", "https://fhiriq.dev/")]);
        let settings = Settings::new(&env);
        for _ in 0..3 {
            assert_eq!(settings.sessions().expect("valid").idle_ms, 3_600_000);
            assert_eq!(settings.site_url().expect("valid"), "https://fhiriq.dev");
        }
        let reads = env.reads.borrow();
        assert_eq!(reads.get("SESSION_IDLE_SECONDS"), Some(&1), "{reads:?}");
        assert_eq!(reads.get("SITE_URL"), Some(&1), "{reads:?}");
        assert_eq!(reads.get("STRIPE_SECRET_KEY"), None, "a part nobody asked for is never read");
    }

    #[test]
    fn a_bad_value_fails_only_its_own_part_naming_the_variable_every_time() {
        let env = counting(&[("MONITOR_SLOW_MS", "soon")]);
        let settings = Settings::new(&env);
        for _ in 0..2 {
            let error = settings.monitor().map(|_| ()).expect_err("not a number");
            assert!(error.to_string().contains("MONITOR_SLOW_MS"), "{error}");
        }
        assert_eq!(settings.sessions().expect("another part still reads").idle_ms, 7 * 86_400_000);
        assert!(settings.embedder().expect("the default").is_none(), "no embedding provider by default");
    }
}
