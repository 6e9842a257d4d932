//! The pricing page's view: every plan with its monthly and annual price from the catalog, what it
//! unlocks from the permission matrix, and the caller's current plan.

use super::catalog::{Catalog, Interval, unlocks};
use crate::auth::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub id: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    /// "Everything in <the plan below>" first, then what this plan adds.
    pub features: Vec<String>,
    pub monthly: String,
    pub annual: String,
    /// "Save $98": two months free on the annual price.
    pub annual_saving: Option<String>,
    pub featured: bool,
    pub current: bool,
    pub paid: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingView {
    pub offers: Vec<Offer>,
    pub signed_in: bool,
    /// The signed-in user can open the billing portal.
    pub has_billing_account: bool,
    pub payment_needed: bool,
}

fn summary(plan: Role) -> &'static str {
    match plan {
        Role::Free => "Explore FHIR R4 and the platform.",
        Role::Student => "Learn FHIR properly, with courses and the full assistant.",
        Role::Pro => "Build FHIR applications and ship them to GitHub.",
        Role::Enterprise => "For teams: members, analytics and integrations.",
    }
}

pub fn view(catalog: &Catalog, current: Option<Role>, has_billing_account: bool, payment_needed: bool) -> PricingView {
    let mut offers = Vec::new();
    let mut below: Option<Role> = None;
    for plan in Role::ALL {
        let mut features = Vec::new();
        if let Some(lower) = below {
            features.push(format!("Everything in {}", lower.title()));
        }
        let before = below.map(unlocks).unwrap_or_default();
        // The basic assistant is replaced by the full one above Free, not listed as lost.
        features.extend(unlocks(plan).into_iter().filter(|f| !before.contains(f)).map(str::to_owned));
        let price = |interval| catalog.price(plan, interval).map(|p| p.amount_cents).unwrap_or(0);
        let (monthly, annual) = (price(Interval::Month), price(Interval::Year));
        offers.push(Offer {
            id: plan.as_str(),
            name: plan.title(),
            summary: summary(plan),
            features,
            monthly: catalog.format(monthly),
            annual: catalog.format(annual),
            annual_saving: (monthly * 12 > annual).then(|| format!("Save {}", catalog.format(monthly * 12 - annual))),
            featured: plan == Role::Pro,
            current: current == Some(plan),
            paid: plan != Role::Free,
        });
        below = Some(plan);
    }
    PricingView { offers, signed_in: current.is_some(), has_billing_account, payment_needed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn prices_come_from_configuration_and_features_from_the_permission_matrix() {
        let catalog = Catalog::from_env(&HashMap::from([(
            "PLAN_AMOUNTS",
            "student:1000/10000,pro:2000/20000,enterprise:3000/30000",
        )]))
        .expect("valid");
        let view = view(&catalog, Some(Role::Pro), true, false);
        let pro = view.offers.iter().find(|o| o.id == "pro").expect("pro");
        assert_eq!((pro.monthly.as_str(), pro.annual.as_str()), ("$20", "$200"));
        assert_eq!(pro.annual_saving.as_deref(), Some("Save $40"));
        assert!(pro.current && pro.featured);
        assert_eq!(pro.features[0], "Everything in Student");
        assert!(pro.features.iter().any(|f| f == "FHIR Builder code generation"));
        assert!(!pro.features.iter().any(|f| f == "Course enrolment"), "inherited, not repeated");
        assert_eq!(view.offers.iter().filter(|o| o.current).count(), 1);
        assert_eq!(view.offers[0].monthly, "$0");
    }
}
