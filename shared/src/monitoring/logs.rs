//! Structured logs: one JSON line per request, per unexpected error and per cron job, the shape
//! Workers Logs indexes (`[observability]` in each `wrangler.toml`). A line carries what an operator
//! needs to follow a request: its id (Cloudflare's `cf-ray`), the worker, the method, the route, the
//! status and the duration. Never the query string, headers, cookies, bodies, emails or question
//! text: the route is the route table's pattern (`/courses/{slug}`) where it knows the path, else the
//! bare path, cut short.
//!
//! The request id reaches errors logged deep inside a handler through [`scoped`]: the id is set
//! while the request's future is polled, the way `tokio::task_local!` works, so requests that
//! interleave in one isolate each log their own id.

use crate::error::Error;
use crate::web::routes::{self, Resolved};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// Longest path logged for a request outside the route table (a client chooses it).
const MAX_PATH: usize = 120;
/// Longest error message logged.
pub(crate) const MAX_MESSAGE: usize = 1_000;

/// Which request (or cron job) a log line belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogContext {
    pub request_id: String,
    pub worker: &'static str,
}

/// The request id: Cloudflare's `cf-ray` when present (letters, digits and `-` only, as Cloudflare
/// writes it), else `generated`, so a line can always be matched with its request.
pub fn request_id(cf_ray: Option<&str>, generated: impl FnOnce() -> String) -> String {
    match cf_ray.map(str::trim) {
        Some(ray)
            if !ray.is_empty() && ray.len() <= 64 && ray.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            ray.to_owned()
        }
        _ => generated(),
    }
}

/// A fresh id for a request without `cf-ray` (local development) or a cron job's run.
pub fn new_request_id() -> String {
    crate::ids::random_hex(8).unwrap_or_else(|_| "unknown".to_owned())
}

/// The route as logged: the route table's pattern for a known path (under any method), else the path
/// without its query, cut to [`MAX_PATH`] characters.
pub fn route(method: &str, path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let pattern = |method: &str| match routes::resolve(method, path) {
        Resolved::Route(spec, _) => Some(spec.path),
        _ => None,
    };
    let known = pattern(method).or_else(|| ["GET", "POST", "PUT", "DELETE"].into_iter().find_map(pattern));
    match known {
        Some(pattern) => pattern.to_owned(),
        None => path.chars().take(MAX_PATH).collect(),
    }
}

/// `info` below 500, `error` from 500: the level Workers Logs filters on.
pub fn level(status: u16) -> &'static str {
    if status >= 500 { "error" } else { "info" }
}

/// The one line per request.
pub fn request_line(context: &LogContext, method: &str, route: &str, status: u16, duration_ms: u64) -> String {
    json!({
        "level": level(status),
        "event": "request",
        "request_id": context.request_id,
        "worker": context.worker,
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": duration_ms,
    })
    .to_string()
}

/// An unexpected error, with the request it happened in when there is one. The message is the
/// error's own (it names the failing operation; secrets never go into errors), cut short.
pub fn error_line(context: Option<&LogContext>, error: &Error) -> String {
    let mut line = json!({
        "level": "error",
        "event": "error",
        "status": error.status_code(),
        "code": error.code(),
        "message": truncate(&error.to_string(), MAX_MESSAGE),
    });
    add_context(&mut line, context);
    line.to_string()
}

/// Any other notable event (`event` names it, as `monitor.alert`), in the current request when there is
/// one. The message must be free of personal data, as every line.
pub fn event_line(level: &str, event: &str, message: &str, context: Option<&LogContext>) -> String {
    let mut line = json!({"level": level, "event": event, "message": truncate(message, MAX_MESSAGE)});
    add_context(&mut line, context);
    line.to_string()
}

/// The request's (or job run's) id and worker, added to a line.
pub(crate) fn add_context(line: &mut Value, context: Option<&LogContext>) {
    if let (Some(context), Some(object)) = (context, line.as_object_mut()) {
        object.insert("request_id".into(), context.request_id.clone().into());
        object.insert("worker".into(), context.worker.into());
    }
}

/// `text` cut to at most `max` characters, on a character boundary.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<LogContext>>> = const { RefCell::new(None) };
}

/// The context of the request (or job) whose future is being polled, if any.
pub fn current() -> Option<LogContext> {
    CURRENT.with(|c| c.borrow().as_deref().cloned())
}

/// `work`, with `context` as [`current`] whenever it runs.
pub fn scoped<F: Future>(context: LogContext, work: F) -> Scoped<F> {
    Scoped { context: Rc::new(context), work: Box::pin(work) }
}

pub struct Scoped<F> {
    context: Rc<LogContext>,
    work: Pin<Box<F>>,
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let outer = CURRENT.with(|c| c.replace(Some(this.context.clone())));
        let polled = this.work.as_mut().poll(cx);
        CURRENT.with(|c| c.replace(outer));
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(id: &str) -> LogContext {
        LogContext { request_id: id.to_owned(), worker: "site" }
    }

    fn parse(line: &str) -> Value {
        assert!(!line.contains('\n'), "one line: {line}");
        serde_json::from_str(line).expect("a JSON line")
    }

