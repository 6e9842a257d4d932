//! Cross-site request protection for every state-changing request: the browser's `Origin` (or
//! `Sec-Fetch-Site`) must say the request comes from this site, and bodies must be JSON (a form
//! post from another site cannot send `application/json` without a CORS preflight we never grant).
//! SameSite=Lax cookies are the second layer.

use crate::error::{Error, Result};

pub struct RequestFacts<'a> {
    pub method: &'a str,
    /// `scheme://host[:port]` of the request URL.
    pub own_origin: &'a str,
    pub origin: Option<&'a str>,
    pub sec_fetch_site: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub has_body: bool,
}

pub fn is_state_changing(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

pub fn check(facts: &RequestFacts<'_>) -> Result<()> {
    if !is_state_changing(facts.method) {
        return Ok(());
    }
    let refused = || Error::Forbidden("Cross-site request refused.".into());
    match facts.origin {
        Some(origin) if origin != facts.own_origin => return Err(refused()),
        Some(_) => {}
        // No Origin: a non-browser client, or an old browser; Sec-Fetch-Site still tells.
        None => {
            if matches!(facts.sec_fetch_site, Some("cross-site" | "same-site")) {
                return Err(refused());
            }
        }
    }
    if facts.has_body {
        let json = facts
            .content_type
            .and_then(|ct| ct.split(';').next())
            .is_some_and(|ct| ct.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(Error::UnsupportedMediaType("Send the body as JSON (Content-Type: application/json).".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(origin: Option<&'a str>, site: Option<&'a str>, ct: Option<&'a str>) -> RequestFacts<'a> {
        RequestFacts {
            method: "POST",
            own_origin: "https://fhiriq.dev",
            origin,
            sec_fetch_site: site,
            content_type: ct,
            has_body: true,
        }
    }

    #[test]
    fn same_origin_json_posts_pass() {
        assert!(
            check(&facts(Some("https://fhiriq.dev"), Some("same-origin"), Some("application/json; charset=utf-8")))
                .is_ok()
        );
        assert!(check(&facts(None, None, Some("application/json"))).is_ok(), "curl and server-side clients");
    }

    #[test]
    fn cross_site_and_non_json_requests_are_refused() {
        let cases = [
            (facts(Some("https://evil.example"), None, Some("application/json")), 403, "foreign Origin"),
            (facts(Some("null"), None, Some("application/json")), 403, "opaque Origin (sandboxed frame)"),
            (facts(Some("http://fhiriq.dev"), None, Some("application/json")), 403, "scheme differs"),
            (facts(None, Some("cross-site"), Some("application/json")), 403, "Sec-Fetch-Site without Origin"),
            (facts(Some("https://fhiriq.dev"), None, Some("application/x-www-form-urlencoded")), 415, "a form post"),
            (facts(Some("https://fhiriq.dev"), None, Some("text/plain")), 415, "a simple-request body"),
            (facts(Some("https://fhiriq.dev"), None, None), 415, "no content type"),
        ];
        for (request, status, why) in cases {
            assert_eq!(check(&request).map_err(|e| e.status_code()), Err(status), "{why}");
        }
    }

    #[test]
    fn reads_are_never_blocked() {
        let mut get = facts(Some("https://evil.example"), None, None);
        get.method = "GET";
        assert!(check(&get).is_ok());
    }
}
