//! `GET /_functions/health`: real checks of each binding (a D1 query against the schema, a KV round
//! trip), each bounded by a timeout, folded into `ok` / `degraded` / `down`.

use crate::error::{Error, Result};
use crate::ids;
use crate::storage::{Database, KeyValue, Statement};
use crate::time::{Clock, to_rfc3339, with_timeout};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Degraded,
    Down,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub ok: bool,
    pub latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Whether the platform can serve without the binding: without D1 it cannot (down); KV is a cache,
/// so without it the platform is slower but works (degraded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criticality {
    Critical,
    Optional,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HealthReport {
    pub status: Status,
    pub version: String,
    pub time: String,
    pub checks: BTreeMap<String, CheckResult>,
}

impl HealthReport {
    /// 200 when ok or degraded, 503 when down.
    pub fn http_status(&self) -> u16 {
        if self.status == Status::Down { 503 } else { 200 }
    }
}

/// Runs one check under a timeout and measures it.
pub async fn run_check(clock: &impl Clock, timeout_ms: u64, work: impl Future<Output = Result<()>>) -> CheckResult {
    let started = clock.now_ms();
    let outcome = with_timeout(clock, timeout_ms, work).await;
    let latency_ms = u64::try_from(clock.now_ms() - started).unwrap_or(0);
    let error = match outcome {
        Some(Ok(())) => None,
        Some(Err(e)) => Some(describe(&e)),
        None => Some(format!("timed out after {timeout_ms} ms")),
    };
    CheckResult { ok: error.is_none(), latency_ms, error }
}

/// Health output goes to operators, so it names the failing operation, but never carries secrets.
fn describe(error: &Error) -> String {
    error.to_string()
}

/// D1 answers and carries the schema.
pub async fn check_d1(db: &impl Database) -> Result<()> {
    #[derive(Deserialize)]
    struct Row {
        version: i64,
    }
    let row: Option<Row> = db.query_first(Statement::new("SELECT version FROM schema_version WHERE id = 1")).await?;
    match row {
        Some(row) if row.version >= 1 => Ok(()),
        _ => Err(Error::storage("reading schema_version", "the schema has not been applied")),
    }
}

/// KV stores, returns and deletes a value. Each probe uses its own key: KV allows one write per key
/// per second.
pub async fn check_kv(kv: &impl KeyValue) -> Result<()> {
    let key = format!("health:probe:{}", ids::new_id()?);
    let value = ids::new_id()?;
    kv.put(&key, &value, Some(60)).await?;
    let read = kv.get(&key).await?;
    kv.delete(&key).await?;
    if read.as_deref() == Some(value.as_str()) {
        Ok(())
    } else {
        Err(Error::storage("reading back a KV probe", "the value read differs from the value written"))
    }
}

/// Folds named check results into the overall report.
pub fn assemble(clock: &impl Clock, checks: Vec<(&str, Criticality, CheckResult)>) -> HealthReport {
    let critical_failed = checks.iter().any(|(_, c, r)| *c == Criticality::Critical && !r.ok);
    let any_failed = checks.iter().any(|(_, _, r)| !r.ok);
    let status = match (critical_failed, any_failed) {
        (true, _) => Status::Down,
        (false, true) => Status::Degraded,
        (false, false) => Status::Ok,
    };
    HealthReport {
        status,
        version: crate::VERSION.to_owned(),
        time: to_rfc3339(clock.now_ms()),
        checks: checks.into_iter().map(|(name, _, result)| (name.to_owned(), result)).collect(),
    }
}

/// The full health check: D1 (critical) and KV (optional), each under `timeout_ms`, run concurrently.
/// A binding that is missing from the environment arrives as an `Err` and fails its check.
pub async fn check_all(
    clock: &impl Clock,
    timeout_ms: u64,
    db: Result<&impl Database>,
    kv: Result<&impl KeyValue>,
) -> HealthReport {
    let d1 = run_check(clock, timeout_ms, async {
        match db {
            Ok(db) => check_d1(db).await,
            Err(e) => Err(e),
        }
    });
    let kv = run_check(clock, timeout_ms, async {
        match kv {
            Ok(kv) => check_kv(kv).await,
            Err(e) => Err(e),
        }
    });
    let (d1, kv) = futures::join!(d1, kv);
    assemble(clock, vec![("d1", Criticality::Critical, d1), ("kv", Criticality::Optional, kv)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryKv;
    use crate::storage::sqlite::SqliteDb;
    use crate::time::testing::FixedClock;
    use futures::executor::block_on;

    fn report(db: &SqliteDb, kv: &MemoryKv) -> HealthReport {
        block_on(check_all(&FixedClock::at(0), 1_000, Ok(db), Ok(kv)))
    }

    #[test]
    fn all_bindings_working_is_ok_with_200() {
        let kv = MemoryKv::new();
        let report = report(&SqliteDb::with_schema(), &kv);
        assert_eq!(report.status, Status::Ok);
        assert_eq!(report.http_status(), 200);
        assert!(report.checks["d1"].ok && report.checks["kv"].ok);
        assert!(kv.is_empty(), "the KV probe cleans up after itself");
    }

    #[test]
    fn d1_without_the_schema_is_down_with_503() {
        let report = report(&SqliteDb::empty(), &MemoryKv::new());
        assert_eq!(report.status, Status::Down);
        assert_eq!(report.http_status(), 503);
        assert!(report.checks["d1"].error.as_deref().unwrap_or_default().contains("schema_version"));
    }

    #[test]
    fn kv_failing_is_degraded_but_still_200() {
        let kv = MemoryKv::new();
        kv.fail();
        let report = report(&SqliteDb::with_schema(), &kv);
        assert_eq!(report.status, Status::Degraded);
        assert_eq!(report.http_status(), 200);
        assert!(!report.checks["kv"].ok);
    }

    #[test]
    fn a_missing_binding_fails_its_check() {
        let missing: Result<&SqliteDb> = Err(Error::Config("binding DB is not configured".into()));
        let report = block_on(check_all(&FixedClock::at(0), 1_000, missing, Ok(&MemoryKv::new())));
        assert_eq!(report.status, Status::Down);
        assert!(report.checks["d1"].error.as_deref().unwrap_or_default().contains("DB"));
    }

    #[test]
    fn a_check_that_outlives_its_timeout_fails() {
        let clock = FixedClock::at(0);
        let result = block_on(run_check(&clock, 0, futures::future::pending()));
        assert!(!result.ok);
        assert_eq!(result.error.as_deref(), Some("timed out after 0 ms"));
    }

    #[test]
    fn the_report_serializes_in_the_documented_shape() {
        let json = serde_json::to_value(report(&SqliteDb::with_schema(), &MemoryKv::new())).expect("json");
        assert_eq!(json["status"], "ok");
        assert_eq!(json["version"], crate::VERSION);
        assert_eq!(json["time"], "1970-01-01T00:00:00.000Z");
        assert_eq!(json["checks"]["d1"]["ok"], true);
        assert!(json["checks"]["d1"].get("error").is_none(), "no error key on success");
    }
}
