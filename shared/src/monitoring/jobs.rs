//! Scheduled jobs. Each cron runs its jobs one after another, each on its own: a job that fails or
//! outlives its time limit is recorded as failed and the next job still runs. Every run is logged as
//! one JSON line and its outcome is kept in `job_runs` (one row per job), which `/status` shows.

use super::crons;
use super::logs::{self, LogContext};
use crate::error::{Error, Result};
use crate::storage::{Database, Statement};
use crate::time::{Clock, Millis, with_timeout};
use serde::Deserialize;
use std::future::Future;

/// Longest message kept in `job_runs` and shown on `/status`.
const MAX_MESSAGE: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Probe the monitored endpoints and alert Slack on changes.
    Monitor,
    /// Post new contact-sales requests to Slack.
    SalesNotification,
    /// Post pending staff alerts (disputes, priority support) to Slack.
    StaffAlerts,
    /// Send (or retry) pending email.
    EmailDelivery,
    /// Roll analytics events up into daily rows and funnels.
    AnalyticsRollup,
    /// Export the tables that cannot be rebuilt to R2 (first of the daily jobs: the rows the clean-up
    /// deletes that night are still in that night's backup).
    Backup,
    /// Delete health checks, sessions, events, chat logs and expired tokens past their retention.
    Retention,
    /// Delete KV cache entries of superseded content generations.
    CacheCleanup,
    /// Delete Stripe and GitHub webhook delivery records past their retention.
    WebhookRetention,
    /// Delete code generations past their retention, except those a repository was made from.
    CodeGenerationRetention,
}

impl Job {
    /// Every job, in the order its cron runs them.
    pub const ALL: [Job; 10] = [
        Job::Monitor,
        Job::SalesNotification,
        Job::StaffAlerts,
        Job::EmailDelivery,
        Job::AnalyticsRollup,
        Job::Backup,
        Job::Retention,
        Job::CacheCleanup,
        Job::WebhookRetention,
        Job::CodeGenerationRetention,
    ];

    /// The name in logs and in `job_runs.job`.
    pub fn name(self) -> &'static str {
        match self {
            Job::Monitor => "monitor",
            Job::SalesNotification => "sales-notification",
            Job::StaffAlerts => "staff-alerts",
            Job::EmailDelivery => "email-delivery",
            Job::AnalyticsRollup => "analytics-rollup",
            Job::Backup => "backup",
            Job::Retention => "retention",
            Job::CacheCleanup => "cache-cleanup",
            Job::WebhookRetention => "webhook-retention",
            Job::CodeGenerationRetention => "code-generation-retention",
        }
    }

    /// What `/status` calls it.
    pub fn title(self) -> &'static str {
        match self {
            Job::Monitor => "Endpoint monitor",
            Job::SalesNotification => "Sales inquiry notifications",
            Job::StaffAlerts => "Staff alerts",
            Job::EmailDelivery => "Email delivery",
            Job::AnalyticsRollup => "Analytics rollups",
            Job::Backup => "Backup to R2",
            Job::Retention => "Retention clean-up",
            Job::CacheCleanup => "Superseded page cache",
            Job::WebhookRetention => "Webhook delivery records",
            Job::CodeGenerationRetention => "Old code generations",
        }
    }

    pub fn cron(self) -> &'static str {
        match self {
            Job::Monitor | Job::SalesNotification | Job::StaffAlerts | Job::EmailDelivery | Job::AnalyticsRollup => {
                crons::MONITOR
            }
            _ => crons::CLEANUP,
        }
    }

    /// The cron, in words.
    pub fn schedule(self) -> &'static str {
        if self.cron() == crons::MONITOR { "every 5 minutes" } else { "daily at 03:17 UTC" }
    }

    /// How long one run may take. The 5-minute jobs together stay under 5 minutes, so runs never
    /// overlap; the daily jobs stay well inside a cron invocation's 15 minutes.
    pub fn timeout_ms(self) -> u64 {
        match self {
            Job::Monitor => 90_000,
            // A few Slack posts each.
            Job::SalesNotification | Job::StaffAlerts => 30_000,
            Job::EmailDelivery | Job::AnalyticsRollup => 60_000,
            Job::Backup => 420_000,
            Job::Retention | Job::CacheCleanup | Job::WebhookRetention | Job::CodeGenerationRetention => 90_000,
        }
    }

    pub fn parse(name: &str) -> Option<Job> {
        Job::ALL.into_iter().find(|job| job.name() == name)
    }
}

