//! Server-rendered HTML. One layout (`shared/templates/base.html`) serves both the static pages in
//! `site/` (rendered from these templates; a test keeps the files in step) and the pages the site
//! worker renders per request, such as `/status`. Askama escapes every value by default.

use super::seo::Meta;
use crate::billing::pricing::PricingView;
use crate::error::{Error, Result};
use crate::knowledge::browse::{ResourceLink, ResourceView};
use crate::knowledge::search::Hit;
use crate::monitoring::status::StatusView;
use askama::Template;

pub struct Page<'a> {
    pub title: &'a str,
    pub description: &'a str,
    /// The path, to mark the current navigation item.
    pub path: &'a str,
    /// Canonical URL, Open Graph and JSON-LD (server-rendered content pages).
    pub meta: Option<&'a Meta>,
}

pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
}

/// The main navigation, on every page.
pub const NAV: [NavItem; 7] = [
    NavItem { label: "Assistant", href: "/chat" },
    NavItem { label: "FHIR Builder", href: "/tools/fhir-builder" },
    NavItem { label: "Tools", href: "/tools" },
    NavItem { label: "Courses", href: "/courses" },
    NavItem { label: "Blog", href: "/blog" },
    NavItem { label: "Pricing", href: "/pricing" },
    NavItem { label: "About", href: "/about" },
];

#[derive(Template)]
#[template(path = "index.html")]
struct HomeTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
}

#[derive(Template)]
#[template(path = "about.html")]
struct AboutTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
}

#[derive(Template)]
#[template(path = "pricing.html")]
struct PricingTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    view: &'a PricingView,
}

#[derive(Template)]
#[template(path = "billing.html")]
struct BillingTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    heading: &'a str,
    lines: &'a [String],
    features: &'a [String],
    /// (label, href); the first is the main action.
    links: &'a [(&'a str, &'a str)],
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
}

#[derive(Template)]
#[template(path = "verify-email.html")]
struct VerifyEmailTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
}

#[derive(Template)]
#[template(path = "support.html")]
struct SupportTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
}

#[derive(Template)]
#[template(path = "fhir-builder.html")]
struct BuilderTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
}

#[derive(Template)]
#[template(path = "chat.html")]
struct ChatTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
}

#[derive(Template)]
#[template(path = "404.html")]
struct NotFoundTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    view: &'a StatusView,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    query: &'a str,
    hits: &'a [Hit],
}

#[derive(Template)]
#[template(path = "resource.html")]
struct ResourceTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    view: &'a ResourceView,
}

#[derive(Template)]
#[template(path = "resources.html")]
struct ResourcesTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    resources: &'a [ResourceLink],
}

pub(super) fn rendered(result: askama::Result<String>) -> Result<String> {
    result.map_err(|e| Error::internal("rendering a page", e))
}

/// The static pages: (file name under `site/`, HTML).
pub fn static_pages() -> Result<Vec<(&'static str, String)>> {
    let page = |title, description, path| Page { title, description, path, meta: None };
    let home = page(
        "Learn and build with FHIR",
        "Ask FHIR R4 questions with cited answers, generate working FHIR apps, and learn with courses.",
        "/",
    );
    let about = page("About", "Why FHIR IQ exists and how it is built.", "/about");
    let signin = page("Sign in", "Sign in to FHIR IQ.", "/signin");
    let signup = page("Create your account", "Create a free FHIR IQ account.", "/signup");
    let reset = page("Reset your password", "Reset your FHIR IQ password.", "/reset");
    let verify =
        page("Confirm your email address", "Confirm the email address of your FHIR IQ account.", "/verify-email");
    let account = page("Your account", "Your FHIR IQ profile, plan and devices.", "/account");
    let support = page("Support", "Ask FHIR IQ support and read the answers.", "/support");
    let chat =
        page("Ask the FHIR assistant", "FHIR R4 questions answered from the specification, with sources.", "/chat");
    let builder = page(
        "FHIR Builder",
        "Generate a working FHIR R4 app (TypeScript or Python, SMART on FHIR) with tests, and push it to GitHub.",
        "/tools/fhir-builder",
    );
    let missing = page("Page not found", "This page does not exist.", "");
    let nav = &NAV;
    Ok(vec![
        ("index.html", rendered(HomeTemplate { page: &home, nav }.render())?),
        ("about.html", rendered(AboutTemplate { page: &about, nav }.render())?),
        ("signin.html", rendered(SigninTemplate { page: &signin, nav }.render())?),
        ("signup.html", rendered(SignupTemplate { page: &signup, nav }.render())?),
        ("reset.html", rendered(ResetTemplate { page: &reset, nav }.render())?),
        ("verify-email.html", rendered(VerifyEmailTemplate { page: &verify, nav }.render())?),
        ("account.html", rendered(AccountTemplate { page: &account, nav }.render())?),
        ("support.html", rendered(SupportTemplate { page: &support, nav }.render())?),
        ("chat.html", rendered(ChatTemplate { page: &chat, nav }.render())?),
        ("404.html", rendered(NotFoundTemplate { page: &missing, nav }.render())?),
        ("tools/fhir-builder.html", rendered(BuilderTemplate { page: &builder, nav }.render())?),
    ])
}