    #[test]
    fn a_request_line_has_every_field_and_the_route_pattern() {
        let route = route("GET", "/courses/smart-on-fhir/quizzes/final");
        let line = parse(&request_line(&context("8c1f-LHR"), "GET", &route, 200, 12));
        assert_eq!(line["event"], "request");
        assert_eq!(line["level"], "info");
        assert_eq!(line["request_id"], "8c1f-LHR");
        assert_eq!(line["worker"], "site");
        assert_eq!(line["method"], "GET");
        assert_eq!(line["route"], "/courses/{slug}/quizzes/{quiz}");
        assert_eq!(line["status"], 200);
        assert_eq!(line["duration_ms"], 12);
        assert_eq!(parse(&request_line(&context("x"), "GET", "/", 503, 1))["level"], "error");
    }

    #[test]
    fn no_query_string_reaches_the_route() {
        // A reset token, a search, an email: each travels in a query string, and none may be logged.
        for (method, path, expected) in [
            ("GET", "/reset?token=secret-token", "/reset"),
            ("GET", "/search?q=patient+john+doe", "/search"),
            ("GET", "/api/github/callback?code=abc&state=def", "/api/github/callback"),
            ("GET", "/css/site.css?v=3#top", "/css/site.css"),
            ("GET", "/unknown/page?email=a@b.org", "/unknown/page"),
        ] {
            let route = route(method, path);
            assert_eq!(route, expected, "{path}");
            let line = request_line(&context("r"), method, &route, 200, 1);
            assert!(!line.contains('?') && !line.contains("secret") && !line.contains("@"), "{line}");
        }
    }

    #[test]
    fn a_known_path_under_another_method_logs_its_pattern_and_long_unknown_paths_are_cut() {
        assert_eq!(route("PATCH", "/api/org/members/u-123"), "/api/org/members/{userId}");
        assert_eq!(route("POST", "/_functions/stripeWebhook"), "/_functions/stripeWebhook");
        assert_eq!(route("GET", &format!("/{}", "a".repeat(500))).chars().count(), MAX_PATH);
    }

    #[test]
    fn the_request_id_is_cf_ray_when_well_formed_else_generated() {
        assert_eq!(request_id(Some("8c1f2a3b4c5d6e7f-LHR"), || "new".into()), "8c1f2a3b4c5d6e7f-LHR");
        for bad in [None, Some(""), Some("a b"), Some("x\ny"), Some("\"quote")] {
            assert_eq!(request_id(bad, || "new".into()), "new", "{bad:?}");
        }
        let long = "a".repeat(65);
        assert_eq!(request_id(Some(&long), || "new".into()), "new");
        assert_eq!(new_request_id().len(), 16);
    }

    #[test]
    fn an_error_line_carries_the_code_and_the_current_request() {
        let error = Error::storage("loading the session", "D1_ERROR: no such table: sessions");
        let line = parse(&error_line(Some(&context("ray-1")), &error));
        assert_eq!(line["level"], "error");
        assert_eq!(line["code"], "storage_unavailable");
        assert_eq!(line["status"], 503);
        assert_eq!(line["request_id"], "ray-1");
        assert!(line["message"].as_str().unwrap_or_default().contains("loading the session"));
        let without = parse(&error_line(None, &Error::Config("x".repeat(5_000))));
        assert!(without.get("request_id").is_none());
        assert!(without["message"].as_str().unwrap_or_default().chars().count() <= MAX_MESSAGE + 1);
    }

    #[test]
    fn an_event_line_names_its_event_and_request() {
        let line = parse(&event_line("warn", "monitor.alert", "/pricing is DOWN: HTTP 500", Some(&context("r-9"))));
        assert_eq!((line["level"].as_str(), line["event"].as_str()), (Some("warn"), Some("monitor.alert")));
        assert_eq!((line["request_id"].as_str(), line["worker"].as_str()), (Some("r-9"), Some("site")));
        assert_eq!(line["message"], "/pricing is DOWN: HTTP 500");
    }

    #[test]
    fn each_scoped_future_sees_its_own_context_while_interleaved() {
        use futures::FutureExt;
        use std::cell::Cell;
        // Two "requests" that each yield once, polled alternately as an isolate would run them.
        let seen = RefCell::new(Vec::new());
        let yield_once = || {
            let yielded = Cell::new(false);
            futures::future::poll_fn(move |cx| {
                if yielded.replace(true) {
                    Poll::Ready(())
                } else {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            })
        };
        let request = |id: &'static str| {
            let seen = &seen;
            scoped(context(id), async move {
                seen.borrow_mut().push(current().map(|c| c.request_id));
                yield_once().await;
                seen.borrow_mut().push(current().map(|c| c.request_id));
            })
        };
        let (mut a, mut b) = (request("a").boxed_local(), request("b").boxed_local());
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(a.as_mut().poll(&mut cx).is_pending());
        assert!(b.as_mut().poll(&mut cx).is_pending());
        assert!(a.as_mut().poll(&mut cx).is_ready());
        assert!(b.as_mut().poll(&mut cx).is_ready());
        drop((a, b));
        let ids: Vec<Option<String>> = seen.into_inner();
        let expected = ["a", "b", "a", "b"].map(|id| Some(id.to_owned()));
        assert_eq!(ids, expected);
        assert_eq!(current(), None, "outside any request there is no context");
    }
}