/// The jobs a cron expression runs, in order; none for an unknown expression.
pub fn for_cron(cron: &str) -> Vec<Job> {
    Job::ALL.into_iter().filter(|job| job.cron() == cron).collect()
}

/// One run of one job.
#[derive(Debug)]
pub struct JobRun {
    pub job: Job,
    /// The run's id in the logs (errors logged during the run carry it too).
    pub context: LogContext,
    pub started_at: Millis,
    pub duration_ms: u64,
    /// A short summary (counts) on success.
    pub outcome: Result<String>,
}

impl JobRun {
    pub fn ok(&self) -> bool {
        self.outcome.is_ok()
    }

    /// The one line per cron job run. A failure carries the error's code and full message, as
    /// [`logs::error_line`].
    pub fn log_line(&self) -> String {
        let message = match &self.outcome {
            Ok(summary) => summary.clone(),
            Err(e) => e.to_string(),
        };
        let mut line = serde_json::json!({
            "level": if self.ok() { "info" } else { "error" },
            "event": "cron.job",
            "job": self.job.name(),
            "cron": self.job.cron(),
            "started_at": crate::time::to_rfc3339(self.started_at),
            "duration_ms": self.duration_ms,
            "ok": self.ok(),
            "message": logs::truncate(&message, logs::MAX_MESSAGE),
        });
        if let (Err(e), Some(object)) = (&self.outcome, line.as_object_mut()) {
            object.insert("code".into(), e.code().into());
        }
        logs::add_context(&mut line, Some(&self.context));
        line.to_string()
    }

    /// What `/status` (a public page) may show: the summary, or the error's code and its public
    /// message. A configuration error names the variable to fix, never a secret's value.
    pub fn public_message(&self) -> String {
        let text = match &self.outcome {
            Ok(summary) => summary.clone(),
            Err(e @ Error::Config(_)) => e.to_string(),
            Err(e) => format!("{}: {}", e.code(), e.body().error.message),
        };
        logs::truncate(&text, MAX_MESSAGE)
    }
}

/// Runs `work` as `job` under the job's time limit, with `context` current for its logs.
pub async fn run_one<C: Clock, F: Future<Output = Result<String>>>(
    clock: &C,
    job: Job,
    context: LogContext,
    work: F,
) -> JobRun {
    let started_at = clock.now_ms();
    let limit = job.timeout_ms();
    let outcome = with_timeout(clock, limit, logs::scoped(context.clone(), work))
        .await
        .unwrap_or_else(|| Err(Error::Unavailable(format!("{} did not finish within {} s", job.name(), limit / 1000))));
    let duration_ms = u64::try_from(clock.now_ms() - started_at).unwrap_or(0);
    JobRun { job, context, started_at, duration_ms, outcome }
}

/// Runs every job of `cron` in turn: `work(job)` does it; `report` hears of each run (to log it) and
/// of a failure to record it. Recording needs `db`; without one the runs are only reported.
pub async fn run_cron<D, C, W, Fut, R>(
    db: Option<&D>,
    clock: &C,
    worker: &'static str,
    cron: &str,
    mut work: W,
    mut report: R,
) -> Result<Vec<JobRun>>
where
    D: Database,
    C: Clock,
    W: FnMut(Job) -> Fut,
    Fut: Future<Output = Result<String>>,
    R: FnMut(&JobRun, Option<&Error>),
{
    let jobs = for_cron(cron);
    if jobs.is_empty() {
        return Err(Error::Config(format!("no job is scheduled for cron {cron:?}")));
    }
    let mut runs = Vec::with_capacity(jobs.len());
    for job in jobs {
        let context = LogContext { request_id: logs::new_request_id(), worker };
        let run = run_one(clock, job, context, work(job)).await;
        let recorded = match db {
            Some(db) => db.execute(record(&run)).await.err(),
            None => None,
        };
        report(&run, recorded.as_ref());
        runs.push(run);
    }
    Ok(runs)
}