/// `/pricing`, for the caller (or a visitor).
pub fn pricing_page(view: &PricingView) -> Result<String> {
    let page = Page {
        title: "Pricing",
        description: "FHIR IQ plans: Free, Student, Pro and Enterprise, monthly or annual.",
        path: "/pricing",
        meta: None,
    };
    rendered(PricingTemplate { page: &page, nav: &NAV, view }.render())
}

/// The page a checkout returns to: `/billing/success` or `/billing/cancel`.
pub fn billing_page(
    title: &str,
    heading: &str,
    lines: &[String],
    features: &[String],
    links: &[(&str, &str)],
) -> Result<String> {
    let page = Page { title, description: "FHIR IQ billing.", path: "/pricing", meta: None };
    rendered(BillingTemplate { page: &page, nav: &NAV, heading, lines, features, links }.render())
}

pub fn search_page(query: &str, hits: &[Hit]) -> Result<String> {
    let page = Page { title: "Search", description: "Search the FHIR R4 specification.", path: "/search", meta: None };
    rendered(SearchTemplate { page: &page, nav: &NAV, query, hits }.render())
}

pub fn resource_page(view: &ResourceView) -> Result<String> {
    let title = format!("{} (FHIR R4 resource)", view.name);
    let description = format!("{}: elements, cardinality, types and search parameters in FHIR R4.", view.name);
    let page = Page { title: &title, description: &description, path: "/fhir/R4", meta: None };
    rendered(ResourceTemplate { page: &page, nav: &NAV, view }.render())
}

pub fn resources_page(resources: &[ResourceLink]) -> Result<String> {
    let page =
        Page { title: "FHIR R4 resources", description: "Every FHIR R4 resource.", path: "/fhir/R4", meta: None };
    rendered(ResourcesTemplate { page: &page, nav: &NAV, resources }.render())
}

#[derive(Template)]
#[template(path = "analytics.html")]
struct AnalyticsTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    heading: &'a str,
}

/// `/analytics`: the dashboard's frame; its charts load from the analytics API.
pub fn analytics_page(heading: &str) -> Result<String> {
    let page = Page {
        title: heading,
        description: "Activity, features, funnels and learning.",
        path: "/analytics",
        meta: None,
    };
    rendered(AnalyticsTemplate { page: &page, nav: &NAV, heading }.render())
}

/// The navigation's sign-in link as every page is rendered for a visitor (`base.html`).
pub const SIGN_IN_LINK: &str = r#"<a href="/signin" id="nav-account" class="button button-small">Sign in</a>"#;

/// Who a page is shown to, rendered into its HTML so no page waits on an API call to know.
pub struct Visitor<'a> {
    pub email: &'a str,
    /// A subscription's payment failed: every page shows the banner that says so (app.js).
    pub payment_needed: bool,
}

#[derive(Template)]
#[template(
    source = r#"<a href="/account" id="nav-account" class="button button-small" title="{{ email }}"{% if payment_needed %} data-payment-needed{% endif %}>Account</a>"#,
    ext = "html"
)]
struct AccountLink<'a> {
    email: &'a str,
    payment_needed: bool,
}

#[derive(Template)]
#[template(source = r#"<meta name="fhiriq-analytics" content="{{ config }}">"#, ext = "html")]
struct AnalyticsMeta<'a> {
    config: &'a str,
}

