//! The site worker's crons, adapted to the runtime: each cron's jobs (shared::monitoring::jobs) run
//! one by one, each on its own, and each run is logged and recorded for /status.

use shared::monitoring::cleanup;
use shared::monitoring::endpoints::Endpoint;
use shared::monitoring::jobs::{self, Job};
use shared::monitoring::monitor::{self, Alert, Notifier, Prober};
use shared::monitoring::page_cache;
use shared::monitoring::slack::SlackNotifier;
use shared::settings::Settings;
use shared::time::Clock;
use shared::workers::{self, FetchClient, WorkerClock, log};
use worker::{Env, Fetch, Method, Request};

pub async fn on_cron(cron: &str, env: &Env) {
    let db = workers::database(env);
    if let Err(e) = &db {
        log::error(e);
    }
    // One cron run is one request: its configuration is read once, shared by its jobs.
    let settings = Settings::new(env);
    let runs = jobs::run_cron(db.as_ref().ok(), &WorkerClock, "site", cron, |job| run(job, &settings), log::job).await;
    if let Err(e) = runs {
        log::error(&e);
    }
}

/// One job, on the runtime's bindings.
async fn run(job: Job, settings: &Settings<'_, Env>) -> shared::Result<String> {
    let (env, now) = (settings.env(), WorkerClock.now_ms());
    match job {
        Job::Monitor => run_monitor(settings).await,
        Job::SalesNotification => {
            workers::billing::notify_sales(settings).await.map(|sent| format!("{sent} sales inquiries notified"))
        }
        Job::StaffAlerts => {
            workers::billing::notify_staff(settings).await.map(|sent| format!("{sent} staff alerts posted"))
        }
        Job::EmailDelivery => workers::mail::deliver(settings, None)
            .await
            .map(|mail| format!("{} emails sent, {} failed", mail.sent, mail.failed)),
        Job::AnalyticsRollup => roll_up(settings).await,
        Job::Backup => {
            let summary = shared::backup::run(&workers::database(env)?, &workers::backups(env)?, now).await?;
            Ok(summary.describe())
        }
        Job::Retention => {
            let (retention, sessions) = (settings.retention()?, settings.sessions()?);
            let summary = cleanup::run(&workers::database(env)?, retention, sessions, now).await?;
            Ok(summary.describe())
        }
        Job::CacheCleanup => {
            let (db, kv) = (workers::database(env)?, workers::cache(env)?);
            Ok(page_cache::delete_superseded(&db, &kv, page_cache::MAX_DELETES).await?.describe())
        }
        Job::WebhookRetention => {
            let days = settings.cleanup()?.webhook_days;
            let (stripe, github) = cleanup::webhook_records(&workers::database(env)?, days, now).await?;
            Ok(format!("deleted {stripe} Stripe events and {github} GitHub deliveries older than {days} days"))
        }
        Job::CodeGenerationRetention => {
            let days = settings.cleanup()?.code_generation_days;
            let deleted = cleanup::code_generations(&workers::database(env)?, days, now).await?;
            Ok(format!("deleted {deleted} code generations older than {days} days"))
        }
    }
}

/// The daily rollups, then the funnels'.
async fn roll_up(settings: &Settings<'_, Env>) -> shared::Result<String> {
    let (db, now) = (workers::database(settings.env())?, WorkerClock.now_ms());
    let days = shared::analytics::rollup::run(&db, now).await?;
    let defined = settings.funnels()?;
    let funnels = shared::analytics::funnels::roll_up(&db, defined, now).await?;
    let funnels: Vec<String> = funnels.iter().map(|(id, rows)| format!("{id}:{rows}")).collect();
    Ok(format!("rolled up {}; funnel rows {}", days.join(","), funnels.join(",")))
}

async fn run_monitor(settings: &Settings<'_, Env>) -> shared::Result<String> {
    let config = settings.monitor()?;
    let db = workers::database(settings.env())?;
    let prober = SiteProber { settings };
    let summary = match &config.slack_webhook {
        Some(webhook) => {
            let slack = SlackNotifier { webhook, http: &FetchClient, site_url: settings.site_url()?.clone() };
            monitor::run_cycle(&db, &prober, &slack, &WorkerClock, config).await?
        }
        None => monitor::run_cycle(&db, &prober, &LogNotifier, &WorkerClock, config).await?,
    };
    let down = summary.probes.iter().filter(|p| p.state == monitor::State::Down).count();
    let slow = summary.probes.iter().filter(|p| p.state == monitor::State::Slow).count();
    Ok(format!(
        "probed {} endpoints: {down} down, {slow} slow; {} alerts sent, {} not delivered",
        summary.probes.len(),
        summary.alerts_sent.len(),
        summary.alerts_failed.len()
    ))
}

/// Probes site paths through the site's own router (so function checks cross the real service
/// bindings) and absolute URLs over the network.
struct SiteProber<'a> {
    settings: &'a Settings<'a, Env>,
}

impl Prober for SiteProber<'_> {
    async fn get(&self, endpoint: &Endpoint) -> Result<u16, String> {
        let response = match endpoint {
            Endpoint::SitePath(path) => {
                // The host is never looked up: the request goes straight into the router.
                let request =
                    Request::new(&format!("https://monitor.internal{path}"), Method::Get).map_err(|e| e.to_string())?;
                crate::route(request, self.settings).await
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
        log::warn("monitor.alert", &format!("{} (no SLACK_WEBHOOK_URL set: not sent to Slack)", alert.message()));
        Ok(())
    }
}
