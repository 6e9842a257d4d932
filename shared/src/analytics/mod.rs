//! First-party analytics: browser events in, daily rollups, reports and funnels out.

pub mod funnels;
pub mod ingest;
pub mod queue;
pub mod reports;
pub mod rollup;
pub mod secrets;
pub mod thirdparty;
