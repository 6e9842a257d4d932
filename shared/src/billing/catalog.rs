//! What can be bought, and for how much. Plans and their intervals are fixed here; their Stripe price
//! ids come from configuration (`STRIPE_PRICE_<PLAN>_<INTERVAL>`, e.g. `STRIPE_PRICE_PRO_ANNUAL`), as
//! do the displayed amounts (`PLAN_AMOUNTS`). A webhook names a price; [`Catalog::plan_for`] maps it
//! back by id or by lookup key (`fhiriq_<plan>_<interval>`), so either way of managing prices works.

use crate::auth::{Permission, Role};
use crate::config::EnvSource;
use crate::error::{Error, Result};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Month,
    Year,
}

impl Interval {
    pub const ALL: [Interval; 2] = [Interval::Month, Interval::Year];

    /// Stripe's name (`recurring.interval`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// How the pricing page and the API name it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Month => "monthly",
            Self::Year => "annual",
        }
    }

    /// `monthly`/`month` or `annual`/`year`/`yearly`.
    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "monthly" | "month" => Ok(Self::Month),
            "annual" | "year" | "yearly" => Ok(Self::Year),
            other => Err(Error::Unprocessable(format!("unknown interval {other:?}; use monthly or annual"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Price {
    pub plan: Role,
    pub interval: Interval,
    #[serde(rename = "priceId")]
    pub price_id: String,
    /// In the smallest currency unit (cents).
    #[serde(rename = "amount")]
    pub amount_cents: u64,
}

impl Price {
    pub fn lookup_key(&self) -> String {
        format!("fhiriq_{}_{}", self.plan.as_str(), self.interval.label())
    }
}

/// A one-time purchase (a paid course). A completed order makes its buyer a student.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    pub id: String,
    pub name: String,
    #[serde(rename = "priceId")]
    pub price_id: String,
    #[serde(rename = "amount")]
    pub amount_cents: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    pub currency: String,
    pub prices: Vec<Price>,
    pub products: Vec<Product>,
}

/// Default amounts in US cents: (plan, monthly, annual). Annual is two months free.
const DEFAULT_AMOUNTS: &str = "student:1900/19000,pro:4900/49000,enterprise:19900/199000";
/// Default one-time products: `id:price id:amount:name`, `;`-separated (`ONE_TIME_PRODUCTS`).
const DEFAULT_PRODUCTS: &str = "course-smart-on-fhir:price_fhiriq_course_smart_on_fhir:9900:SMART on FHIR course";

impl Catalog {
    pub fn from_env(env: &impl EnvSource) -> Result<Self> {
        let amounts = env.var("PLAN_AMOUNTS").unwrap_or_else(|| DEFAULT_AMOUNTS.into());
        let mut prices = Vec::new();
        for plan in [Role::Student, Role::Pro, Role::Enterprise] {
            let (monthly, annual) = amounts
                .split(',')
                .filter_map(|entry| entry.trim().split_once(':'))
                .find(|(name, _)| *name == plan.as_str())
                .and_then(|(_, pair)| pair.split_once('/'))
                .and_then(|(m, a)| Some((m.trim().parse::<u64>().ok()?, a.trim().parse::<u64>().ok()?)))
                .ok_or_else(|| {
                    Error::Config(format!(
                        "PLAN_AMOUNTS must give {}:<monthly cents>/<annual cents>, like {DEFAULT_AMOUNTS}",
                        plan.as_str()
                    ))
                })?;
            for (interval, amount_cents) in [(Interval::Month, monthly), (Interval::Year, annual)] {
                let name = format!("STRIPE_PRICE_{}_{}", plan.as_str().to_uppercase(), interval.label().to_uppercase());
                let price_id =
                    env.var(&name).unwrap_or_else(|| format!("price_fhiriq_{}_{}", plan.as_str(), interval.label()));
                if !valid_id(&price_id) {
                    return Err(Error::Config(format!(
                        "{name} must be a Stripe price id (price_...), not {price_id:?}"
                    )));
                }
                prices.push(Price { plan, interval, price_id, amount_cents });
            }
        }
        let mut products = Vec::new();
        for entry in env.var("ONE_TIME_PRODUCTS").unwrap_or_else(|| DEFAULT_PRODUCTS.into()).split(';') {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let mut parts = entry.splitn(4, ':');
            let (Some(id), Some(price_id), Some(amount), Some(name)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(Error::Config(format!("ONE_TIME_PRODUCTS: {entry:?} is not id:price_id:amount:name")));
            };
            let amount_cents = amount
                .parse::<u64>()
                .map_err(|_| Error::Config(format!("ONE_TIME_PRODUCTS: {amount:?} is not an amount in cents")))?;
            if !valid_id(price_id) || !valid_id(id) {
                return Err(Error::Config(format!("ONE_TIME_PRODUCTS: bad id or price id in {entry:?}")));
            }
            products.push(Product { id: id.into(), name: name.trim().into(), price_id: price_id.into(), amount_cents });
        }
        let currency = env.var("BILLING_CURRENCY").unwrap_or_else(|| "usd".into()).to_lowercase();
        Ok(Self { currency, prices, products })
    }

    pub fn price(&self, plan: Role, interval: Interval) -> Result<&Price> {
        self.prices
            .iter()
            .find(|p| p.plan == plan && p.interval == interval)
            .ok_or_else(|| Error::Unprocessable(format!("{} has no {} price", plan.as_str(), interval.label())))
    }

    pub fn product(&self, id: &str) -> Result<&Product> {
        self.products.iter().find(|p| p.id == id).ok_or_else(|| Error::NotFound(format!("no product {id:?}")))
    }

    /// The plan a Stripe price stands for: by price id, else by lookup key.
    pub fn plan_for(&self, price_id: &str, lookup_key: Option<&str>) -> Option<&Price> {
        self.prices
            .iter()
            .find(|p| p.price_id == price_id)
            .or_else(|| lookup_key.and_then(|key| self.prices.iter().find(|p| p.lookup_key() == key)))
    }

    /// `$49` or `$49.50`.
    pub fn format(&self, cents: u64) -> String {
        let symbol = match self.currency.as_str() {
            "usd" => "$",
            "eur" => "€",
            "gbp" => "£",
            _ => "",
        };
        let whole = cents / 100;
        let amount = if cents.is_multiple_of(100) { whole.to_string() } else { format!("{whole}.{:02}", cents % 100) };
        if symbol.is_empty() {
            format!("{amount} {}", self.currency.to_uppercase())
        } else {
            format!("{symbol}{amount}")
        }
    }
}

/// Ids we put into URLs and forms: Stripe's alphabet.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 200 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// What a plan unlocks, in the permission matrix's words: the pricing page's feature lists.
pub fn unlocks(plan: Role) -> Vec<&'static str> {
    plan.permissions().into_iter().map(Permission::label).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn every_plan_has_a_monthly_and_an_annual_price_and_maps_back_from_id_or_lookup_key() {
        let env = HashMap::from([("STRIPE_PRICE_PRO_ANNUAL", "price_1PRO")]);
        let catalog = Catalog::from_env(&env).expect("valid");
        assert_eq!(catalog.prices.len(), 6);
        let pro_annual = catalog.price(Role::Pro, Interval::Year).expect("priced");
        assert_eq!((pro_annual.price_id.as_str(), pro_annual.amount_cents), ("price_1PRO", 49_000));
        assert_eq!(
            catalog.plan_for("price_1PRO", None).map(|p| (p.plan, p.interval)),
            Some((Role::Pro, Interval::Year))
        );
        let by_key = catalog.plan_for("price_unknown", Some("fhiriq_student_monthly")).expect("by lookup key");
        assert_eq!((by_key.plan, by_key.interval), (Role::Student, Interval::Month));
        assert!(catalog.plan_for("price_unknown", Some("other")).is_none());
        assert_eq!(catalog.format(4_900), "$49");
        assert_eq!(catalog.format(4_950), "$49.50");
        assert_eq!(catalog.product("course-smart-on-fhir").expect("default product").amount_cents, 9_900);
    }

    #[test]
    fn bad_configuration_names_the_variable() {
        let bad_price = HashMap::from([("STRIPE_PRICE_STUDENT_MONTHLY", "price 1; drop")]);
        assert!(
            Catalog::from_env(&bad_price).expect_err("refused").to_string().contains("STRIPE_PRICE_STUDENT_MONTHLY")
        );
        let bad_amounts = HashMap::from([("PLAN_AMOUNTS", "student:10/100")]);
        assert!(Catalog::from_env(&bad_amounts).expect_err("refused").to_string().contains("pro"));
        assert_eq!(Interval::parse("annual").expect("valid"), Interval::Year);
        assert_eq!(Interval::parse("weekly").expect_err("refused").status_code(), 422);
    }

    #[test]
    fn what_a_plan_unlocks_comes_from_the_permission_matrix() {
        assert!(unlocks(Role::Pro).contains(&Permission::UseFhirBuilder.label()));
        assert!(!unlocks(Role::Student).contains(&Permission::UseFhirBuilder.label()));
    }
}
