//! Headers on every response of the platform (pages, assets, JSON). The CSP allows no inline script
//! and no third-party origin by default: fonts, styles and scripts are all served from the site
//! itself. Two places widen it, each only where needed: course pages may frame Calendly's booking
//! page, and, only when an operator configures GA4 or PostHog (off by default), their script and
//! collection origins are allowed (the scripts still load only after the visitor consents).

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; \
form-action 'self'; frame-ancestors 'none'";

/// Origins a page adds to the default policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Widen {
    pub script: Vec<String>,
    pub connect: Vec<String>,
    pub img: Vec<String>,
    pub frame: Vec<String>,
}

impl Widen {
    pub fn is_empty(&self) -> bool {
        self.script.is_empty() && self.connect.is_empty() && self.img.is_empty() && self.frame.is_empty()
    }

    pub fn with(mut self, other: &Widen) -> Self {
        self.script.extend(other.script.iter().cloned());
        self.connect.extend(other.connect.iter().cloned());
        self.img.extend(other.img.iter().cloned());
        self.frame.extend(other.frame.iter().cloned());
        self
    }
}

/// The policy with `widen`'s origins added (exactly [`CONTENT_SECURITY_POLICY`] when it adds none).
pub fn content_security_policy(widen: &Widen) -> String {
    let list = |extra: &[String]| extra.iter().map(|o| format!(" {o}")).collect::<String>();
    let frame = if widen.frame.is_empty() { String::new() } else { format!("frame-src{}; ", list(&widen.frame)) };
    format!(
        "default-src 'self'; script-src 'self'{}; style-src 'self'; img-src 'self' data:{}; font-src 'self'; \
         connect-src 'self'{}; {frame}object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        list(&widen.script),
        list(&widen.img),
        list(&widen.connect),
    )
}

/// Course pages embed Calendly's scheduling page.
pub fn calendly() -> Widen {
    Widen { frame: vec!["https://calendly.com".into()], ..Widen::default() }
}

pub const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("strict-transport-security", "max-age=63072000; includeSubDomains"),
    // For browsers that predate CSP frame-ancestors.
    ("x-frame-options", "DENY"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ("cross-origin-opener-policy", "same-origin"),
];

/// How long a fingerprinted file (`/assets/...`, see `web::assets`) may be cached: a year, never
/// revalidated. Its URL changes whenever its contents do.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `site/_headers`: the headers Cloudflare adds to static files it serves without starting the site
/// worker. The same security headers and default policy as every other response, and a year's
/// caching for the fingerprinted files. Written by `make build` (`fhir-iq-kb site`).
pub fn static_files_headers() -> String {
    let mut file = String::from(
        "# Generated from shared/src/web/headers.rs by `make build` (fhir-iq-kb site): do not edit.\n\
         # Static files are served without the site worker; these are their headers.\n/*\n",
    );
    for (name, value) in SECURITY_HEADERS {
        file.push_str(&format!("  {name}: {value}\n"));
    }
    file.push_str(&format!("  content-security-policy: {CONTENT_SECURITY_POLICY}\n"));
    file.push_str(&format!("/{}/*\n  cache-control: {IMMUTABLE}\n", super::assets::DIR));
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_files_get_the_security_headers_and_fingerprinted_ones_a_year() {
        let file = static_files_headers();
        for (name, value) in SECURITY_HEADERS {
            assert!(file.contains(&format!("\n  {name}: {value}\n")), "{name}");
        }
        assert!(file.contains(&format!("content-security-policy: {CONTENT_SECURITY_POLICY}")));
        assert!(file.ends_with("/assets/*\n  cache-control: public, max-age=31536000, immutable\n"), "{file}");
        // Cloudflare's format: a URL pattern at the start of a line, its headers indented below it.
        assert!(file.lines().all(|l| l.starts_with('#') || l.starts_with('/') || l.starts_with("  ")));
    }

    #[test]
    fn the_policy_forbids_inline_script_and_framing() {
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-eval"));
        assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
        assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self'"));
    }

    #[test]
    fn widening_adds_only_the_named_origins() {
        assert_eq!(content_security_policy(&Widen::default()), CONTENT_SECURITY_POLICY);
        let course = content_security_policy(&calendly());
        assert!(course.contains("frame-src https://calendly.com;") && course.contains("script-src 'self';"));
        let analytics = Widen { script: vec!["https://www.googletagmanager.com".into()], ..Widen::default() };
        let both = content_security_policy(&calendly().with(&analytics));
        assert!(
            both.contains("script-src 'self' https://www.googletagmanager.com;")
                && both.contains("frame-src https://calendly.com")
        );
        assert!(!both.contains("unsafe"));
    }
}
