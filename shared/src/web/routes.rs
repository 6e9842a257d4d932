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
/// The FHIR Builder's API (`/api/builder/*`: options, preview, generation, the ZIP, the GitHub
/// account), as the original design named it.
pub const GENERATE_FHIR_CODE: Function = Function { name: "generateFHIRCode", binding: "GENERATE_FHIR_CODE" };
/// The rest of the JSON API (`/api/*`: accounts, billing, content, search, analytics) and the events
/// queue's consumer, so the site worker carries only pages, routing and the crons.
pub const PLATFORM_API: Function = Function { name: "platformApi", binding: "PLATFORM_API" };
/// The server-rendered pages (content, the FHIR reference, pricing and checkout's return, the staff
/// editor's and the analytics dashboard's shells), so the site worker carries no page renderer.
pub const RENDER_PAGES: Function = Function { name: "renderPages", binding: "RENDER_PAGES" };

pub const FUNCTIONS: [Function; 10] = [
    HEALTH,
    PROCESS_AI_QUERY,
    CREATE_GITHUB_REPO,
    STRIPE_WEBHOOK,
    CREATE_VECTOR_EMBEDDING,
    GITHUB_WEBHOOK,
    CALENDLY_WEBHOOK,
    GENERATE_FHIR_CODE,
    PLATFORM_API,
    RENDER_PAGES,
];

/// The functions that serve routes of the table ([`Target::host`]: the JSON API and the rendered
/// pages) rather than a `/_functions/<name>` route of their own; each still answers liveness at
/// `/_functions/<name>/health`.
pub const HOSTS: [Function; 3] = [GENERATE_FHIR_CODE, PLATFORM_API, RENDER_PAGES];

/// The static pages in `site/` (rendered from `shared/templates/`).
pub const STATIC_PAGES: [&str; 7] = ["/", "/about", "/signin", "/signup", "/reset", "/chat", "/tools/fhir-builder"];

/// The pages the monitor probes by default.
pub const MONITORED_PAGES: [&str; 3] = ["/", "/about", "/pricing"];

/// Each function's own liveness path (`/_functions/health` is the platform's full health check).
pub fn liveness_path(function: &Function) -> String {
    if *function == HEALTH { "/_functions/health".to_owned() } else { format!("/_functions/{}/health", function.name) }
}

/// What a function worker does with a request the site signed (`workers::function::serve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionRoute {
    /// Its own route: authorize the caller for `access`, then run the handler.
    Own(Access),
    /// A route of the table this function hosts ([`HOSTS`]): authorize the caller for `access`,
    /// then answer `target` with the path's parameters.
    Hosted {
        access: Access,
        target: Target,
        params: Vec<(&'static str, String)>,
    },
    /// `GET` or `HEAD` of its liveness path.
    Liveness,
    /// Its own path or liveness path with another method: 405 naming what is allowed.
    WrongMethod(String),
    NotFound,
}

/// Where `method path` (the method as sent) goes in `function`. Its own route and access come from
/// [`ROUTES`], the same table the site authorizes with.
pub fn function_route(function: &Function, method: &str, path: &str) -> FunctionRoute {
    if HOSTS.contains(function) && path != liveness_path(function) {
        // The same resolution as the site's; a route another worker hosts is not found here.
        return match resolve(method, path) {
            Resolved::Route(RouteSpec { access, target, .. }, params) if target.host() == Some(*function) => {
                FunctionRoute::Hosted { access, target, params }
            }
            Resolved::MethodNotAllowed(allowed) if hosts_path(function, path) => FunctionRoute::WrongMethod(allowed),
            _ => FunctionRoute::NotFound,
        };
    }
    let own_path = format!("/_functions/{}", function.name);
    let own = ROUTES.iter().find(|spec| spec.target == Target::Function(*function) && spec.path == own_path);
    let reads = |allowed: &str| method == allowed || (method == "HEAD" && allowed == "GET");
    match own {
        Some(spec) if path == own_path && reads(spec.method) => FunctionRoute::Own(spec.access),
        _ if path == liveness_path(function) => {
            if reads("GET") {
                FunctionRoute::Liveness
            } else {
                FunctionRoute::WrongMethod("GET, HEAD".into())
            }
        }
        Some(spec) if path == own_path => {
            FunctionRoute::WrongMethod(if spec.method == "GET" { "GET, HEAD" } else { spec.method }.into())
        }
        _ => FunctionRoute::NotFound,
    }
}

