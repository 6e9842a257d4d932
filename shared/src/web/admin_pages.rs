//! Staff pages rendered on the server with the site's layout: the support inbox, the audit log,
//! users, orders and payments, and sales inquiries. Everything users or staff wrote is escaped by the
//! templates.

use super::pages::{NAV, NavItem, Page, rendered};
use crate::auth::audit::AuditEntry;
use crate::auth::staff::UserLine;
use crate::billing::payments::{StaffFilter, StaffPayment, format_amount};
use crate::billing::sales::InquiryLine;
use crate::error::Result;
use crate::monitoring::status::ago;
use crate::support::{MessageView, PRIORITY_TARGET, RequestRow};
use crate::time::{Millis, to_rfc3339};
use askama::Template;

/// One message of a thread, as staff read it.
pub struct MessageLine {
    pub author: String,
    pub body: String,
    pub when: String,
}

/// One request in the inbox.
pub struct InboxItem {
    pub id: String,
    pub subject: String,
    pub email: String,
    pub category: String,
    pub priority: String,
    pub status: String,
    /// `opened 3 h ago`.
    pub age: String,
    /// A priority request's first-response target: `answer due in 5 h`, `overdue by 2 h`, `answered`.
    pub due: Option<String>,
    /// `order ord_…`, `course smart-on-fhir`.
    pub link: Option<String>,
    pub messages: Vec<MessageLine>,
}

/// What staff typed in a search box, as searched and shown again: control characters (NUL among
/// them) dropped and at most 200 characters, the box's own limit.
pub fn search_term(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_control()).take(200).collect::<String>().trim().to_owned()
}

fn minute_utc(ms: Millis) -> String {
    let iso = to_rfc3339(ms);
    format!("{} {} UTC", &iso[..10], &iso[11..16])
}

