//! Every route of the platform in one table, each declaring the access it needs. The site worker
//! dispatches only through [`resolve`], so an endpoint cannot exist without a declared [`Access`];
//! the OpenAPI test and the route-by-role integration test both walk [`ROUTES`].

use crate::auth::{Access, Permission};

/// A function worker reached at `/_functions/<name>` through a service binding of the site worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    /// The Velo-style public name: `/_functions/<name>`.
    pub name: &'static str,
    /// The service binding in the site worker's `wrangler.toml`.
    pub binding: &'static str,
}

pub const HEALTH: Function = Function { name: "health", binding: "HEALTH" };
pub const PROCESS_AI_QUERY: Function = Function { name: "processAIQuery", binding: "PROCESS_AI_QUERY" };
pub const CREATE_GITHUB_REPO: Function = Function { name: "createGitHubRepo", binding: "CREATE_GITHUB_REPO" };
pub const STRIPE_WEBHOOK: Function = Function { name: "stripeWebhook", binding: "STRIPE_WEBHOOK" };
pub const CREATE_VECTOR_EMBEDDING: Function =
    Function { name: "createVectorEmbedding", binding: "CREATE_VECTOR_EMBEDDING" };

pub const GITHUB_WEBHOOK: Function = Function { name: "githubWebhook", binding: "GITHUB_WEBHOOK" };
pub const CALENDLY_WEBHOOK: Function = Function { name: "calendlyWebhook", binding: "CALENDLY_WEBHOOK" };

pub const FUNCTIONS: [Function; 7] = [
    HEALTH,
    PROCESS_AI_QUERY,
    CREATE_GITHUB_REPO,
    STRIPE_WEBHOOK,
    CREATE_VECTOR_EMBEDDING,
    GITHUB_WEBHOOK,
    CALENDLY_WEBHOOK,
];

/// The static pages in `site/` (rendered from `shared/templates/`).
pub const STATIC_PAGES: [&str; 7] = ["/", "/about", "/signin", "/signup", "/reset", "/chat", "/tools/fhir-builder"];

/// The pages the monitor probes by default.
pub const MONITORED_PAGES: [&str; 3] = ["/", "/about", "/pricing"];

/// Each function's own liveness path (`/_functions/health` is the platform's full health check).
pub fn liveness_path(function: &Function) -> String {
    if *function == HEALTH { "/_functions/health".to_owned() } else { format!("/_functions/{}/health", function.name) }
}

pub use crate::content::routes::{ContentApi, ContentPage};

/// The JSON API the site worker serves itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Signup,
    Signin,
    Signout,
    SignoutEverywhere,
    /// Whether the browser is signed in (200 either way, for the navigation).
    State,
    Me,
    Sessions,
    ChangePassword,
    ResetRequest,
    Reset,
    /// `POST /api/auth/verify-email`: uses an email verification link's token.
    VerifyEmail,
    /// `POST /api/auth/verify-email/resend`: a new link for the signed-in, unverified caller.
    VerifyEmailResend,
    AdminSubscription,
    AdminOrder,
    Org,
    OrgInvite,
    OrgRemoveMember,
    OrgAccept,
    Search,
    /// The plans catalog: prices per plan and interval, and what each unlocks.
    BillingPlans,
    /// The caller's subscription, renewal and whether a payment is needed.
    Billing,
    BillingCheckout,
    BillingPortal,
    ContactSales,
    /// The Builder's choices: use cases, languages, auth flows, extras, every R4 resource type.
    BuilderOptions,
    /// The file list a configuration would produce (no contents): free users see what they would get.
    BuilderPreview,
    BuilderGenerate,
    /// `GET /api/builder/generations/{file}` with `{id}.zip`.
    BuilderZip,
    /// Connecting the caller's own GitHub account (user-to-server OAuth).
    GithubConnect,
    GithubCallback,
    GithubAccount,
    GithubDisconnect,
    /// The content API: lists, enrolment, progress, quizzes, downloads, and staff's editing.
    Content(ContentApi),
    /// `POST /api/events`: a batch of browser events.
    Events,
    /// `GET /api/analytics/config`: which optional third-party analytics (GA4, PostHog) are configured.
    AnalyticsConfig,
    /// `GET /api/analytics/reports/{report}?start=&end=&format=csv`.
    AnalyticsReport,
    AnalyticsFunnels,
    AnalyticsFunnel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Forward to a function worker.
    Function(Function),
    Api(Api),
    /// The server-rendered status page.
    Status,
    /// `/search?q=`: search results, server-rendered.
    SearchPage,
    /// `/fhir/R4`: every resource.
    ResourceIndex,
    /// `/fhir/R4/{resource}`: one resource's reference page.
    ResourcePage,
    /// The account page (static HTML, but only for signed-in users).
    AccountPage,
    /// A static page from `site/`.
    Asset,
    /// `/pricing`, rendered from the plans configuration (the caller's plan highlighted).
    Pricing,
    /// `/billing/success?session_id=`: applies the checkout at once and shows the new plan.
    BillingSuccess,
    /// `/billing/cancel`: nothing was charged.
    BillingCancel,
    Content(ContentPage),
    /// `/admin/content`: staff edit and publish content.
    AdminContent,
    /// `/analytics`: the dashboard (an enterprise owner's organisation, or the platform for staff).
    AnalyticsPage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: &'static str,
    /// Literal segments, and `{name}` for a parameter segment.
    pub path: &'static str,
    pub access: Access,
    pub target: Target,
}

