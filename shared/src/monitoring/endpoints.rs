//! What the monitor probes: site paths (dispatched through the site worker's own router, so function
//! checks cross the real service bindings) and absolute URLs (fetched over the network).

use crate::config::vars;
use crate::error::{Error, Result};
use crate::web::routes;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A path on this site, such as `/pricing` or `/_functions/health`.
    SitePath(String),
    /// An absolute `http(s)://` URL.
    Url(String),
}

impl Endpoint {
    pub fn parse(raw: &str) -> Result<Self> {
        let raw = raw.trim();
        let invalid = |why: &str| Error::Config(format!("{}: {raw:?} {why}", vars::MONITOR_ENDPOINTS));
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces"));
        }
        if raw.starts_with('/') && !raw.starts_with("//") {
            Ok(Self::SitePath(raw.to_owned()))
        } else if let Some(rest) = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://")) {
            if rest.is_empty() || rest.starts_with('/') {
                return Err(invalid("has no host"));
            }
            Ok(Self::Url(raw.to_owned()))
        } else {
            Err(invalid("must be a site path starting with / or an http(s):// URL"))
        }
    }

    /// A comma-separated list, as `MONITOR_ENDPOINTS` holds it.
    pub fn parse_list(list: &str) -> Result<Vec<Self>> {
        let endpoints =
            list.split(',').filter(|s| !s.trim().is_empty()).map(Self::parse).collect::<Result<Vec<_>>>()?;
        if endpoints.is_empty() {
            return Err(Error::Config(format!("{} lists no endpoints", vars::MONITOR_ENDPOINTS)));
        }
        Ok(endpoints)
    }

    /// The site's pages and every function's health.
    pub fn defaults() -> Vec<Self> {
        let pages = routes::MONITORED_PAGES.iter().map(|p| Self::SitePath((*p).to_owned()));
        let functions = routes::FUNCTIONS.iter().map(|f| Self::SitePath(routes::liveness_path(f)));
        pages.chain(functions).collect()
    }

    /// The name stored in `health_checks.endpoint` and shown on `/status`.
    pub fn name(&self) -> &str {
        match self {
            Self::SitePath(p) | Self::Url(p) => p,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls_parse() {
        let list = Endpoint::parse_list(" /, /_functions/health ,http://127.0.0.1:9/x").expect("valid list");
        assert_eq!(
            list,
            vec![
                Endpoint::SitePath("/".into()),
                Endpoint::SitePath("/_functions/health".into()),
                Endpoint::Url("http://127.0.0.1:9/x".into())
            ]
        );
    }

    #[test]
    fn malformed_entries_are_rejected_with_the_variable_named() {
        // No scheme; protocol-relative; scheme without host; unsupported scheme; embedded space.
        for bad in ["example.com", "//example.com", "https://", "ftp://x", "/a b"] {
            let error = Endpoint::parse(bad).expect_err(bad);
            assert!(error.to_string().contains("MONITOR_ENDPOINTS"), "{bad}: {error}");
        }
        assert!(Endpoint::parse_list(" , ").is_err(), "an empty list monitors nothing");
    }

    #[test]
    fn defaults_cover_pages_and_every_function() {
        let names: Vec<String> = Endpoint::defaults().iter().map(|e| e.name().to_owned()).collect();
        assert!(names.contains(&"/pricing".to_owned()));
        assert!(names.contains(&"/_functions/health".to_owned()));
        assert!(names.contains(&"/_functions/stripeWebhook/health".to_owned()));
        assert_eq!(names.len(), 3 + crate::web::routes::FUNCTIONS.len());
    }
}
