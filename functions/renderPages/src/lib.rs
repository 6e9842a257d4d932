//! The server-rendered pages, reached only through the site worker's service binding: content
//! (tools, courses, lessons, quizzes, the blog, the feed and sitemap), the FHIR reference (`/search`,
//! `/fhir/R4`), pricing and the pages a checkout returns to, the staff pages (support, audit, users,
//! orders, inquiries), and the shells of the staff editor and the analytics dashboard. The site
//! routes and authorizes each request, signs the caller, and afterwards writes the visitor's
//! navigation into the HTML and answers a 404 with its 404 page; `shared::workers::api::serve`
//! verifies the signature and authorizes again here.
#![cfg(target_arch = "wasm32")]

mod admin;
mod analytics;
mod billing;
mod content;
mod reference;

use shared::Error;
use shared::web::routes::{RENDER_PAGES, Target};
use shared::workers::api::ApiRequest;
use worker::Response;

shared::api_worker!(RENDER_PAGES, dispatch);

async fn dispatch(target: Target, call: &mut ApiRequest<'_>) -> shared::Result<Response> {
    let (request, settings, caller) = (&*call.request, call.settings, call.caller.as_ref());
    let page = match target {
        Target::Pricing => billing::pricing_page(settings, caller).await,
        Target::BillingSuccess => billing::success_page(request, settings, caller).await,
        Target::BillingCancel => billing::cancel_page(),
        Target::SearchPage | Target::ResourceIndex | Target::ResourcePage => {
            reference::page(target, request, settings.env(), &call.params).await
        }
        Target::Content(page) => content::page(page, request, settings, &call.params).await,
        Target::AdminContent => content::admin_page(),
        Target::AnalyticsPage => analytics::page(caller),
        Target::SupportInbox => admin::support_inbox(settings.env()).await,
        Target::AuditLog => admin::audit_log(settings.env()).await,
        Target::AdminUsers => admin::users(request, settings.env()).await,
        Target::AdminOrders => admin::orders(request, settings).await,
        Target::AdminInquiries => admin::inquiries(settings.env()).await,
        // Never routed here (routes::Target::host); answered as the 404 it would be.
        _ => return Err(Error::NotFound(format!("{} is not a page renderPages renders", request.path()))),
    };
    page.map_err(|e| Error::internal("rendering a page", e))
}