/// Whether some route `function` hosts has `path` (under any method).
fn hosts_path(function: &Function, path: &str) -> bool {
    let path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
    ROUTES.iter().any(|spec| spec.target.host() == Some(*function) && matches(spec.path, path).is_some())
}

pub use crate::content::routes::{ContentApi, ContentPage};

/// The JSON API the site worker serves itself, by domain: each domain's dispatcher in the site
/// worker matches its own enum exhaustively, so a route added here and not served there fails to
/// compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Accounts(AccountsApi),
    Billing(BillingApi),
    Builder(BuilderApi),
    /// `GET /api/search?q=&k=`: the knowledge base.
    Search,
    /// The content API: lists, enrolment, progress, quizzes, downloads, and staff's editing.
    Content(ContentApi),
    Analytics(AnalyticsApi),
    Support(SupportApi),
}

/// The support desk: a user's own requests and replies, and staff's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupportApi {
    /// The caller's requests with their threads.
    List,
    Open,
    /// The caller's reply to their own request.
    Reply,
    /// Staff's reply (emailed to the user), leaving the request answered or closed.
    StaffReply,
}

impl Api {
    /// The function worker that answers this part of the API (the site forwards it there).
    pub fn host(self) -> Function {
        match self {
            Api::Builder(_) => GENERATE_FHIR_CODE,
            Api::Accounts(_)
            | Api::Billing(_)
            | Api::Search
            | Api::Content(_)
            | Api::Analytics(_)
            | Api::Support(_) => PLATFORM_API,
        }
    }
}

/// Accounts, sessions, email verification, password resets, staff's plan changes, organisations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountsApi {
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
    /// Staff grant or revoke staff.
    AdminUserStaff,
    /// Staff disable (sessions end, no sign-in) or enable an account.
    AdminUserDisable,
    /// Staff send an account a new verification or password-reset email.
    AdminUserResend,
    Org,
    OrgInvite,
    OrgRemoveMember,
    OrgAccept,
}

/// Plans, the caller's billing, Stripe Checkout and portal, contact sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingApi {
    /// The plans catalog: prices per plan and interval, and what each unlocks.
    Plans,
    /// The caller's subscription, renewal and whether a payment is needed.
    Summary,
    /// The caller's own payments: subscription invoices and one-time purchases, with receipts.
    Payments,
    Checkout,
    Portal,
    ContactSales,
}

/// The FHIR Builder and the GitHub account it pushes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuilderApi {
    /// The Builder's choices: use cases, languages, auth flows, extras, every R4 resource type.
    Options,
    /// The file list a configuration would produce (no contents): free users see what they would get.
    Preview,
    Generate,
    /// `GET /api/builder/generations/{file}` with `{id}.zip`.
    Zip,
    /// Connecting the caller's own GitHub account (user-to-server OAuth).
    GithubConnect,
    GithubCallback,
    GithubAccount,
    GithubDisconnect,
}

/// First-party events and the reports on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalyticsApi {
    /// `POST /api/events`: a batch of browser events.
    Events,
    /// `GET /api/analytics/config`: which optional third-party analytics (GA4, PostHog) are configured.
    Config,
    /// `GET /api/analytics/reports/{report}?start=&end=&format=csv`.
    Report,
    Funnels,
    Funnel,
    /// `POST /api/admin/analytics/replay`: the dead-lettered events kept in R2, written again.
    Replay,
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
    /// A static page only for signed-in users (`/account`, `/support`); others go to sign in first.
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
    /// `/admin/support`: the support inbox, waiting requests first, priority first.
    SupportInbox,
    /// `/admin/audit`: every staff action, newest first.
    AuditLog,
    /// `/admin/users?q=`: accounts by email, with staff's actions on each.
    AdminUsers,
    /// `/admin/orders?kind=&status=&q=`: one-time orders and subscription payments, linked to Stripe.
    AdminOrders,
    /// `/admin/inquiries`: enterprise sales inquiries.
    AdminInquiries,
}

