//! The staff pages: the support inbox, the audit log, users, orders and payments, and sales inquiries,
//! rendered from D1 on each request (never cached: they change with every action).

use shared::auth::{audit, staff};
use shared::billing::payments::{self, StaffFilter};
use shared::billing::sales;
use shared::settings::Settings;
use shared::support;
use shared::time::Clock;
use shared::web::admin_pages::{self, InboxItem};
use shared::workers::api::query;
use shared::workers::{self, WorkerClock, respond};
use worker::{Env, Request, Response};

/// The most audit entries the page shows.
const AUDIT_ROWS: i64 = 500;

fn html(page: shared::Result<String>) -> worker::Result<Response> {
    respond::html(page, "private, no-store")
}

/// `/admin/support`.
pub async fn support_inbox(env: &Env) -> worker::Result<Response> {
    html(
        async {
            let now = WorkerClock.now_ms();
            let rows = support::inbox(&workers::database(env)?).await?;
            let items: Vec<InboxItem> =
                rows.into_iter().map(|(row, thread)| InboxItem::new(row, thread, now)).collect();
            admin_pages::support_inbox(&items)
        }
        .await,
    )
}

/// `/admin/audit`.
pub async fn audit_log(env: &Env) -> worker::Result<Response> {
    html(async { admin_pages::audit_log(audit::recent(&workers::database(env)?, AUDIT_ROWS).await?) }.await)
}

/// `/admin/users?q=`.
pub async fn users(request: &Request, env: &Env) -> worker::Result<Response> {
    let q = admin_pages::search_term(&query(request, "q").unwrap_or_default());
    html(
        async { admin_pages::users(&q, staff::search(&workers::database(env)?, &q).await?, WorkerClock.now_ms()) }
            .await,
    )
}

/// `/admin/orders?kind=&status=&q=`: an unknown kind or status filters on nothing rather than fail.
pub async fn orders(request: &Request, settings: &Settings<'_, Env>) -> worker::Result<Response> {
    let pick = |name: &str, allowed: &[(&str, &str)]| {
        query(request, name).filter(|v| allowed.iter().any(|(value, _)| value == v)).unwrap_or_default()
    };
    let filter = StaffFilter {
        kind: pick("kind", &admin_pages::PAYMENT_KINDS),
        status: pick("status", &admin_pages::PAYMENT_STATUSES),
        email: admin_pages::search_term(&query(request, "q").unwrap_or_default()),
    };
    html(
        async {
            let test_mode = settings.stripe()?.secret_key.as_ref().is_none_or(|k| k.expose().contains("_test_"));
            let list = payments::staff_list(&workers::database(settings.env())?, &filter).await?;
            admin_pages::orders(&filter, list, test_mode)
        }
        .await,
    )
}

/// `/admin/inquiries`.
pub async fn inquiries(env: &Env) -> worker::Result<Response> {
    html(async { admin_pages::inquiries(sales::list(&workers::database(env)?).await?) }.await)
}