impl InboxItem {
    pub fn new(row: RequestRow, messages: Vec<MessageView>, now: Millis) -> Self {
        // `5 h`, `12 min`, `3 days`: a length of time in the words `ago` uses.
        let span = |ms: Millis| ago(ms.max(60_000)).trim_end_matches(" ago").to_owned();
        let due = row.first_response_due.map(|due| match row.first_response_at {
            Some(_) => "first answer given".to_owned(),
            None if due >= now => format!("answer due in {}", span(due - now)),
            None => format!("overdue by {}", span(now - due)),
        });
        Self {
            age: ago(now - row.created_at),
            due,
            link: row.link_kind.zip(row.link_id).map(|(kind, id)| format!("{kind} {id}")),
            messages: messages
                .into_iter()
                .map(|m| MessageLine { author: m.author, body: m.body, when: minute_utc(m.created_at) })
                .collect(),
            id: row.id,
            subject: row.subject,
            email: row.email,
            category: row.category,
            priority: row.priority,
            status: row.status,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/support.html")]
struct SupportInboxTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    target: &'a str,
    requests: &'a [InboxItem],
}

/// `/admin/support`.
pub fn support_inbox(requests: &[InboxItem]) -> Result<String> {
    let page = Page { title: "Support inbox", description: "Support requests.", path: "/admin/support", meta: None };
    rendered(SupportInboxTemplate { page: &page, nav: &NAV, target: PRIORITY_TARGET, requests }.render())
}

pub struct AuditLine {
    pub when: String,
    pub staff: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    entries: &'a [AuditLine],
}

/// `/admin/audit`.
pub fn audit_log(entries: Vec<AuditEntry>) -> Result<String> {
    let page = Page { title: "Staff audit log", description: "Staff actions.", path: "/admin/audit", meta: None };
    let entries: Vec<AuditLine> = entries
        .into_iter()
        .map(|e| AuditLine {
            when: minute_utc(e.created_at),
            staff: e.staff_email,
            action: e.action,
            target: e.target,
            detail: e.detail.unwrap_or_default(),
        })
        .collect();
    rendered(AuditTemplate { page: &page, nav: &NAV, entries: &entries }.render())
}

pub struct UserRowView {
    pub id: String,
    pub email: String,
    pub plan: &'static str,
    pub admin: bool,
    pub verified: bool,
    pub disabled: bool,
    pub organisation: String,
    pub last_seen: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    query: &'a str,
    /// Where each action returns: this search again.
    next: String,
    users: &'a [UserRowView],
}

/// `/admin/users?q=`.
pub fn users(query: &str, users: Vec<UserLine>, now: Millis) -> Result<String> {
    let page = Page { title: "Users", description: "Accounts.", path: "/admin/users", meta: None };
    let users: Vec<UserRowView> = users
        .into_iter()
        .map(|u| UserRowView {
            plan: u.role.as_str(),
            last_seen: u.last_seen_at.map(|t| ago(now - t)).unwrap_or_else(|| "not signed in".into()),
            organisation: u.organisation.unwrap_or_default(),
            id: u.id,
            email: u.email,
            admin: u.admin,
            verified: u.verified,
            disabled: u.disabled,
        })
        .collect();
    let next = format!("/admin/users?q={}", super::urlencode(query));
    rendered(UsersTemplate { page: &page, nav: &NAV, query, next, users: &users }.render())
}

pub struct PaymentRowView {
    pub id: String,
    pub when: String,
    pub kind: &'static str,
    pub email: String,
    pub product: String,
    pub amount: String,
    pub status: String,
    pub stripe_url: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/orders.html")]
struct OrdersTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    kinds: &'a [(&'a str, &'a str)],
    statuses: &'a [(&'a str, &'a str)],
    filter_kind: &'a str,
    filter_status: &'a str,
    filter_email: &'a str,
    payments: &'a [PaymentRowView],
}

pub const PAYMENT_KINDS: [(&str, &str); 3] =
    [("", "Any"), ("one_time", "One-time orders"), ("subscription", "Subscription payments")];
pub const PAYMENT_STATUSES: [(&str, &str); 6] = [
    ("", "Any"),
    ("pending", "Pending"),
    ("paid", "Paid"),
    ("partially_refunded", "Partly refunded"),
    ("refunded", "Refunded"),
    ("disputed", "Disputed"),
];

/// Stripe's dashboard page of a payment (test-mode objects under `/test`).
fn stripe_url(payment: &StaffPayment, test_mode: bool) -> Option<String> {
    let base = if test_mode { "https://dashboard.stripe.com/test" } else { "https://dashboard.stripe.com" };
    match (payment.kind.as_str(), &payment.payment_intent) {
        ("subscription", _) => Some(format!("{base}/invoices/{}", payment.id)),
        (_, Some(intent)) => Some(format!("{base}/payments/{intent}")),
        _ => None,
    }
}

/// `/admin/orders`. `test_mode`: Stripe's keys are test keys, so links go to the test dashboard.
pub fn orders(filter: &StaffFilter, payments: Vec<StaffPayment>, test_mode: bool) -> Result<String> {
    let page = Page { title: "Orders and payments", description: "Payments.", path: "/admin/orders", meta: None };
    let rows: Vec<PaymentRowView> = payments
        .into_iter()
        .map(|p| {
            let currency = p.currency.clone().unwrap_or_else(|| "usd".into());
            let mut status = p.status.replace('_', " ");
            if p.refunded_amount > 0 && p.status != "refunded" {
                status.push_str(&format!(" ({} refunded)", format_amount(p.refunded_amount, &currency)));
            }
            if let Some(reason) = &p.dispute_reason {
                status.push_str(&format!(": {reason}"));
            }
            PaymentRowView {
                stripe_url: stripe_url(&p, test_mode),
                when: minute_utc(p.created_at),
                kind: if p.kind == "subscription" { "subscription" } else { "one-time" },
                amount: p.amount.map(|a| format_amount(a, &currency)).unwrap_or_else(|| "not paid".into()),
                status,
                id: p.id,
                email: p.email,
                product: p.product,
            }
        })
        .collect();
    rendered(
        OrdersTemplate {
            page: &page,
            nav: &NAV,
            kinds: &PAYMENT_KINDS,
            statuses: &PAYMENT_STATUSES,
            filter_kind: &filter.kind,
            filter_status: &filter.status,
            filter_email: &filter.email,
            payments: &rows,
        }
        .render(),
    )
}

pub struct InquiryView {
    pub name: String,
    pub email: String,
    pub company: String,
    pub seats: Option<i64>,
    pub message: String,
    pub when: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "admin/inquiries.html")]
struct InquiriesTemplate<'a> {
    page: &'a Page<'a>,
    nav: &'a [NavItem],
    inquiries: &'a [InquiryView],
}

