//! What the workers read from an incoming request beyond `worker::Request`'s own accessors: the
//! method as the client sent it, and the body, capped while it streams.

use crate::error::{Error, Result};
use crate::web::body::CappedBody;
use futures::StreamExt;
use worker::Request;

/// The request's method as sent (`QUERY`, `PROPFIND`...). `worker::Request::method()` maps every
/// method it has no variant for to `GET`, which would route a `QUERY` as a `GET`.
pub fn method(request: &Request) -> String {
    request.inner().method()
}

/// The body, at most `max` bytes: 413 when `Content-Length` says more, or as soon as the chunks
/// received pass `max` when there is no length (a chunked body). Read chunk by chunk from the
/// request's stream, never buffered whole first.
pub async fn body(request: &mut Request, max: usize) -> Result<Vec<u8>> {
    let declared = request.headers().get("content-length").ok().flatten();
    let mut capped = CappedBody::new(max, declared.as_deref())?;
    if request.inner().body().is_none() {
        return Ok(Vec::new());
    }
    let unreadable = |e: worker::Error| Error::BadRequest(format!("could not read the body: {e}"));
    let mut stream = request.stream().map_err(unreadable)?;
    while let Some(chunk) = stream.next().await {
        capped.push(&chunk.map_err(unreadable)?)?;
    }
    Ok(capped.finish())
}
