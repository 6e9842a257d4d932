//! Request bodies are capped while they arrive, not after: a body declared larger than the cap
//! (`Content-Length`) is refused before a byte is read, and one that streams without a length
//! (`Transfer-Encoding: chunked`) is refused as soon as the bytes received pass the cap, so no worker
//! ever holds more than the cap plus one chunk in memory, nor waits for a body that never ends.
//! The Workers adapter (`shared::workers::request::body`) feeds the stream's chunks through this.

use crate::error::{Error, Result};

/// A body being received, at most `max` bytes.
#[derive(Debug)]
pub struct CappedBody {
    max: usize,
    bytes: Vec<u8>,
}

impl CappedBody {
    /// Starts receiving; 413 at once when the declared `Content-Length` is over `max`. An unparsable
    /// length is left to the runtime (which refuses a malformed request) and the count of bytes.
    pub fn new(max: usize, content_length: Option<&str>) -> Result<Self> {
        if content_length.and_then(|l| l.trim().parse::<u64>().ok()).is_some_and(|l| l > max as u64) {
            return Err(too_large(max));
        }
        Ok(Self { max, bytes: Vec::new() })
    }

    /// Adds a chunk; 413 as soon as the total passes `max` (the chunk is not kept).
    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        if self.bytes.len().saturating_add(chunk.len()) > self.max {
            return Err(too_large(self.max));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The whole body.
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// The 413 for a body over `max` bytes, sized in KiB or MiB.
pub fn too_large(max: usize) -> Error {
    const MIB: usize = 1024 * 1024;
    let size = if max >= MIB && max.is_multiple_of(MIB) {
        format!("{} MiB", max / MIB)
    } else {
        format!("{} KiB", max / 1024)
    };
    Error::PayloadTooLarge(format!("The body is larger than {size}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_length_over_the_cap_is_refused_before_reading() {
        let refused = CappedBody::new(64 * 1024, Some("65537")).expect_err("declared too large");
        assert_eq!(refused.status_code(), 413);
        assert_eq!(refused.to_string(), "The body is larger than 64 KiB.");
        assert!(CappedBody::new(64 * 1024, Some("65536")).is_ok(), "exactly the cap");
        assert!(CappedBody::new(64 * 1024, Some(" 10 ")).is_ok());
        assert!(CappedBody::new(64 * 1024, Some("not a number")).is_ok(), "left to the byte count");
        assert!(CappedBody::new(64 * 1024, Some("99999999999999999999999")).is_ok(), "left to the byte count");
    }

    #[test]
    fn a_stream_without_a_length_is_refused_at_the_chunk_that_passes_the_cap() {
        let mut body = CappedBody::new(10, None).expect("no length declared");
        body.push(b"0123").expect("4 of 10");
        body.push(b"456789").expect("exactly 10");
        assert_eq!(body.push(b"x").expect_err("11 of 10").status_code(), 413);
        // The refused chunk was not kept: nothing past the cap is ever held.
        assert_eq!(body.finish(), b"0123456789");
    }

    #[test]
    fn a_two_mebibyte_chunked_body_stops_at_the_first_chunk_past_a_64_kib_cap() {
        let mut body = CappedBody::new(64 * 1024, None).expect("no length declared");
        let chunk = [b'a'; 16 * 1024];
        let accepted = (0..128).take_while(|_| body.push(&chunk).is_ok()).count();
        assert_eq!(accepted, 4, "four 16 KiB chunks fill 64 KiB; the fifth is refused");
    }

    #[test]
    fn an_empty_body_is_empty() {
        assert!(CappedBody::new(0, Some("0")).expect("zero").finish().is_empty());
        assert_eq!(too_large(2 * 1024 * 1024).to_string(), "The body is larger than 2 MiB.");
        assert_eq!(too_large(256 * 1024).to_string(), "The body is larger than 256 KiB.");
    }
}
