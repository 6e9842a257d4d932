//! Plans and payments with Stripe.
//!
//! - [`catalog`]: the plans (student, pro, enterprise; monthly and annual) and one-time products, each
//!   mapped to a Stripe price id from configuration, with the reverse lookup webhooks need.
//! - [`signature`]: `Stripe-Signature` verification, as Stripe's own library does it.
//! - [`stripe`]: the REST client (customers, Checkout Sessions, subscriptions, the billing portal).
//! - [`subscription`]: reading a subscription (old and new API shapes) and the status policy.
//! - [`store`]: the D1 rows, and the role each change leads to (logged in the same batch).
//! - [`webhook`]: events as triggers to re-fetch and overwrite, so duplicates and any order converge.
//! - [`payments`]: what was paid (subscription invoices, one-time orders), refunded and disputed; the
//!   history a user sees.
//! - [`pricing`]: the pricing page's view of the catalog.
//! - [`checkout`]: checkout, the success page's immediate update, the portal, the account summary.
//! - [`sales`]: enterprise "contact sales" requests.

pub mod catalog;
pub mod checkout;
pub mod context;
pub mod payments;
pub mod pricing;
pub mod sales;
pub mod signature;
pub mod store;
pub mod stripe;
pub mod subscription;
pub mod webhook;