/// `/admin/inquiries`.
pub fn inquiries(lines: Vec<InquiryLine>) -> Result<String> {
    let page =
        Page { title: "Sales inquiries", description: "Enterprise inquiries.", path: "/admin/inquiries", meta: None };
    let inquiries: Vec<InquiryView> = lines
        .into_iter()
        .map(|i| InquiryView {
            when: minute_utc(i.created_at),
            status: if i.notified_at.is_some() { "posted to Slack" } else { "waiting for Slack" },
            name: i.name,
            email: i.email,
            company: i.company,
            seats: i.seats,
            message: i.message,
        })
        .collect();
    rendered(InquiriesTemplate { page: &page, nav: &NAV, inquiries: &inquiries }.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(first_response_at: Option<Millis>) -> RequestRow {
        RequestRow {
            id: "r1".into(),
            user_id: "u1".into(),
            email: "ada@example.org".into(),
            subject: "<b>Push</b> failed".into(),
            category: "builder".into(),
            priority: "priority".into(),
            status: "open".into(),
            link_kind: Some("order".into()),
            link_id: Some("ord_1".into()),
            created_at: 0,
            updated_at: 0,
            first_response_due: Some(86_400_000),
            first_response_at,
        }
    }

    #[test]
    fn the_inbox_escapes_what_users_wrote_and_shows_the_first_response_target() {
        let message = MessageView { author: "user".into(), body: "<script>alert(1)</script>".into(), created_at: 0 };
        let item = InboxItem::new(row(None), vec![message], 3 * 3_600_000);
        assert_eq!(item.due.as_deref(), Some("answer due in 21 h"));
        assert_eq!(item.link.as_deref(), Some("order ord_1"));
        let html = support_inbox(&[item]).expect("renders");
        assert!(html.contains("&#60;script&#62;alert(1)") && !html.contains("<script>alert"), "escaped: {html}");
        assert!(html.contains("&#60;b&#62;Push&#60;/b&#62;"));
        assert!(html.contains(r#"data-api="/api/admin/support/r1/reply""#));
        let late = InboxItem::new(row(None), Vec::new(), 26 * 3_600_000);
        assert_eq!(late.due.as_deref(), Some("overdue by 2 h"));
        let answered = InboxItem::new(row(Some(5)), Vec::new(), 26 * 3_600_000);
        assert_eq!(answered.due.as_deref(), Some("first answer given"));
    }

    #[test]
    fn orders_link_to_stripe_and_say_what_was_refunded_or_disputed() {
        let payment = StaffPayment {
            id: "ord_1".into(),
            kind: "one_time".into(),
            email: "ada@example.org".into(),
            product: "course-smart-on-fhir".into(),
            amount: Some(9900),
            currency: Some("usd".into()),
            status: "partially_refunded".into(),
            refunded_amount: 1900,
            created_at: 0,
            payment_intent: Some("pi_1".into()),
            dispute_reason: None,
        };
        let html = orders(&StaffFilter::default(), vec![payment], true).expect("renders");
        assert!(html.contains(r#"href="https://dashboard.stripe.com/test/payments/pi_1""#), "{html}");
        assert!(html.contains("99.00 USD") && html.contains("partially refunded (19.00 USD refunded)"));
    }

    #[test]
    fn the_users_page_escapes_the_search_and_offers_each_action() {
        let user = UserLine {
            id: "u1".into(),
            email: "ada@example.org".into(),
            role: crate::auth::roles::Role::Pro,
            admin: false,
            verified: false,
            organisation: None,
            created_at: 0,
            last_seen_at: Some(0),
            disabled: true,
        };
        let html = users("a&b<", vec![user], 3 * 3_600_000).expect("renders");
        assert!(html.contains(r#"value="a&#38;b&#60;""#) && !html.contains("a&b<\""), "{html}");
        assert!(html.contains(r#"data-next="/admin/users?q=a%26b%3C""#), "{html}");
        assert!(html.contains("disabled</span>") && html.contains(">Enable<") && html.contains("3 h ago"));
        assert!(html.contains(r#"<option value="verification">"#), "an unverified account can be sent a link");
    }

    #[test]
    fn a_search_term_is_plain_bounded_text() {
        assert_eq!(search_term(" ada\u{0}\u{1f}@x "), "ada@x");
        assert_eq!(search_term(&"é".repeat(500)).chars().count(), 200);
    }

    #[test]
    fn the_audit_log_lists_each_action() {
        let entry = AuditEntry {
            staff_email: "staff@example.org".into(),
            action: "support.reply".into(),
            target: "r1".into(),
            detail: None,
            created_at: 1_795_836_400_123,
        };
        let html = audit_log(vec![entry]).expect("renders");
        assert!(
            html.contains("<td>2026-11-28 03:26 UTC</td><td>staff@example.org</td><td>support.reply</td>"),
            "{html}"
        );
    }
}