const fn route(method: &'static str, path: &'static str, access: Access, target: Target) -> RouteSpec {
    RouteSpec { method, path, access, target }
}

use Access::{Admin, Either, Public, SignedIn, Verified};
use Permission::{
    AccessBasicChatbot, AccessFullChatbot, AnalyticsDashboard, BulkUserManagement, CreateGithubRepos,
    DownloadResources, TakeQuizzes, UseFhirBuilder,
};

pub const ROUTES: &[RouteSpec] = &[
    // Pages
    route("GET", "/", Public, Target::Asset),
    route("GET", "/about", Public, Target::Asset),
    route("GET", "/pricing", Public, Target::Pricing),
    route("GET", "/billing/success", SignedIn, Target::BillingSuccess),
    route("GET", "/billing/cancel", Public, Target::BillingCancel),
    route("GET", "/signin", Public, Target::Asset),
    route("GET", "/signup", Public, Target::Asset),
    route("GET", "/reset", Public, Target::Asset),
    route("GET", "/verify-email", Public, Target::Asset),
    route("GET", "/chat", Public, Target::Asset),
    route("GET", "/status", Public, Target::Status),
    route("GET", "/search", Public, Target::SearchPage),
    route("GET", "/fhir/R4", Public, Target::ResourceIndex),
    route("GET", "/fhir/R4/{resource}", Public, Target::ResourcePage),
    route("GET", "/account", SignedIn, Target::AccountPage),
    route("GET", "/tools/fhir-builder", Public, Target::Asset),
    // Content (after /tools/fhir-builder, which the first match serves)
    route("GET", "/tools", Public, Target::Content(ContentPage::Tools)),
    route("GET", "/tools/{slug}", Public, Target::Content(ContentPage::Tool)),
    route("GET", "/courses", Public, Target::Content(ContentPage::Courses)),
    route("GET", "/courses/{slug}", Public, Target::Content(ContentPage::Course)),
    route("GET", "/courses/{slug}/{lesson}", Public, Target::Content(ContentPage::Lesson)),
    route("GET", "/courses/{slug}/quizzes/{quiz}", Public, Target::Content(ContentPage::Quiz)),
    route("GET", "/blog", Public, Target::Content(ContentPage::Blog)),
    route("GET", "/blog/feed.xml", Public, Target::Content(ContentPage::Feed)),
    route("GET", "/blog/{slug}", Public, Target::Content(ContentPage::Post)),
    route("GET", "/sitemap.xml", Public, Target::Content(ContentPage::Sitemap)),
    route("GET", "/robots.txt", Public, Target::Content(ContentPage::Robots)),
    route("GET", "/admin/content", Admin, Target::AdminContent),
    route("GET", "/analytics", Access::PermissionOrAdmin(AnalyticsDashboard), Target::AnalyticsPage),
    // Accounts
    route("POST", "/api/auth/signup", Public, Target::Api(Api::Signup)),
    route("POST", "/api/auth/signin", Public, Target::Api(Api::Signin)),
    route("POST", "/api/auth/signout", Public, Target::Api(Api::Signout)),
    route("POST", "/api/auth/signout-everywhere", SignedIn, Target::Api(Api::SignoutEverywhere)),
    route("GET", "/api/auth/state", Public, Target::Api(Api::State)),
    route("GET", "/api/auth/me", SignedIn, Target::Api(Api::Me)),
    route("GET", "/api/auth/sessions", SignedIn, Target::Api(Api::Sessions)),
    route("POST", "/api/auth/password", SignedIn, Target::Api(Api::ChangePassword)),
    route("POST", "/api/auth/reset-request", Public, Target::Api(Api::ResetRequest)),
    route("POST", "/api/auth/reset", Public, Target::Api(Api::Reset)),
    route("POST", "/api/auth/verify-email", Public, Target::Api(Api::VerifyEmail)),
    route("POST", "/api/auth/verify-email/resend", SignedIn, Target::Api(Api::VerifyEmailResend)),
    // Staff
    route("POST", "/api/admin/subscriptions", Admin, Target::Api(Api::AdminSubscription)),
    route("POST", "/api/admin/orders", Admin, Target::Api(Api::AdminOrder)),
    // Organisations (enterprise)
    route("GET", "/api/org", Access::Permission(BulkUserManagement), Target::Api(Api::Org)),
    route(
        "POST",
        "/api/org/invitations",
        Verified(&Access::Permission(BulkUserManagement)),
        Target::Api(Api::OrgInvite),
    ),
    route(
        "DELETE",
        "/api/org/members/{userId}",
        Access::Permission(BulkUserManagement),
        Target::Api(Api::OrgRemoveMember),
    ),
    route("POST", "/api/org/invitations/accept", Verified(&SignedIn), Target::Api(Api::OrgAccept)),
    // Plans and payments
    route("GET", "/api/billing/plans", Public, Target::Api(Api::BillingPlans)),
    route("GET", "/api/billing", SignedIn, Target::Api(Api::Billing)),
    route("POST", "/api/billing/checkout", Verified(&SignedIn), Target::Api(Api::BillingCheckout)),
    route("POST", "/api/billing/portal", SignedIn, Target::Api(Api::BillingPortal)),
    route("POST", "/api/billing/contact-sales", Public, Target::Api(Api::ContactSales)),
    // The FHIR Builder
    route("GET", "/api/builder/options", Public, Target::Api(Api::BuilderOptions)),
    route("POST", "/api/builder/preview", Public, Target::Api(Api::BuilderPreview)),
    route("POST", "/api/builder/generate", Access::Permission(UseFhirBuilder), Target::Api(Api::BuilderGenerate)),
    route("GET", "/api/builder/generations/{file}", Access::Permission(UseFhirBuilder), Target::Api(Api::BuilderZip)),
    // The caller's own GitHub account, for pushing there
    route(
        "GET",
        "/api/github/connect",
        Verified(&Access::Permission(CreateGithubRepos)),
        Target::Api(Api::GithubConnect),
    ),
    route(
        "GET",
        "/api/github/callback",
        Verified(&Access::Permission(CreateGithubRepos)),
        Target::Api(Api::GithubCallback),
    ),
    route("GET", "/api/github/account", Access::Permission(CreateGithubRepos), Target::Api(Api::GithubAccount)),
    route("DELETE", "/api/github/account", Access::Permission(CreateGithubRepos), Target::Api(Api::GithubDisconnect)),
    // Knowledge base
    route("GET", "/api/search", Public, Target::Api(Api::Search)),
    // Content: lists, enrolment, progress, quizzes, downloads
    route("GET", "/api/tools", Public, Target::Api(Api::Content(ContentApi::Tools))),
    route("GET", "/api/courses", Public, Target::Api(Api::Content(ContentApi::Courses))),
    route(
        "POST",
        "/api/courses/{slug}/enroll",
        Verified(&SignedIn),
        Target::Api(Api::Content(ContentApi::CourseEnroll)),
    ),
    route("GET", "/api/courses/{slug}/progress", SignedIn, Target::Api(Api::Content(ContentApi::CourseProgress))),
    route(
        "POST",
        "/api/courses/{slug}/lessons/{lesson}/complete",
        Access::Permission(TakeQuizzes),
        Target::Api(Api::Content(ContentApi::LessonComplete)),
    ),
    route(
        "GET",
        "/api/courses/{slug}/quizzes/{quiz}",
        Access::Permission(TakeQuizzes),
        Target::Api(Api::Content(ContentApi::Quiz)),
    ),
    route(
        "POST",
        "/api/courses/{slug}/quizzes/{quiz}/attempts",
        Access::Permission(TakeQuizzes),
        Target::Api(Api::Content(ContentApi::QuizAttempt)),
    ),
    route(
        "GET",
        "/api/courses/{slug}/resources/{file}",
        Access::Permission(DownloadResources),
        Target::Api(Api::Content(ContentApi::CourseResource)),
    ),
    // Analytics: first-party events in, reports and funnels out
    route("POST", "/api/events", Public, Target::Api(Api::Events)),
    route("GET", "/api/analytics/config", Public, Target::Api(Api::AnalyticsConfig)),
    route(
        "GET",
        "/api/analytics/reports/{report}",
        Access::PermissionOrAdmin(AnalyticsDashboard),
        Target::Api(Api::AnalyticsReport),
    ),
    route(
        "GET",
        "/api/analytics/funnels",
        Access::PermissionOrAdmin(AnalyticsDashboard),
        Target::Api(Api::AnalyticsFunnels),
    ),
    route(
        "GET",
        "/api/analytics/funnels/{id}",
        Access::PermissionOrAdmin(AnalyticsDashboard),
        Target::Api(Api::AnalyticsFunnel),
    ),
    route("GET", "/api/admin/content", Admin, Target::Api(Api::Content(ContentApi::AdminContentList))),
    route("GET", "/api/admin/content/{kind}/{slug}", Admin, Target::Api(Api::Content(ContentApi::AdminContentGet))),
    route("PUT", "/api/admin/content/{kind}/{slug}", Admin, Target::Api(Api::Content(ContentApi::AdminContentPut))),
    route(
        "POST",
        "/api/admin/content/{kind}/{slug}/publish",
        Admin,
        Target::Api(Api::Content(ContentApi::AdminContentPublish)),
    ),
    route(
        "POST",
        "/api/admin/content/{kind}/{slug}/unpublish",
        Admin,
        Target::Api(Api::Content(ContentApi::AdminContentUnpublish)),
    ),
    // Functions
    route("GET", "/_functions/health", Public, Target::Function(HEALTH)),
    route(
        "POST",
        "/_functions/processAIQuery",
        Either(AccessBasicChatbot, AccessFullChatbot),
        Target::Function(PROCESS_AI_QUERY),
    ),
    route("GET", "/_functions/processAIQuery/health", Public, Target::Function(PROCESS_AI_QUERY)),
    route(
        "POST",
        "/_functions/createGitHubRepo",
        Verified(&Access::Permission(CreateGithubRepos)),
        Target::Function(CREATE_GITHUB_REPO),
    ),
    route("GET", "/_functions/createGitHubRepo/health", Public, Target::Function(CREATE_GITHUB_REPO)),
    // Stripe signs its webhooks; the function verifies the signature, so no session is needed.
    route("POST", "/_functions/stripeWebhook", Public, Target::Function(STRIPE_WEBHOOK)),
    route("GET", "/_functions/stripeWebhook/health", Public, Target::Function(STRIPE_WEBHOOK)),
    // GitHub signs its webhooks (X-Hub-Signature-256); the function verifies them.
    route("POST", "/_functions/githubWebhook", Public, Target::Function(GITHUB_WEBHOOK)),
    route("GET", "/_functions/githubWebhook/health", Public, Target::Function(GITHUB_WEBHOOK)),
    // Calendly signs its webhooks (Calendly-Webhook-Signature); the function verifies them.
    route("POST", "/_functions/calendlyWebhook", Public, Target::Function(CALENDLY_WEBHOOK)),
    route("GET", "/_functions/calendlyWebhook/health", Public, Target::Function(CALENDLY_WEBHOOK)),
    route(
        "POST",
        "/_functions/createVectorEmbedding",
        Access::AdminOrService,
        Target::Function(CREATE_VECTOR_EMBEDDING),
    ),
    route("GET", "/_functions/createVectorEmbedding/health", Public, Target::Function(CREATE_VECTOR_EMBEDDING)),
];

