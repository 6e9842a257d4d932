//! Health and monitoring: the `health` function's binding checks, the 5-minute cron monitor that
//! probes endpoints and alerts Slack on state changes, the scheduled jobs and their record, the
//! daily clean-up jobs, the structured logs, and the data behind the `/status` page.

pub mod cleanup;
pub mod endpoints;
pub mod health;
pub mod jobs;
pub mod logs;
pub mod monitor;
pub mod page_cache;
pub mod probe;
pub mod slack;
pub mod status;
pub mod store;

/// The cron expressions in the site worker's `wrangler.toml`; the scheduled handler dispatches on them.
pub mod crons {
    /// Probe every monitored endpoint.
    pub const MONITOR: &str = "*/5 * * * *";
    /// The daily jobs: the backup to R2, then the clean-ups (rows past retention, superseded cache).
    pub const CLEANUP: &str = "17 3 * * *";
}
