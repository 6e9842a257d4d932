//! Optional GA4 and PostHog, off by default. Only when an operator sets `GA4_MEASUREMENT_ID` or
//! `POSTHOG_KEY` does the site (a) widen its Content-Security-Policy for exactly their origins and
//! (b) show a consent banner; their scripts load only after the visitor accepts, and never for a
//! browser that sends Do Not Track or Global Privacy Control.

use crate::config::EnvSource;
use crate::error::{Error, Result};
use crate::web::headers::Widen;
use serde_json::{Value, json};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThirdParty {
    pub ga4: Option<String>,
    /// (project key, API host, assets host).
    pub posthog: Option<(String, String, String)>,
}

fn id_like(value: &str, prefix: &str, min: usize) -> bool {
    value.starts_with(prefix)
        && value.len() >= prefix.len() + min
        && value.len() <= 100
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl ThirdParty {
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        let ga4 = env.var("GA4_MEASUREMENT_ID").filter(|v| !v.is_empty());
        if let Some(id) = &ga4
            && !id_like(id, "G-", 4)
        {
            return Err(Error::Config(format!("GA4_MEASUREMENT_ID must look like G-XXXXXXX, not {id:?}")));
        }
        let posthog = match env.var("POSTHOG_KEY").filter(|v| !v.is_empty()) {
            None => None,
            Some(key) => {
                if !id_like(&key, "phc_", 10) {
                    return Err(Error::Config("POSTHOG_KEY must be a project API key (phc_...)".into()));
                }
                let host = env.var("POSTHOG_HOST").unwrap_or_else(|| "https://us.i.posthog.com".into());
                let host = host.trim_end_matches('/').to_owned();
                let bare = host
                    .strip_prefix("https://")
                    .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-".contains(c)));
                let Some(bare) = bare else {
                    return Err(Error::Config(format!("POSTHOG_HOST must be an https origin, not {host:?}")));
                };
                // PostHog Cloud serves its script from <region>-assets.i.posthog.com.
                let assets = match bare.split_once(".i.posthog.com") {
                    Some((region, "")) => format!("https://{region}-assets.i.posthog.com"),
                    _ => host.clone(),
                };
                Some((key, host, assets))
            }
        };
        Ok(Self { ga4, posthog })
    }

    pub fn is_enabled(&self) -> bool {
        self.ga4.is_some() || self.posthog.is_some()
    }

    /// Exactly the origins the configured services need; nothing when none is configured.
    pub fn widen(&self) -> Widen {
        let mut widen = Widen::default();
        if self.ga4.is_some() {
            widen.script.push("https://www.googletagmanager.com".into());
            for origin in
                ["https://*.google-analytics.com", "https://*.analytics.google.com", "https://www.googletagmanager.com"]
            {
                widen.connect.push(origin.into());
            }
            widen
                .img
                .extend(["https://*.google-analytics.com".to_owned(), "https://www.googletagmanager.com".to_owned()]);
        }
        if let Some((_, host, assets)) = &self.posthog {
            widen.script.push(assets.clone());
            widen.connect.push(host.clone());
            if assets != host {
                widen.connect.push(assets.clone());
            }
        }
        widen
    }

    /// What the consent script needs (`GET /api/analytics/config`): ids only, never a secret.
    /// The public part, only when an operator configured GA4 or PostHog (what pages carry).
    pub fn configured(&self) -> Option<Value> {
        (self.ga4.is_some() || self.posthog.is_some()).then(|| self.public())
    }

    pub fn public(&self) -> Value {
        json!({
            "ga4": self.ga4,
            "posthog": self.posthog.as_ref().map(|(key, host, assets)| json!({"key": key, "host": host, "assets": assets})),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::headers::content_security_policy;
    use std::collections::HashMap;

    #[test]
    fn off_by_default_and_exact_when_configured() {
        assert_eq!(ThirdParty::from_env(&HashMap::<&str, &str>::new()).expect("off").configured(), None);
        let none = ThirdParty::from_env(&HashMap::<&str, &str>::new()).expect("default");
        assert!(!none.is_enabled() && none.widen().is_empty());
        let env = HashMap::from([("GA4_MEASUREMENT_ID", "G-TEST1234"), ("POSTHOG_KEY", "phc_testprojectkey123")]);
        let both = ThirdParty::from_env(&env).expect("configured");
        let csp = content_security_policy(&both.widen());
        assert!(
            csp.contains("script-src 'self' https://www.googletagmanager.com https://us-assets.i.posthog.com;"),
            "{csp}"
        );
        assert!(csp.contains("https://us.i.posthog.com") && !csp.contains("unsafe"));
        assert_eq!(both.public()["posthog"]["assets"], "https://us-assets.i.posthog.com");
        for (name, bad) in [("GA4_MEASUREMENT_ID", "UA-1\"; script-src *"), ("POSTHOG_KEY", "nope")] {
            assert!(ThirdParty::from_env(&HashMap::from([(name, bad)])).is_err(), "{name}");
        }
        let host = HashMap::from([
            ("POSTHOG_KEY", "phc_testprojectkey123"),
            ("POSTHOG_HOST", "https://x.example; script-src *"),
        ]);
        assert!(ThirdParty::from_env(&host).is_err());
    }
}
