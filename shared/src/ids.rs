//! Random identifiers and tokens from the platform's CSPRNG (`crypto.getRandomValues` on Workers).

use crate::error::{Error, Result};

/// `bytes` random bytes, hex-encoded.
pub fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::internal("drawing random bytes", e))?;
    Ok(hex::encode(buf))
}

/// A 128-bit random id for rows and probes.
pub fn new_id() -> Result<String> {
    random_hex(16)
}

/// A 256-bit random token (sessions, reset links): unguessable and URL-safe.
pub fn new_token() -> Result<String> {
    random_hex(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_of_hex_and_differ() {
        let a = new_token().expect("random");
        let b = new_token().expect("random");
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(new_id().expect("random").len(), 32);
    }
}
