//! Reading Stripe subscriptions and invoices across API versions, and the status policy.

use super::stripe::id_of;
use crate::error::{Error, Result};
use serde_json::Value;

/// What we keep of a subscription, read from Stripe's own copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub id: String,
    pub customer: String,
    /// `metadata[user_id]`, set at checkout (`subscription_data[metadata][user_id]`).
    pub user_id: Option<String>,
    pub status: String,
    pub price_id: String,
    pub lookup_key: Option<String>,
    /// `month` or `year`.
    pub interval: String,
    /// Seconds since the epoch.
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    /// The item's quantity: an Enterprise subscription's seats.
    pub quantity: i64,
}

/// The statuses Stripe uses; anything else is refused rather than guessed at.
pub const STATUSES: [&str; 8] =
    ["active", "trialing", "past_due", "incomplete", "unpaid", "canceled", "incomplete_expired", "paused"];

pub fn read(value: &Value) -> Result<Snapshot> {
    let bad = |what: &str| Error::upstream("reading a Stripe subscription", format!("no {what}"));
    let item = value.pointer("/items/data/0").ok_or_else(|| bad("items"))?;
    let status = value["status"].as_str().ok_or_else(|| bad("status"))?;
    if !STATUSES.contains(&status) {
        return Err(Error::upstream("reading a Stripe subscription", format!("unknown status {status:?}")));
    }
    Ok(Snapshot {
        id: value["id"].as_str().ok_or_else(|| bad("id"))?.to_owned(),
        customer: id_of(&value["customer"]).ok_or_else(|| bad("customer"))?.to_owned(),
        user_id: value.pointer("/metadata/user_id").and_then(Value::as_str).map(str::to_owned),
        status: status.to_owned(),
        price_id: item.pointer("/price/id").and_then(Value::as_str).ok_or_else(|| bad("price"))?.to_owned(),
        lookup_key: item.pointer("/price/lookup_key").and_then(Value::as_str).map(str::to_owned),
        interval: item.pointer("/price/recurring/interval").and_then(Value::as_str).unwrap_or("month").to_owned(),
        // 2025-03-31.basil and later: on the item. Before: on the subscription.
        current_period_end: item["current_period_end"].as_i64().or_else(|| value["current_period_end"].as_i64()),
        cancel_at_period_end: value["cancel_at_period_end"].as_bool().unwrap_or(false),
        quantity: item["quantity"].as_i64().filter(|q| *q >= 1).unwrap_or(1),
    })
}

/// An invoice's subscription: `parent.subscription_details.subscription` (2025-03-31.basil and
/// later) or `subscription` (before).
pub fn invoice_subscription(invoice: &Value) -> Option<&str> {
    invoice
        .pointer("/parent/subscription_details/subscription")
        .and_then(id_of)
        .or_else(|| id_of(&invoice["subscription"]))
}

/// What a status means for the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// active, trialing: the plan is granted.
    Paid,
    /// past_due, incomplete, unpaid, paused: the record stays, no paid access, "payment needed".
    PaymentNeeded,
    /// canceled, incomplete_expired: back to free.
    Ended,
}

pub fn standing(status: &str) -> Standing {
    match status {
        "active" | "trialing" => Standing::Paid,
        "canceled" | "incomplete_expired" => Standing::Ended,
        _ => Standing::PaymentNeeded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn subscription(item_period: Option<i64>, top_period: Option<i64>) -> Value {
        let mut item = json!({"id": "si_1", "price": {"id": "price_pro_m", "lookup_key": "fhiriq_pro_monthly", "recurring": {"interval": "month"}}});
        if let Some(end) = item_period {
            item["current_period_end"] = json!(end);
        }
        let mut sub = json!({"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active",
            "cancel_at_period_end": false, "metadata": {"user_id": "u1"}, "items": {"object": "list", "data": [item]}});
        if let Some(end) = top_period {
            sub["current_period_end"] = json!(end);
        }
        sub
    }

    #[test]
    fn the_period_end_is_read_from_the_item_in_new_versions_and_the_subscription_in_old_ones() {
        assert_eq!(
            read(&subscription(Some(1_800_000_000), None)).expect("new").current_period_end,
            Some(1_800_000_000)
        );
        assert_eq!(
            read(&subscription(None, Some(1_700_000_000))).expect("old").current_period_end,
            Some(1_700_000_000)
        );
        let snapshot = read(&subscription(Some(1), None)).expect("reads");
        assert_eq!(snapshot.user_id.as_deref(), Some("u1"));
        assert_eq!(snapshot.lookup_key.as_deref(), Some("fhiriq_pro_monthly"));
        let mut expanded = subscription(Some(1), None);
        expanded["customer"] = json!({"id": "cus_9", "object": "customer"});
        assert_eq!(read(&expanded).expect("reads").customer, "cus_9");
        let mut odd = subscription(Some(1), None);
        odd["status"] = json!("pending_magic");
        assert!(read(&odd).is_err());
    }

    #[test]
    fn an_enterprise_subscriptions_seats_are_its_items_quantity() {
        let mut seats = subscription(Some(1), None);
        seats["items"]["data"][0]["quantity"] = json!(12);
        assert_eq!(read(&seats).expect("reads").quantity, 12);
        assert_eq!(read(&subscription(Some(1), None)).expect("reads").quantity, 1, "no quantity: one seat");
        seats["items"]["data"][0]["quantity"] = json!(0);
        assert_eq!(read(&seats).expect("reads").quantity, 1, "never below one");
    }

    #[test]
    fn an_invoices_subscription_is_found_in_the_new_and_the_old_place() {
        let new = json!({"id": "in_1", "parent": {"type": "subscription_details", "subscription_details": {"subscription": "sub_new"}}});
        let old = json!({"id": "in_2", "subscription": "sub_old"});
        assert_eq!(invoice_subscription(&new), Some("sub_new"));
        assert_eq!(invoice_subscription(&old), Some("sub_old"));
        assert_eq!(invoice_subscription(&json!({"id": "in_3", "subscription": null})), None);
    }

    #[test]
    fn the_status_policy() {
        for (status, expected) in [
            ("active", Standing::Paid),
            ("trialing", Standing::Paid),
            ("past_due", Standing::PaymentNeeded),
            ("incomplete", Standing::PaymentNeeded),
            ("unpaid", Standing::PaymentNeeded),
            ("paused", Standing::PaymentNeeded),
            ("canceled", Standing::Ended),
            ("incomplete_expired", Standing::Ended),
        ] {
            assert_eq!(standing(status), expected, "{status}");
        }
    }
}
