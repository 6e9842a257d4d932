//! First-party analytics: browser events in, daily rollups, reports and funnels out.

pub mod ingest;
pub mod reports;
pub mod rollup;
pub mod thirdparty;
