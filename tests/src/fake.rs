//! A local fake of an outside HTTP service. It answers each path with a scripted status, body and
//! delay (default: 200 `ok`, as Slack's incoming webhooks answer) and records every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Computes an answer from the request (for APIs whose answers depend on the input).
type Responder = Arc<dyn Fn(&Recorded) -> (u16, String) + Send + Sync>;

/// A full answer, headers included (a redirect, an HTML page).
#[derive(Debug, Clone)]
pub struct FakeResponse {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl FakeResponse {
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self { status, body: body.to_string(), headers: vec![("content-type".into(), "application/json".into())] }
    }
}

/// Answers every path under a prefix (for APIs with ids in their paths).
type Router = Arc<dyn Fn(&Recorded) -> FakeResponse + Send + Sync>;

#[derive(Clone)]
struct Answer {
    status: u16,
    body: String,
    delay: Duration,
    responder: Option<Responder>,
}

#[derive(Default)]
struct State {
    answers: HashMap<String, Answer>,
    routers: Vec<(String, Router)>,
    received: Vec<Recorded>,
}

pub struct FakeService {
    server: Arc<tiny_http::Server>,
    state: Arc<Mutex<State>>,
    port: u16,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl FakeService {
    pub fn start() -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("a loopback port is free"));
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        let state = Arc::new(Mutex::new(State::default()));
        let (server2, state2) = (Arc::clone(&server), Arc::clone(&state));
        let worker = std::thread::spawn(move || {
            for mut request in server2.incoming_requests() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let path = request.url().to_owned();
                let answer = {
                    let mut state = state2.lock().expect("fake state lock");
                    state.received.push(Recorded {
                        method: request.method().to_string(),
                        path: path.clone(),
                        headers: request.headers().iter().map(|h| (h.field.to_string(), h.value.to_string())).collect(),
                        body,
                    });
                    let bare = path.split('?').next().unwrap_or_default();
                    let routed = if state.answers.contains_key(bare) {
                        None
                    } else {
                        state
                            .routers
                            .iter()
                            .filter(|(prefix, _)| bare.starts_with(prefix.as_str()))
                            .max_by_key(|(prefix, _)| prefix.len())
                            .map(|(_, router)| Arc::clone(router))
                    };
                    if let (Some(router), Some(last)) = (routed, state.received.last()) {
                        let answer = router(last);
                        std::thread::spawn(move || {
                            let mut response =
                                tiny_http::Response::from_string(answer.body).with_status_code(answer.status);
                            for (name, value) in &answer.headers {
                                if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                                    response.add_header(header);
                                }
                            }
                            let _ = request.respond(response);
                        });
                        continue;
                    }
                    let mut answer = state.answers.get(bare).cloned().unwrap_or(Answer {
                        status: 200,
                        body: "ok".into(),
                        delay: Duration::ZERO,
                        responder: None,
                    });
                    if let (Some(responder), Some(last)) = (&answer.responder, state.received.last()) {
                        (answer.status, answer.body) = responder(last);
                    }
                    answer
                };
                // Each answer on its own thread, so a slow answer does not hold up the others.
                std::thread::spawn(move || {
                    std::thread::sleep(answer.delay);
                    let response = tiny_http::Response::from_string(answer.body).with_status_code(answer.status);
                    let _ = request.respond(response);
                });
            }
        });
        Self { server, state, port, worker: Some(worker) }
    }

    /// A fake email provider (Resend's API) that accepts every email sent to `/emails` as message `id`.
    pub fn email_provider(id: &str) -> Self {
        let provider = Self::start();
        provider.answer("/emails", 200, &format!(r#"{{"id":"{id}"}}"#));
        provider
    }

    /// A fake of a stateful API: every path is answered by `answer` from one state, made by `state`
    /// from the fake's base URL (links the fake hands out point back at it). The fake and its state.
    pub(crate) fn start_stateful<S: Send + 'static>(
        state: impl FnOnce(String) -> S,
        answer: fn(&Mutex<S>, &Recorded) -> FakeResponse,
    ) -> (Self, Arc<Mutex<S>>) {
        let service = Self::start();
        let state = Arc::new(Mutex::new(state(service.url(""))));
        let routed = Arc::clone(&state);
        service.route("/", move |request| answer(&routed, request));
        (service, state)
    }

    /// `http://127.0.0.1:<port><path>`
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// From now on `path` answers `status` with `body`.
    pub fn answer(&self, path: &str, status: u16, body: &str) {
        self.answer_after(path, status, body, Duration::ZERO);
    }

    /// From now on `path` answers `status` with `body` after `delay`.
    pub fn answer_after(&self, path: &str, status: u16, body: &str, delay: Duration) {
        let answer = Answer { status, body: body.into(), delay, responder: None };
        self.state.lock().expect("fake state lock").answers.insert(path.to_owned(), answer);
    }

    /// From now on `path` answers whatever `responder` computes from the request.
    pub fn answer_with(&self, path: &str, responder: impl Fn(&Recorded) -> (u16, String) + Send + Sync + 'static) {
        let answer =
            Answer { status: 200, body: String::new(), delay: Duration::ZERO, responder: Some(Arc::new(responder)) };
        self.state.lock().expect("fake state lock").answers.insert(path.to_owned(), answer);
    }

    /// From now on every path starting with `prefix` (and answered by nothing more specific) is
    /// answered by `router`.
    pub fn route(&self, prefix: &str, router: impl Fn(&Recorded) -> FakeResponse + Send + Sync + 'static) {
        self.state.lock().expect("fake state lock").routers.push((prefix.to_owned(), Arc::new(router)));
    }

    /// Every request received at `path` (query string ignored), oldest first.
    pub fn received(&self, path: &str) -> Vec<Recorded> {
        let state = self.state.lock().expect("fake state lock");
        state.received.iter().filter(|r| r.path.split('?').next() == Some(path)).cloned().collect()
    }

    /// Waits up to `timeout` for at least `count` requests at `path`.
    pub fn wait_for(&self, path: &str, count: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received(path);
            if got.len() >= count || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for FakeService {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