/// Every public path, in the form `docs/openapi.yaml` writes them.
pub fn public_paths() -> Vec<String> {
    let mut paths: Vec<String> = ROUTES.iter().map(|r| r.path.to_owned()).collect();
    paths.dedup();
    paths
}

/// What the site worker does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Route(RouteSpec, Vec<(&'static str, String)>),
    /// The path exists, not for this method.
    MethodNotAllowed(String),
    /// `/_functions/<unknown>` or `/api/<unknown>`: a JSON 404.
    UnknownEndpoint,
    /// Everything else: a static asset (css, fonts) or the 404 page.
    Asset,
}

fn matches(pattern: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut params = Vec::new();
    let mut pattern_segments = pattern.split('/');
    let mut path_segments = path.split('/');
    loop {
        match (pattern_segments.next(), path_segments.next()) {
            (None, None) => return Some(params),
            (Some(p), Some(s)) if p.starts_with('{') && p.ends_with('}') && !s.is_empty() => {
                params.push((&p[1..p.len() - 1], s.to_owned()));
            }
            (Some(p), Some(s)) if p == s => {}
            _ => return None,
        }
    }
}

pub fn resolve(method: &str, path: &str) -> Resolved {
    let path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
    let method = if method == "HEAD" { "GET" } else { method };
    let mut allowed = Vec::new();
    for spec in ROUTES {
        if let Some(params) = matches(spec.path, path) {
            if spec.method == method {
                return Resolved::Route(*spec, params);
            }
            allowed.push(spec.method);
        }
    }
    if !allowed.is_empty() {
        allowed.dedup();
        if allowed.contains(&"GET") {
            allowed.push("HEAD");
        }
        return Resolved::MethodNotAllowed(allowed.join(", "));
    }
    if path.starts_with("/_functions/") || path.starts_with("/api/") || path == "/api" {
        return Resolved::UnknownEndpoint;
    }
    // Static files and pages are read, never written: any other method (POST, or one the runtime
    // passes through unknown to the route table, such as QUERY) is a 405 in the JSON error shape.
    if method != "GET" {
        return Resolved::MethodNotAllowed("GET, HEAD".into());
    }
    Resolved::Asset
}

