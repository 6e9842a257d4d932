//! Outbound calls behind a trait: `fetch` in the worker, a recording fake in native tests. Every
//! client of an outside API takes its base URL from configuration and sends through this. Workers AI
//! models are called through a binding rather than a URL; they go through the same trait
//! ([`HttpClient::run_model`]) so the code that builds their input and reads their output is tested
//! natively like any other client.

use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl OutboundRequest {
    pub fn post_json(url: impl Into<String>, body: &serde_json::Value) -> Self {
        Self {
            method: "POST",
            url: url.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(body.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundResponse {
    pub status: u16,
    pub body: String,
    /// Response headers, names in lower case (rate-limit and retry hints).
    pub headers: Vec<(String, String)>,
}

impl OutboundResponse {
    /// A header's value, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The response if its status is 2xx; otherwise an upstream error carrying the status and the
    /// start of the body (services explain refusals there: Slack's `invalid_payload`, a provider's
    /// error JSON).
    pub fn success(self, context: &str) -> Result<Self> {
        if (200..300).contains(&self.status) {
            Ok(self)
        } else {
            Err(crate::Error::upstream(
                context,
                format!("HTTP {}: {}", self.status, self.body.chars().take(200).collect::<String>()),
            ))
        }
    }
}

pub trait HttpClient {
    /// Sends the request. A transport failure is an [`crate::Error::Upstream`]; an HTTP error status is
    /// a normal response for the caller to judge.
    async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse>;

    /// Runs a Workers AI model (`env.AI.run(model, input)`) and answers its JSON output. Only the
    /// production worker has the `AI` binding (it is remote-only); everywhere else this is unavailable.
    async fn run_model(&self, model: &str, input: &serde_json::Value) -> Result<serde_json::Value> {
        let _ = input;
        Err(crate::Error::Unavailable(format!(
            "Workers AI ({model}) needs the AI binding, which exists only in the production worker."
        )))
    }
}

#[cfg(test)]
pub mod testing {
    use super::*;
    use crate::error::Error;
    use std::cell::RefCell;

    /// Answers every request with the queued responses in order (then the last one again) and records
    /// what it was sent.
    pub struct RecordingHttp {
        pub sent: RefCell<Vec<OutboundRequest>>,
        answers: RefCell<Vec<Result<OutboundResponse, String>>>,
    }

    impl RecordingHttp {
        pub fn answering(status: u16, body: &str) -> Self {
            Self {
                sent: RefCell::default(),
                answers: RefCell::new(vec![Ok(OutboundResponse { status, body: body.into(), headers: Vec::new() })]),
            }
        }

        pub fn unreachable() -> Self {
            Self { sent: RefCell::default(), answers: RefCell::new(vec![Err("connection refused".into())]) }
        }

        pub fn then(self, status: u16, body: &str) -> Self {
            self.answers.borrow_mut().push(Ok(OutboundResponse { status, body: body.into(), headers: Vec::new() }));
            self
        }

        /// Queues an answer with headers.
        pub fn then_with(self, status: u16, body: &str, headers: &[(&str, &str)]) -> Self {
            let headers = headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
            self.answers.borrow_mut().push(Ok(OutboundResponse { status, body: body.into(), headers }));
            self
        }
    }

    impl HttpClient for RecordingHttp {
        async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse> {
            self.sent.borrow_mut().push(request);
            let mut answers = self.answers.borrow_mut();
            let answer = if answers.len() > 1 { answers.remove(0) } else { answers[0].clone() };
            answer.map_err(|e| Error::upstream("sending a test request", e))
        }

        /// Recorded as a request to `workers-ai:<model>`; a 2xx answer's body is the model's output.
        async fn run_model(&self, model: &str, input: &serde_json::Value) -> Result<serde_json::Value> {
            let request = OutboundRequest {
                method: "RUN",
                url: format!("workers-ai:{model}"),
                headers: Vec::new(),
                body: Some(input.to_string()),
            };
            let response = self.send(request).await?.success("running a test model")?;
            serde_json::from_str(&response.body).map_err(|e| Error::upstream("reading a test model's output", e))
        }
    }
}