impl Target {
    /// A page a browser shows, with the site's navigation (as opposed to an API or a function).
    pub fn is_page(self) -> bool {
        !matches!(self, Target::Api(_) | Target::Function(_))
    }

    /// A page that sends a signed-out visitor to sign in (then back) instead of answering 401.
    pub fn sends_to_sign_in(self) -> bool {
        matches!(
            self,
            Target::AccountPage
                | Target::BillingSuccess
                | Target::AdminContent
                | Target::AnalyticsPage
                | Target::SupportInbox
                | Target::AuditLog
                | Target::AdminUsers
                | Target::AdminOrders
                | Target::AdminInquiries
        )
    }

    /// The function worker that answers this route for the site, if one of [`HOSTS`] does (a
    /// `/_functions/<name>` route is its function's own, not hosted). The site answers the rest
    /// itself: static pages, the account page's shell and `/status`.
    pub fn host(self) -> Option<Function> {
        match self {
            Target::Api(api) => Some(api.host()),
            Target::Content(_)
            | Target::SearchPage
            | Target::ResourceIndex
            | Target::ResourcePage
            | Target::Pricing
            | Target::BillingSuccess
            | Target::BillingCancel
            | Target::AdminContent
            | Target::AnalyticsPage
            | Target::SupportInbox
            | Target::AuditLog
            | Target::AdminUsers
            | Target::AdminOrders
            | Target::AdminInquiries => Some(RENDER_PAGES),
            Target::Function(_) | Target::Status | Target::AccountPage | Target::Asset => None,
        }
    }
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
    route("GET", "/admin/support", Admin, Target::SupportInbox),
    route("GET", "/admin/audit", Admin, Target::AuditLog),
    route("GET", "/admin/users", Admin, Target::AdminUsers),
    route("GET", "/admin/orders", Admin, Target::AdminOrders),
    route("GET", "/admin/inquiries", Admin, Target::AdminInquiries),
    route("GET", "/support", SignedIn, Target::AccountPage),
    route("GET", "/analytics", Access::PermissionOrAdmin(AnalyticsDashboard), Target::AnalyticsPage),
    // Accounts
    route("POST", "/api/auth/signup", Public, Target::Api(Api::Accounts(AccountsApi::Signup))),
    route("POST", "/api/auth/signin", Public, Target::Api(Api::Accounts(AccountsApi::Signin))),
    route("POST", "/api/auth/signout", Public, Target::Api(Api::Accounts(AccountsApi::Signout))),
    route("POST", "/api/auth/signout-everywhere", SignedIn, Target::Api(Api::Accounts(AccountsApi::SignoutEverywhere))),
    route("GET", "/api/auth/state", Public, Target::Api(Api::Accounts(AccountsApi::State))),
    route("GET", "/api/auth/me", SignedIn, Target::Api(Api::Accounts(AccountsApi::Me))),
    route("GET", "/api/auth/sessions", SignedIn, Target::Api(Api::Accounts(AccountsApi::Sessions))),
    route("POST", "/api/auth/password", SignedIn, Target::Api(Api::Accounts(AccountsApi::ChangePassword))),
    route("POST", "/api/auth/reset-request", Public, Target::Api(Api::Accounts(AccountsApi::ResetRequest))),
    route("POST", "/api/auth/reset", Public, Target::Api(Api::Accounts(AccountsApi::Reset))),
    route("POST", "/api/auth/verify-email", Public, Target::Api(Api::Accounts(AccountsApi::VerifyEmail))),
    route(
        "POST",
        "/api/auth/verify-email/resend",
        SignedIn,
        Target::Api(Api::Accounts(AccountsApi::VerifyEmailResend)),
    ),
    // Staff
    route("POST", "/api/admin/subscriptions", Admin, Target::Api(Api::Accounts(AccountsApi::AdminSubscription))),
    route("POST", "/api/admin/orders", Admin, Target::Api(Api::Accounts(AccountsApi::AdminOrder))),
    route("POST", "/api/admin/users/{id}/staff", Admin, Target::Api(Api::Accounts(AccountsApi::AdminUserStaff))),
    route("POST", "/api/admin/users/{id}/disable", Admin, Target::Api(Api::Accounts(AccountsApi::AdminUserDisable))),
    route("POST", "/api/admin/users/{id}/resend", Admin, Target::Api(Api::Accounts(AccountsApi::AdminUserResend))),
    // Organisations (enterprise)
    route("GET", "/api/org", Access::Permission(BulkUserManagement), Target::Api(Api::Accounts(AccountsApi::Org))),
    route(
        "POST",
        "/api/org/invitations",
        Verified(&Access::Permission(BulkUserManagement)),
        Target::Api(Api::Accounts(AccountsApi::OrgInvite)),
    ),
    route(
        "DELETE",
        "/api/org/members/{userId}",
        Access::Permission(BulkUserManagement),
        Target::Api(Api::Accounts(AccountsApi::OrgRemoveMember)),
    ),
    route(
        "POST",
        "/api/org/invitations/accept",
        Verified(&SignedIn),
        Target::Api(Api::Accounts(AccountsApi::OrgAccept)),
    ),
    // Plans and payments
    route("GET", "/api/billing/plans", Public, Target::Api(Api::Billing(BillingApi::Plans))),
    route("GET", "/api/billing", SignedIn, Target::Api(Api::Billing(BillingApi::Summary))),
    route("GET", "/api/billing/payments", SignedIn, Target::Api(Api::Billing(BillingApi::Payments))),
    route("GET", "/api/support/requests", SignedIn, Target::Api(Api::Support(SupportApi::List))),
    route("POST", "/api/support/requests", SignedIn, Target::Api(Api::Support(SupportApi::Open))),
    route("POST", "/api/support/requests/{id}/messages", SignedIn, Target::Api(Api::Support(SupportApi::Reply))),
    route("POST", "/api/admin/support/{id}/reply", Admin, Target::Api(Api::Support(SupportApi::StaffReply))),
    route("POST", "/api/billing/checkout", Verified(&SignedIn), Target::Api(Api::Billing(BillingApi::Checkout))),
    route("POST", "/api/billing/portal", SignedIn, Target::Api(Api::Billing(BillingApi::Portal))),
    route("POST", "/api/billing/contact-sales", Public, Target::Api(Api::Billing(BillingApi::ContactSales))),
    // The FHIR Builder
    route("GET", "/api/builder/options", Public, Target::Api(Api::Builder(BuilderApi::Options))),
    route("POST", "/api/builder/preview", Public, Target::Api(Api::Builder(BuilderApi::Preview))),
    route(
        "POST",
        "/api/builder/generate",
        Access::Permission(UseFhirBuilder),
        Target::Api(Api::Builder(BuilderApi::Generate)),
    ),
    route(
        "GET",
        "/api/builder/generations/{file}",
        Access::Permission(UseFhirBuilder),
        Target::Api(Api::Builder(BuilderApi::Zip)),
    ),
    // The caller's own GitHub account, for pushing there
    route(
        "GET",
        "/api/github/connect",
        Verified(&Access::Permission(CreateGithubRepos)),
        Target::Api(Api::Builder(BuilderApi::GithubConnect)),
    ),
    route(
        "GET",
        "/api/github/callback",
        Verified(&Access::Permission(CreateGithubRepos)),
        Target::Api(Api::Builder(BuilderApi::GithubCallback)),
    ),
    route(
        "GET",
        "/api/github/account",
        Access::Permission(CreateGithubRepos),
        Target::Api(Api::Builder(BuilderApi::GithubAccount)),
    ),
    route(
        "DELETE",
        "/api/github/account",
        Access::Permission(CreateGithubRepos),
        Target::Api(Api::Builder(BuilderApi::GithubDisconnect)),
    ),
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
    route("POST", "/api/events", Public, Target::Api(Api::Analytics(AnalyticsApi::Events))),
    route("GET", "/api/analytics/config", Public, Target::Api(Api::Analytics(AnalyticsApi::Config))),
    route(
        "POST",
        "/api/admin/analytics/replay",
        Access::AdminOrService,
        Target::Api(Api::Analytics(AnalyticsApi::Replay)),
    ),
    route(
        "GET",
        "/api/analytics/reports/{report}",
        Access::PermissionOrAdmin(AnalyticsDashboard),
        Target::Api(Api::Analytics(AnalyticsApi::Report)),
    ),
    route(
        "GET",
        "/api/analytics/funnels",
        Access::PermissionOrAdmin(AnalyticsDashboard),
        Target::Api(Api::Analytics(AnalyticsApi::Funnels)),
    ),
    route(
        "GET",
        "/api/analytics/funnels/{id}",
        Access::PermissionOrAdmin(AnalyticsDashboard),
        Target::Api(Api::Analytics(AnalyticsApi::Funnel)),
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
    // The hosts: only their liveness is a /_functions path (their routes are the pages and /api/* above).
    route("GET", "/_functions/generateFHIRCode/health", Public, Target::Function(GENERATE_FHIR_CODE)),
    route("GET", "/_functions/platformApi/health", Public, Target::Function(PLATFORM_API)),
    route("GET", "/_functions/renderPages/health", Public, Target::Function(RENDER_PAGES)),
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

/// A resolved route's path parameter (`{name}` in its path), or empty when it has none by that name.
pub fn param<'a>(params: &'a [(&'static str, String)], name: &str) -> &'a str {
    params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or_default()
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

    #[test]
    fn a_function_answers_its_own_route_its_liveness_and_nothing_else() {
        use FunctionRoute::*;
        let ask = &PROCESS_AI_QUERY;
        let own = function_route(ask, "POST", "/_functions/processAIQuery");
        assert_eq!(own, Own(Either(Permission::AccessBasicChatbot, Permission::AccessFullChatbot)));
        assert_eq!(function_route(ask, "GET", "/_functions/processAIQuery"), WrongMethod("POST".into()));
        assert_eq!(function_route(ask, "QUERY", "/_functions/processAIQuery"), WrongMethod("POST".into()));
        assert_eq!(function_route(ask, "HEAD", "/_functions/processAIQuery/health"), Liveness);
        assert_eq!(function_route(ask, "POST", "/_functions/processAIQuery/health"), WrongMethod("GET, HEAD".into()));
        assert_eq!(function_route(ask, "POST", "/_functions/createGitHubRepo"), NotFound);
        assert_eq!(function_route(ask, "POST", "/_functions/processAIQuery/"), NotFound);
        // The health function's own route is a GET, and is its liveness path too.
        assert_eq!(function_route(&HEALTH, "GET", "/_functions/health"), Own(Public));
        assert_eq!(function_route(&HEALTH, "HEAD", "/_functions/health"), Own(Public));
        assert_eq!(function_route(&HEALTH, "POST", "/_functions/health"), WrongMethod("GET, HEAD".into()));
        assert_eq!(
            function_route(&CREATE_VECTOR_EMBEDDING, "POST", "/_functions/createVectorEmbedding"),
            Own(Access::AdminOrService)
        );
    }

    #[test]
    fn a_host_answers_the_routes_it_hosts_and_its_liveness_only() {
        use FunctionRoute::*;
        let (builder, api, pages) = (&GENERATE_FHIR_CODE, &PLATFORM_API, &RENDER_PAGES);
        let generate = Target::Api(self::Api::Builder(BuilderApi::Generate));
        assert_eq!(
            function_route(builder, "POST", "/api/builder/generate"),
            Hosted { target: generate, access: route_access("POST", "/api/builder/generate"), params: vec![] }
        );
        match function_route(api, "DELETE", "/api/org/members/u1") {
            Hosted { target, params, .. } => {
                assert_eq!(target, Target::Api(self::Api::Accounts(AccountsApi::OrgRemoveMember)));
                assert_eq!(params, vec![("userId", "u1".to_owned())]);
            }
            other => panic!("{other:?}"),
        }
        match function_route(pages, "HEAD", "/fhir/R4/Patient/") {
            Hosted { target, params, .. } => {
                assert_eq!((target, params), (Target::ResourcePage, vec![("resource", "Patient".to_owned())]));
            }
            other => panic!("{other:?}"),
        }
        // Another host's route, a page the site serves, another function's path: not here.
        assert_eq!(function_route(builder, "POST", "/api/auth/signin"), NotFound);
        assert_eq!(function_route(api, "POST", "/api/builder/generate"), NotFound);
        assert_eq!(function_route(api, "GET", "/pricing"), NotFound);
        assert_eq!(function_route(pages, "GET", "/status"), NotFound);
        assert_eq!(function_route(pages, "GET", "/about"), NotFound);
        assert_eq!(function_route(pages, "GET", "/api/search"), NotFound);
        assert_eq!(function_route(api, "POST", "/_functions/processAIQuery"), NotFound);
        assert_eq!(function_route(builder, "GET", "/api/builder/generate"), WrongMethod("POST".into()));
        assert_eq!(function_route(pages, "POST", "/pricing"), WrongMethod("GET, HEAD".into()));
        assert_eq!(function_route(api, "GET", "/api/builder/generate"), NotFound);
        assert_eq!(function_route(builder, "HEAD", "/_functions/generateFHIRCode/health"), Liveness);
        assert_eq!(function_route(api, "POST", "/_functions/platformApi/health"), WrongMethod("GET, HEAD".into()));
        assert_eq!(function_route(api, "GET", "/_functions/platformApi"), NotFound);
        // Every hosted route has exactly one host, and that host answers it.
        for spec in ROUTES {
            if let Some(host) = spec.target.host() {
                assert!(HOSTS.contains(&host), "{}", spec.path);
                let method = if spec.method == "GET" { "HEAD" } else { spec.method };
                let path = spec.path.replace("{", "").replace("}", "");
                let answered = function_route(&host, method, &path);
                assert!(matches!(answered, Hosted { target, .. } if target == spec.target), "{path}: {answered:?}");
            }
        }
    }

    fn route_access(method: &str, path: &str) -> Access {
        ROUTES.iter().find(|r| r.method == method && r.path == path).map(|r| r.access).expect("a route")
    }

    use crate::monitoring::logs;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::select;

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
                assert_eq!(spec.target, Target::Api(Api::Accounts(AccountsApi::OrgRemoveMember)));
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
            let own = paths.contains(&format!("/_functions/{}", function.name));
            assert_eq!(own, !HOSTS.contains(&function), "{}", function.name);
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

    /// A parameter value. It starts with an upper-case letter or a digit, as no literal segment of the
    /// table does, so a filled-in route cannot be mistaken for an earlier literal one (`/tools/{slug}`
    /// filled with `fhir-builder` is, rightly, the Builder's own page).
    fn parameter() -> impl Strategy<Value = String> {
        "[A-Z0-9][A-Za-z0-9._~%@:+-]{0,20}"
    }

    fn method() -> impl Strategy<Value = &'static str> {
        select(vec!["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "QUERY", "get"])
    }

    /// `spec`'s path with its parameters filled from `values`, and the parameters it should yield.
    fn filled(spec: &RouteSpec, values: &[String]) -> (String, Vec<(&'static str, String)>) {
        let mut values = values.iter().cycle();
        let mut params = Vec::new();
        let segments: Vec<String> = spec
            .path
            .split('/')
            .map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => {
                    let value = values.next().expect("values is not empty").clone();
                    params.push((name, value.clone()));
                    value
                }
                None => segment.to_owned(),
            })
            .collect();
        (segments.join("/"), params)
    }

    /// Path-shaped noise: the table's own segments, slashes, braces, escapes, dots and any text.
    fn path_noise() -> impl Strategy<Value = String> {
        let fragment = prop_oneof![
            Just("/".to_owned()),
            Just("//".to_owned()),
            Just("{slug}".to_owned()),
            Just("%2F".to_owned()),
            Just("..".to_owned()),
            select(vec!["api", "_functions", "courses", "quizzes", "admin", "content", "health", "fhir", "R4"])
                .prop_map(str::to_owned),
            ".{0,6}",
        ];
        vec(fragment, 0..10).prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(crate::testing::properties(1_500))]

        #[test]
        fn any_method_and_path_resolve_without_panicking_to_a_consistent_answer(
            method in method(),
            path in path_noise(),
        ) {
            let asked = if method == "HEAD" { "GET" } else { method };
            match resolve(method, &path) {
                Resolved::Route(spec, params) => {
                    prop_assert_eq!(spec.method, asked);
                    prop_assert_eq!(params.len(), spec.path.matches('{').count());
                    prop_assert!(params.iter().all(|(_, v)| !v.is_empty() && !v.contains('/')), "{:?}", params);
                }
                Resolved::MethodNotAllowed(allowed) => {
                    prop_assert!(!allowed.split(", ").any(|m| m == asked), "{} not allowed in {}", asked, allowed);
                }
                Resolved::UnknownEndpoint => {
                    prop_assert!(path.starts_with("/api") || path.starts_with("/_functions/"), "{:?}", path);
                }
                Resolved::Asset => prop_assert_eq!(asked, "GET"),
            }
            let logged = logs::route(method, &path);
            prop_assert!(logged.chars().count() <= 120, "{:?}", logged);
        }

        #[test]
        fn every_route_filled_in_resolves_to_itself_with_trailing_slashes_and_for_head(
            spec in select(ROUTES),
            values in vec(parameter(), 1..4),
            slashes in 0..3_usize,
        ) {
            let (path, params) = filled(&spec, &values);
            // `//` is not `/` (it trims to nothing): only paths below the root gain trailing slashes.
            let slashes = if path == "/" { 0 } else { slashes };
            let path = format!("{path}{}", "/".repeat(slashes));
            prop_assert_eq!(resolve(spec.method, &path), Resolved::Route(spec, params.clone()), "{}", path);
            if spec.method == "GET" {
                prop_assert_eq!(resolve("HEAD", &path), Resolved::Route(spec, params), "HEAD {}", path);
            }
        }

        #[test]
        fn a_query_or_fragment_after_a_known_path_changes_neither_its_logged_route_nor_a_return_to_it(
            spec in select(ROUTES),
            values in vec(parameter(), 1..4),
            query in "[A-Za-z0-9=&%+._~:@!$,;*()/?-]{0,40}",
            fragment in ".{0,20}",
        ) {
            let (path, _) = filled(&spec, &values);
            prop_assert_eq!(logs::route(spec.method, &format!("{path}?{query}")), spec.path);
            prop_assert_eq!(logs::route(spec.method, &format!("{path}#{fragment}")), spec.path);
            let with_query = format!("{path}?{query}");
            prop_assert_eq!(safe_next(&with_query).is_some(), safe_next(&path).is_some(), "{}", with_query);
        }

        #[test]
        fn unknown_endpoints_are_404s_and_other_unknown_paths_are_static_files(
            method in method(),
            first in parameter(),
            rest in vec(parameter(), 0..3),
        ) {
            let tail = std::iter::once(first).chain(rest).collect::<Vec<_>>().join("/");
            prop_assert_eq!(resolve(method, &format!("/api/{tail}")), Resolved::UnknownEndpoint);
            prop_assert_eq!(resolve(method, &format!("/_functions/{tail}")), Resolved::UnknownEndpoint);
            let expected = if matches!(method, "GET" | "HEAD") {
                Resolved::Asset
            } else {
                Resolved::MethodNotAllowed("GET, HEAD".into())
            };
            prop_assert_eq!(resolve(method, &format!("/{tail}")), expected);
        }
    }
}