/// Where to send a browser after it signs in or up: `next` when it is a same-origin path to one of
/// our own pages (a GET route that is not an API or a function), else `None` (the caller's default).
/// The browser follows only what the server answers, so the check is made once, here. Refused:
/// anything not starting with one `/` (`//evil`, `/\evil`), any character outside a plain URL set
/// (backslash, whitespace and control characters such as a tab, which browsers strip, so that
/// `/%09/evil`, decoded by the query string to `/\t/evil`, would become `//evil`), percent escapes or
/// dot segments in the path, and paths that are not in the route table.
pub fn safe_next(next: &str) -> Option<String> {
    const ALLOWED: &[u8] = b"-._~/?=&%+:@!$,;*()";
    if next.len() > 512 || !next.starts_with('/') {
        return None;
    }
    if !next.bytes().all(|b| b.is_ascii_alphanumeric() || ALLOWED.contains(&b)) {
        return None;
    }
    let path = next.split_once('?').map_or(next, |(path, _)| path);
    if path.starts_with("//") || path.contains('%') || path.split('/').any(|segment| segment == "." || segment == "..")
    {
        return None;
    }
    match resolve("GET", path) {
        Resolved::Route(spec, _) if !matches!(spec.target, Target::Api(_) | Target::Function(_)) => {
            Some(next.to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(method: &str, path: &str) -> Option<Target> {
        match resolve(method, path) {
            Resolved::Route(spec, _) => Some(spec.target),
            _ => None,
        }
    }

    #[test]
    fn function_paths_route_to_their_binding() {
        assert_eq!(target("GET", "/_functions/health"), Some(Target::Function(HEALTH)));
        assert_eq!(target("POST", "/_functions/processAIQuery"), Some(Target::Function(PROCESS_AI_QUERY)));
        assert_eq!(target("GET", "/_functions/stripeWebhook/health"), Some(Target::Function(STRIPE_WEBHOOK)));
    }

    #[test]
    fn wrong_methods_unknown_endpoints_and_assets_are_told_apart() {
        assert_eq!(resolve("GET", "/_functions/processAIQuery"), Resolved::MethodNotAllowed("POST".into()));
        assert_eq!(resolve("DELETE", "/status"), Resolved::MethodNotAllowed("GET, HEAD".into()));
        assert_eq!(resolve("GET", "/_functions/nope"), Resolved::UnknownEndpoint);
        assert_eq!(resolve("GET", "/_functions/Health"), Resolved::UnknownEndpoint, "names are case-sensitive");
        assert_eq!(resolve("POST", "/api/auth/nope"), Resolved::UnknownEndpoint);
        assert_eq!(resolve("GET", "/css/main.css"), Resolved::Asset);
        assert_eq!(resolve("GET", "/_functionsX"), Resolved::Asset);
        assert_eq!(target("HEAD", "/status"), Some(Target::Status));
        assert_eq!(target("GET", "/status/"), Some(Target::Status));
    }

    #[test]
    fn a_method_no_route_names_is_405_on_routes_and_on_static_files() {
        // The method as the client sent it: worker's `Method` would have read QUERY as GET.
        for method in ["QUERY", "FOO", "PROPFIND", "get"] {
            assert_eq!(resolve(method, "/status"), Resolved::MethodNotAllowed("GET, HEAD".into()), "{method}");
            assert_eq!(resolve(method, "/_functions/health"), Resolved::MethodNotAllowed("GET, HEAD".into()));
            assert_eq!(resolve(method, "/_functions/processAIQuery"), Resolved::MethodNotAllowed("POST".into()));
            assert_eq!(resolve(method, "/"), Resolved::MethodNotAllowed("GET, HEAD".into()), "{method} /");
            assert_eq!(resolve(method, "/css/main.css"), Resolved::MethodNotAllowed("GET, HEAD".into()));
        }
        assert_eq!(resolve("POST", "/about"), Resolved::MethodNotAllowed("GET, HEAD".into()));
        assert_eq!(resolve("HEAD", "/css/main.css"), Resolved::Asset);
    }

    #[test]
    fn parameters_are_extracted() {
        match resolve("DELETE", "/api/org/members/abc123") {
            Resolved::Route(spec, params) => {
                assert_eq!(spec.target, Target::Api(Api::OrgRemoveMember));
                assert_eq!(params, vec![("userId", "abc123".to_owned())]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(resolve("DELETE", "/api/org/members/"), Resolved::UnknownEndpoint);
    }

    #[test]
    fn every_function_and_liveness_path_is_routed() {
        let paths = public_paths();
        for function in FUNCTIONS {
            assert!(paths.contains(&format!("/_functions/{}", function.name)));
            assert!(paths.contains(&liveness_path(&function)));
        }
    }

    #[test]
    fn no_two_routes_share_a_method_and_path() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "{} {} twice", a.method, a.path);
            }
        }
    }

    #[test]
    fn only_our_own_pages_are_followed_after_signing_in() {
        for good in ["/account", "/courses/smart-on-fhir", "/pricing?plan=pro", "/fhir/R4/Patient", "/"] {
            assert_eq!(safe_next(good).as_deref(), Some(good), "{good}");
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\tevil",
            "/\t/evil.example",
            "/%09/evil.example",
            "/%2F%2Fevil.example",
            "https://evil.example/account",
            "javascript:alert(1)",
            " /account",
            "/account\n",
            "/api/auth/me",
            "/_functions/processAIQuery",
            "/no-such-page",
            "/courses/../../evil",
            "",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
        assert_eq!(safe_next(&format!("/account?x={}", "a".repeat(600))), None, "too long");
    }
}
