//! The structured logs on the Workers runtime: every worker's `#[event(fetch)]` wraps its handler in
//! a [`RequestLog`], which writes the request's one JSON line when the response is ready (for a
//! streamed answer, when its headers are) and makes the request id current for errors logged on the
//! way. The lines' content is built and tested in `shared::monitoring::logs`.

use crate::error::Error;
use crate::monitoring::jobs::JobRun;
use crate::monitoring::logs::{self, LogContext};
use std::future::Future;
use worker::{Date, Request, Response};

/// One request being served.
pub struct RequestLog {
    context: LogContext,
    method: String,
    route: String,
    started_ms: u64,
}

impl RequestLog {
    /// Reads what the log line needs from `request` before the handler takes it.
    pub fn start(worker: &'static str, request: &Request) -> Self {
        let cf_ray = request.headers().get("cf-ray").ok().flatten();
        let method = super::request::method(request);
        Self {
            context: LogContext { request_id: logs::request_id(cf_ray.as_deref(), logs::new_request_id), worker },
            route: logs::route(&method, &request.path()),
            method,
            started_ms: Date::now().as_millis(),
        }
    }

    /// Runs `handler` with this request's id current, then logs the request's line.
    pub async fn run(self, handler: impl Future<Output = worker::Result<Response>>) -> worker::Result<Response> {
        let outcome = logs::scoped(self.context.clone(), handler).await;
        let status = match &outcome {
            Ok(response) => response.status_code(),
            Err(e) => {
                emit(&logs::error_line(Some(&self.context), &Error::internal("serving a request", e)), true);
                500
            }
        };
        let duration_ms = Date::now().as_millis().saturating_sub(self.started_ms);
        emit(&logs::request_line(&self.context, &self.method, &self.route, status, duration_ms), status >= 500);
        outcome
    }
}

/// An unexpected error, with the current request's id when there is one.
pub fn error(error: &Error) {
    emit(&logs::error_line(logs::current().as_ref(), error), true);
}

/// A routine event worth a line (`info` level): `event` names it, as `queue.batch`.
pub fn info(event: &str, message: &str) {
    worker::console_log!("{}", logs::event_line("info", event, message, logs::current().as_ref()));
}

/// A notable event that is not an error (`warn` level): `event` names it, as `monitor.alert`.
pub fn warn(event: &str, message: &str) {
    worker::console_warn!("{}", logs::event_line("warn", event, message, logs::current().as_ref()));
}

/// A cron job's run, and a failure to record it.
pub fn job(run: &JobRun, recording: Option<&Error>) {
    emit(&run.log_line(), !run.ok());
    if let Some(e) = recording {
        emit(&logs::error_line(Some(&run.context), e), true);
    }
}

/// `console.error` for errors (Workers Logs reads the level from the console method), else
/// `console.log`.
fn emit(line: &str, is_error: bool) {
    if is_error {
        worker::console_error!("{line}");
    } else {
        worker::console_log!("{line}");
    }
}
