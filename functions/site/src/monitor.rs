//! The site worker's crons: the 5-minute monitor and the daily clean-up, adapted to the runtime.

use shared::config::{self, MonitorConfig, RetentionConfig};
use shared::monitoring::endpoints::Endpoint;
use shared::monitoring::monitor::{self, Alert, Notifier, Prober};
use shared::monitoring::slack::SlackNotifier;
use shared::monitoring::{cleanup, crons};
use shared::time::Clock;
use shared::workers::{self, FetchClient, WorkerClock};
use worker::{Env, Fetch, Method, Request};

pub async fn on_cron(cron: &str, env: &Env) {
    let outcome = match cron {
        crons::MONITOR => match run_monitor(env).await {
            Ok(summary) => {
                let sales = match crate::billing::notify_sales(env).await {
                    Ok(sent) => format!("sales inquiries notified {sent}"),
                    Err(e) => format!("sales notification failed: {e}"),
                };
                // The analytics rollups: today's, and any day since the last run.
                let rollup = match roll_up(env).await {
                    Ok(done) => done,
                    Err(e) => format!("analytics rollup failed: {e}"),
                };
                match crate::api::deliver(env, None).await {
                    Ok(mail) => Ok(format!(
                        "{summary} email {} {sales} {rollup}",
                        serde_json::to_string(&mail).unwrap_or_default()
                    )),
                    Err(e) => Ok(format!("{summary} email delivery failed: {e} {sales} {rollup}")),
                }
            }
            Err(e) => Err(e),
        },
        crons::CLEANUP => run_cleanup(env).await,
        other => Err(shared::Error::Config(format!("no job is scheduled for cron {other:?}"))),
    };
    match outcome {
        Ok(summary) => worker::console_log!("cron {cron}: {summary}"),
        Err(e) => worker::console_error!("cron {cron} failed: {e}"),
    }
}

/// The daily rollups, then the funnels'.
async fn roll_up(env: &Env) -> shared::Result<String> {
    let (db, now) = (workers::database(env)?, WorkerClock.now_ms());
    let days = shared::analytics::rollup::run(&db, now).await?;
    let defined = shared::analytics::funnels::funnels(env)?;
    let funnels = shared::analytics::funnels::roll_up(&db, &defined, now).await?;
    let funnels: Vec<String> = funnels.iter().map(|(id, rows)| format!("{id}:{rows}")).collect();
    Ok(format!("analytics rolled up {}, funnel rows {}", days.join(","), funnels.join(",")))
}

async fn run_monitor(env: &Env) -> shared::Result<String> {
    let config = MonitorConfig::from_env(env)?;
    let db = workers::database(env)?;
    let prober = SiteProber { env };
    let summary = match &config.slack_webhook {
        Some(webhook) => {
            let slack = SlackNotifier { webhook, http: &FetchClient, site_url: config::site_url(env)? };
            monitor::run_cycle(&db, &prober, &slack, &WorkerClock, &config).await?
        }
        None => monitor::run_cycle(&db, &prober, &LogNotifier, &WorkerClock, &config).await?,
    };
    serde_json::to_string(&summary).map_err(|e| shared::Error::internal("summarising the monitor run", e))
}

async fn run_cleanup(env: &Env) -> shared::Result<String> {
    let retention = RetentionConfig::from_env(env)?;
    let db = workers::database(env)?;
    let sessions = shared::auth::session::SessionConfig::from_env(env)?;
    let summary = cleanup::run(&db, &retention, &sessions, WorkerClock.now_ms()).await?;
    serde_json::to_string(&summary).map_err(|e| shared::Error::internal("summarising the clean-up", e))
}

/// Probes site paths through the site's own router (so function checks cross the real service
/// bindings) and absolute URLs over the network.
struct SiteProber<'a> {
    env: &'a Env,
}

impl Prober for SiteProber<'_> {
    async fn get(&self, endpoint: &Endpoint) -> Result<u16, String> {
        let response = match endpoint {
            Endpoint::SitePath(path) => {
                // The host is never looked up: the request goes straight into the router.
                let request =
                    Request::new(&format!("https://monitor.internal{path}"), Method::Get).map_err(|e| e.to_string())?;
                crate::route(request, self.env, None).await
            }
            Endpoint::Url(url) => match Request::new(url, Method::Get) {
                Ok(request) => Fetch::Request(request).send().await,
                Err(e) => Err(e),
            },
        };
        response.map(|r| r.status_code()).map_err(|e| e.to_string())
    }
}

/// With no Slack webhook configured (development), alerts go to the log.
struct LogNotifier;

impl Notifier for LogNotifier {
    async fn notify(&self, alert: &Alert) -> shared::Result<()> {
        worker::console_warn!("ALERT (no SLACK_WEBHOOK_URL set): {}", alert.message());
        Ok(())
    }
}