/// Keeps the run as the job's last; `last_ok_at` moves only on success.
pub fn record(run: &JobRun) -> Statement {
    Statement::new(
        "INSERT INTO job_runs (job, started_at, duration_ms, ok, message, last_ok_at)
         VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?4 = 1 THEN ?2 END)
         ON CONFLICT (job) DO UPDATE SET
             started_at = excluded.started_at,
             duration_ms = excluded.duration_ms,
             ok = excluded.ok,
             message = excluded.message,
             last_ok_at = COALESCE(excluded.last_ok_at, job_runs.last_ok_at)",
    )
    .bind(run.job.name())
    .bind(run.started_at)
    .bind(i64::try_from(run.duration_ms).unwrap_or(i64::MAX))
    .bind(run.ok())
    .bind(run.public_message())
}

/// A job's last run, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct JobRow {
    pub job: String,
    pub started_at: Millis,
    pub duration_ms: i64,
    pub ok: i64,
    pub message: String,
    pub last_ok_at: Option<Millis>,
}

pub async fn last_runs(db: &impl Database) -> Result<Vec<JobRow>> {
    db.query(Statement::new("SELECT job, started_at, duration_ms, ok, message, last_ok_at FROM job_runs ORDER BY job"))
        .await
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteDb;
    use crate::time::testing::FixedClock;
    use futures::executor::block_on;

    /// A clock whose timers fire at once: a job that does not finish at its first poll times out.
    pub(crate) struct HurriedClock;

    impl Clock for HurriedClock {
        fn now_ms(&self) -> Millis {
            1_000
        }
        async fn sleep(&self, _ms: u64) {}
    }

    fn bad_endpoints() -> Error {
        crate::monitoring::endpoints::Endpoint::parse_list("example.com").expect_err("no scheme")
    }

    #[test]
    fn each_cron_runs_its_own_jobs_in_order() {
        let names = |cron| for_cron(cron).into_iter().map(Job::name).collect::<Vec<_>>();
        assert_eq!(
            names(crons::MONITOR),
            ["monitor", "sales-notification", "staff-alerts", "email-delivery", "analytics-rollup"]
        );
        assert_eq!(
            names(crons::CLEANUP),
            ["backup", "retention", "cache-cleanup", "webhook-retention", "code-generation-retention"]
        );
        assert!(for_cron("* * * * *").is_empty());
        assert!(Job::ALL.iter().all(|job| Job::parse(job.name()) == Some(*job)));
        let five_minute_budget: u64 = for_cron(crons::MONITOR).into_iter().map(Job::timeout_ms).sum();
        assert!(five_minute_budget < 300_000, "runs of the 5-minute cron never overlap");
    }

    #[test]
    fn a_failing_job_does_not_skip_the_others_and_each_outcome_is_recorded() {
        let db = SqliteDb::with_schema();
        let mut reported = Vec::new();
        let runs = block_on(run_cron(
            Some(&db),
            &FixedClock::at(5_000),
            "site",
            crons::MONITOR,
            |job| async move {
                match job {
                    Job::Monitor => Err(bad_endpoints()),
                    other => Ok(format!("{} done", other.name())),
                }
            },
            |run, recorded| reported.push((run.job, run.ok(), recorded.is_some())),
        ))
        .expect("a known cron");
        assert_eq!(runs.len(), 5);
        assert_eq!(
            reported,
            [
                (Job::Monitor, false, false),
                (Job::SalesNotification, true, false),
                (Job::StaffAlerts, true, false),
                (Job::EmailDelivery, true, false),
                (Job::AnalyticsRollup, true, false)
            ]
        );
        let rows = block_on(last_runs(&db)).expect("rows");
        assert_eq!(rows.len(), 5, "{rows:?}");
        let monitor = rows.iter().find(|r| r.job == "monitor").expect("recorded");
        assert_eq!((monitor.ok, monitor.started_at, monitor.last_ok_at), (0, 5_000, None));
        assert!(monitor.message.contains("MONITOR_ENDPOINTS"), "{}", monitor.message);
        let email = rows.iter().find(|r| r.job == "email-delivery").expect("recorded");
        assert_eq!((email.ok, email.message.as_str(), email.last_ok_at), (1, "email-delivery done", Some(5_000)));
    }

    #[test]
    fn a_failure_keeps_the_time_of_the_last_success() {
        let db = SqliteDb::with_schema();
        let clock = FixedClock::at(1_000);
        let once = |outcome: Result<String>| {
            let run =
                block_on(run_one(&clock, Job::Backup, LogContext { request_id: "r".into(), worker: "site" }, async {
                    outcome
                }));
            block_on(db.execute(record(&run))).expect("recorded");
        };
        once(Ok("written".into()));
        clock.advance(60_000);
        once(Err(Error::storage("writing to R2", "bucket unreachable at 10.0.0.1")));
        let rows = block_on(last_runs(&db)).expect("rows");
        assert_eq!((rows[0].ok, rows[0].started_at, rows[0].last_ok_at), (0, 61_000, Some(1_000)));
        assert_eq!(
            rows[0].message, "storage_unavailable: A storage service is unavailable. Try again shortly.",
            "internals stay in the log, off the public page"
        );
    }

    #[test]
    fn a_job_past_its_time_limit_fails_and_the_next_one_runs() {
        let db = SqliteDb::with_schema();
        let runs = block_on(run_cron(
            Some(&db),
            &HurriedClock,
            "site",
            crons::CLEANUP,
            |job| async move {
                if job == Job::Backup {
                    futures::future::pending::<()>().await;
                }
                Ok("done".to_owned())
            },
            |_, _| {},
        ))
        .expect("a known cron");
        assert!(!runs[0].ok());
        assert!(
            runs[0].public_message().contains("backup did not finish within 420 s"),
            "{}",
            runs[0].public_message()
        );
        assert!(runs[1..].iter().all(JobRun::ok));
    }

    #[test]
    fn an_unknown_cron_is_an_error_and_recording_failures_are_reported() {
        let db = SqliteDb::empty();
        let unknown = block_on(run_cron(
            Some(&db),
            &FixedClock::at(0),
            "site",
            "1 1 1 1 1",
            |_| async { Ok(String::new()) },
            |_, _| {},
        ));
        assert!(unknown.is_err());
        let mut failures = 0;
        let runs = block_on(run_cron(
            Some(&db),
            &FixedClock::at(0),
            "site",
            crons::MONITOR,
            |_| async { Ok("done".to_owned()) },
            |_, recorded| failures += usize::from(recorded.is_some()),
        ))
        .expect("runs");
        assert_eq!((runs.len(), failures), (5, 5), "a database without job_runs fails each record, not the jobs");
    }

    #[test]
    fn a_job_line_is_json_with_the_outcome() {
        let clock = FixedClock::at(0);
        let context = LogContext { request_id: "run-1".into(), worker: "site" };
        let run = block_on(run_one(&clock, Job::Monitor, context, async { Err(bad_endpoints()) }));
        let line: serde_json::Value = serde_json::from_str(&run.log_line()).expect("JSON");
        assert_eq!(line["event"], "cron.job");
        assert_eq!(line["job"], "monitor");
        assert_eq!(line["cron"], crons::MONITOR);
        assert_eq!(line["ok"], false);
        assert_eq!(line["level"], "error");
        assert_eq!(line["request_id"], "run-1");
        assert_eq!(line["started_at"], "1970-01-01T00:00:00.000Z");
        assert_eq!(line["code"], "configuration_error");
        assert!(line["message"].as_str().unwrap_or_default().contains("MONITOR_ENDPOINTS"));
    }
}
