//! What billing's operations need for one request: the database, the Stripe client, the plan
//! catalogue, the time and the public origin. Shared by the webhook, Checkout and the payment
//! records, which stay free of each other's modules.

use super::catalog::Catalog;
use super::stripe::Stripe;
use crate::time::Millis;

pub struct Ctx<'a, D, H> {
    pub db: &'a D,
    pub stripe: &'a Stripe<'a, H>,
    pub catalog: &'a Catalog,
    pub now: Millis,
    /// The public origin, for links in emails and alerts.
    pub site_url: &'a str,
}