/// `html` for this visitor: the account link in place of "Sign in", and the operator's GA4/PostHog
/// configuration (the public part, as `/api/analytics/config` gives it) in a `<meta>` the page's
/// script reads. `None` when neither applies, so an anonymous page is served as it is.
pub fn personalize(
    html: &str,
    visitor: Option<&Visitor<'_>>,
    analytics: Option<&serde_json::Value>,
) -> Result<Option<String>> {
    if visitor.is_none() && analytics.is_none() {
        return Ok(None);
    }
    let mut out = html.to_owned();
    if let Some(visitor) = visitor {
        let link = rendered(AccountLink { email: visitor.email, payment_needed: visitor.payment_needed }.render())?;
        out = out.replacen(SIGN_IN_LINK, &link, 1);
    }
    if let Some(config) = analytics {
        let meta = rendered(AnalyticsMeta { config: &config.to_string() }.render())?;
        out = out.replacen("</head>", &format!("{meta}\n</head>"), 1);
    }
    Ok(Some(out))
}

pub fn status_page(view: &StatusView) -> Result<String> {
    let page = Page {
        title: "Status",
        description: "Current health, uptime and response times of every part of FHIR IQ.",
        path: "/status",
        meta: None,
    };
    rendered(StatusTemplate { page: &page, nav: &NAV, view }.render())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::status::build;
    use crate::monitoring::store::CheckRow;

    /// The files in `site/` are rendered from the templates. When a template changes, this test writes
    /// the new files and fails once, so the change is committed with the template (the pattern
    /// rust-analyzer uses for generated sources).
    #[test]
    fn static_pages_in_site_match_their_templates() {
        let site = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../site");
        let mut stale = Vec::new();
        for (file, html) in static_pages().expect("templates render") {
            let path = site.join(file);
            std::fs::create_dir_all(path.parent().expect("under site/")).expect("site/ is writable");
            if std::fs::read_to_string(&path).ok().as_deref() != Some(html.as_str()) {
                std::fs::write(&path, &html).expect("site/ is writable");
                stale.push(file);
            }
        }
        assert!(stale.is_empty(), "regenerated {stale:?} from shared/templates: commit them and rerun");
    }

    #[test]
    fn pages_use_no_inline_script_or_style_and_no_outside_origin() {
        for (file, html) in static_pages().expect("templates render") {
            let inline_scripts = html.matches("<script").count() - html.matches("<script src=\"/assets/js/").count();
            assert!(html.matches("<script src=").count() >= 2, "{file} loads the site scripts");
            assert_eq!(inline_scripts, 0, "{file} has an inline or outside script");
            assert!(!html.contains("style="), "{file} has an inline style");
            assert!(!html.contains("//fonts.") && !html.contains("cdn"), "{file} loads from a CDN");
            assert!(html.contains("<main id=\"main\""), "{file} has a main landmark");
        }
    }

    /// What a browser reads from an escaped attribute: named and numeric character references.
    fn decode_entities(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            let end = rest[i..].find(';').map(|e| i + e).expect("a reference ends with ';'");
            let name = &rest[i + 1..end];
            let decoded = match name {
                "quot" => '"',
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "apos" => '\'',
                _ => {
                    let number = name.strip_prefix('#').expect("a numeric reference");
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16),
                        None => number.parse(),
                    };
                    char::from_u32(code.expect("a number")).expect("a character")
                }
            };
            out.push(decoded);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn a_page_names_its_signed_in_visitor_and_carries_the_analytics_configuration() {
        let pages = static_pages().expect("templates render");
        for (file, html) in &pages {
            assert_eq!(html.matches(SIGN_IN_LINK).count(), 1, "{file} has the sign-in link once");
        }
        let home = &pages.iter().find(|(f, _)| *f == "index.html").expect("home").1;
        assert_eq!(personalize(home, None, None).expect("renders"), None, "a visitor's page is served as is");
        let visitor = Visitor { email: "a\"><script>x</script>@example.com", payment_needed: true };
        let config = serde_json::json!({"ga4": "G-ABC\"'<x>", "posthog": null});
        let page = personalize(home, Some(&visitor), Some(&config)).expect("renders").expect("changed");
        assert!(!page.contains(SIGN_IN_LINK) && page.contains(">Account</a>") && page.contains("data-payment-needed"));
        let link = page.split("id=\"nav-account\"").nth(1).expect("the link").split("</a>").next().expect("its end");
        assert!(!link.contains('<') && !link.contains("\"><"), "the email is escaped: {link}");
        // The attribute runs to the tag's end: escaping keeps every quote inside it as an entity.
        let meta = page.split("<meta name=\"fhiriq-analytics\" content=\"").nth(1).expect("the meta");
        let meta = meta.split("\">").next().expect("the tag's end");
        assert!(!meta.contains(['<', '>', '"', '\'']) && meta.contains("&#34;"), "{meta}");
        let decoded = decode_entities(meta);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&decoded).expect("JSON after decoding"), config);
        let unpaid = Visitor { email: "b@example.com", payment_needed: false };
        assert!(!personalize(home, Some(&unpaid), None).expect("renders").expect("changed").contains("data-payment"));
    }

    #[test]
    fn the_current_page_is_marked_in_the_navigation() {
        let pages = static_pages().expect("templates render");
        let about = &pages.iter().find(|(f, _)| *f == "about.html").expect("about").1;
        assert!(about.contains(r#"<a href="/about" aria-current="page">"#));
    }

    #[test]
    fn the_pricing_page_offers_checkout_to_members_and_sign_up_to_visitors() {
        use crate::auth::Role;
        use crate::billing::{catalog::Catalog, pricing};
        let catalog = Catalog::from_env(&std::collections::HashMap::<&str, &str>::new()).expect("catalog");
        let visitor = pricing_page(&pricing::view(&catalog, None, false, false)).expect("renders");
        assert!(visitor.contains(r#"href="/signup?next=/pricing">Choose Pro"#));
        assert!(!visitor.contains("data-checkout"));
        assert!(visitor.contains("$49<small>/month") && visitor.contains("$490<small>/year"));
        let student = pricing_page(&pricing::view(&catalog, Some(Role::Student), true, true)).expect("renders");
        assert!(student.contains(r#"data-checkout="pro""#) && student.contains(r#"data-checkout="enterprise""#));
        assert!(!student.contains(r#"data-checkout="student""#), "no second checkout for the current plan");
        assert!(student.contains("Your plan") && student.contains("data-portal"));
        assert!(student.contains("did not go through"), "the payment-needed banner");
        assert!(student.contains(r#"data-api="/api/billing/contact-sales""#));
    }

    #[test]
    fn endpoint_names_are_escaped_on_the_status_page() {
        let row = CheckRow {
            endpoint: "/<script>alert(1)</script>".into(),
            status_code: Some(200),
            response_time_ms: 5,
            state: "up".into(),
            error: None,
            checked_at: 0,
        };
        let html = status_page(&build(vec![row], vec![], 1)).expect("renders");
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"), "the escaped form is shown");
    }

    #[test]
    fn the_status_page_lists_the_scheduled_jobs_and_the_latest_backup() {
        use crate::backup::store::BackupRow;
        use crate::monitoring::jobs::JobRow;
        use crate::monitoring::status::{backup_view, jobs};
        let now = 1_000_000_000;
        let failed = JobRow {
            job: "monitor".into(),
            started_at: now - 120_000,
            duration_ms: 3,
            ok: 0,
            message: "configuration error: MONITOR_ENDPOINTS: \"<x>\" must be a site path".into(),
            last_ok_at: None,
        };
        let mut view = build(vec![], vec![], now);
        view.jobs = jobs(&[failed], now);
        let html = status_page(&view).expect("renders");
        assert!(html.contains("Scheduled jobs") && html.contains("No backup has been taken yet."));
        assert!(html.contains(r#"<h2 id="job-monitor">Endpoint monitor</h2>"#));
        assert!(html.contains(r#"<span class="pill pill-down">failed</span>"#));
        assert!(html.contains("2 min ago") && !html.contains("\"<x>\""), "the message is escaped");
        assert_eq!(html.matches("<dd>not run yet</dd>").count(), 9, "every other job is listed before its first run");
        let row = BackupRow {
            object_key: "daily/1970-01-12.sql".into(),
            bytes: 2_048,
            row_count: 12,
            migration: "0004_operations.sql".into(),
            created_at: now - 3_600_000,
        };
        view.backup = Some(backup_view(&row, now));
        let html = status_page(&view).expect("renders");
        assert!(html.contains("<code>daily/1970-01-12.sql</code> in R2") && html.contains("2.0 KB"));
        assert!(html.contains(">1 h ago</time>"));
    }
}
