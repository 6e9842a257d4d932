use crate::error::{Error, Result};
use crate::http::{HttpClient, OutboundRequest, OutboundResponse};
use worker::{Fetch, Headers, Method, Request, RequestInit};

/// [`HttpClient`] on the Workers `fetch` API.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchClient;

/// The Workers request for an outbound request.
pub fn to_request(request: &OutboundRequest) -> Result<Request> {
    let context = format!("calling {}", host_of(&request.url));
    let headers = Headers::new();
    for (name, value) in &request.headers {
        headers.set(name, value).map_err(|e| Error::internal("building request headers", e))?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(request.method.to_owned())).with_headers(headers);
    if let Some(body) = &request.body {
        init.with_body(Some(body.as_str().into()));
    }
    Request::new_with_init(&request.url, &init).map_err(|e| Error::upstream(&context, e))
}

impl HttpClient for FetchClient {
    async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse> {
        let context = format!("calling {}", host_of(&request.url));
        let outbound = to_request(&request)?;
        let mut response = Fetch::Request(outbound).send().await.map_err(|e| Error::upstream(&context, e))?;
        let headers = response.headers().entries().map(|(name, value)| (name.to_lowercase(), value)).collect();
        let body = response.text().await.map_err(|e| Error::upstream(&context, e))?;
        Ok(OutboundResponse { status: response.status_code(), body, headers })
    }
}

/// Only the host goes into error messages: webhook URLs carry their credentials in the path.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}
