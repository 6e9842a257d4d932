//! Passwords: the policy a new password must meet (NIST SP 800-63B: length, not a commonly used
//! password, not built from the account's own name; no composition rules), and PBKDF2-HMAC-SHA256
//! hashing with a per-user salt, parameters stored with the hash so they can be raised later, and
//! constant-time comparison.

use super::email::Email;
use crate::error::{Error, Result};
use crate::ids;
use subtle::ConstantTimeEq;

/// Workers' Web Crypto caps PBKDF2 at 100,000 iterations; we use the maximum.
pub const ITERATIONS: u32 = 100_000;
pub const MIN_LENGTH: usize = 15;
pub const MAX_LENGTH: usize = 128;
const SALT_BYTES: usize = 16;
const SCHEME: &str = "pbkdf2-sha256";

/// Passwords of at least [`MIN_LENGTH`] characters from a list of the most common ones, lower case.
const COMMON: &str = include_str!("../../data/common-passwords.txt");

/// PBKDF2-HMAC-SHA256 with a 32-byte output: Web Crypto in the worker, the `pbkdf2` crate in tests.
pub trait Kdf {
    async fn pbkdf2_sha256(&self, password: &[u8], salt: &[u8], iterations: u32) -> Result<[u8; 32]>;
}

/// A password that meets the policy. Only [`NewPassword::parse`] makes one.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str, email: &Email) -> Result<Self> {
        let length = raw.chars().count();
        if length < MIN_LENGTH {
            return Err(Error::Unprocessable(format!(
                "Use at least {MIN_LENGTH} characters (this has {length}). A few unrelated words make a strong password that is easy to remember."
            )));
        }
        if length > MAX_LENGTH {
            return Err(Error::Unprocessable(format!("Use at most {MAX_LENGTH} characters.")));
        }
        let lower = raw.to_lowercase();
        let first = lower.chars().next().unwrap_or_default();
        if lower.chars().all(|c| c == first) {
            return Err(Error::Unprocessable(
                "A password of one repeated character is easy to guess. Choose another.".into(),
            ));
        }
        if is_common(&lower) {
            return Err(Error::Unprocessable(
                "This password appears in lists of commonly used passwords, which attackers try first. Choose another."
                    .into(),
            ));
        }
        let local = email.local_part();
        if local.len() >= 4 && lower.contains(local) {
            return Err(Error::Unprocessable(
                "The password must not contain your email address. Choose another.".into(),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn is_common(lower: &str) -> bool {
    // The file is sorted (bytewise) after three comment lines, so a binary search finds an entry.
    let entries: Vec<&str> = COMMON.lines().filter(|l| !l.starts_with('#')).collect();
    entries.binary_search(&lower).is_ok()
}

/// `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    pub iterations: u32,
    salt: Vec<u8>,
    hash: [u8; 32],
}

impl PasswordHash {
    pub async fn create(kdf: &impl Kdf, password: &NewPassword) -> Result<Self> {
        let salt = hex::decode(ids::random_hex(SALT_BYTES)?).map_err(|e| Error::internal("drawing a salt", e))?;
        let hash = kdf.pbkdf2_sha256(password.expose().as_bytes(), &salt, ITERATIONS).await?;
        Ok(Self { iterations: ITERATIONS, salt, hash })
    }

    pub fn parse(stored: &str) -> Result<Self> {
        let corrupt = || Error::internal("reading a stored password hash", "unrecognised format");
        let mut parts = stored.split('$');
        if parts.next() != Some(SCHEME) {
            return Err(corrupt());
        }
        let iterations = parts.next().and_then(|i| i.parse().ok()).ok_or_else(corrupt)?;
        let salt = parts.next().and_then(|s| hex::decode(s).ok()).ok_or_else(corrupt)?;
        let hash: [u8; 32] =
            parts.next().and_then(|h| hex::decode(h).ok()).and_then(|h| h.try_into().ok()).ok_or_else(corrupt)?;
        if parts.next().is_some() {
            return Err(corrupt());
        }
        Ok(Self { iterations, salt, hash })
    }

    pub fn encode(&self) -> String {
        format!("{SCHEME}${}${}${}", self.iterations, hex::encode(&self.salt), hex::encode(self.hash))
    }

    /// Whether `candidate` is the password, compared in constant time.
    pub async fn verify(&self, kdf: &impl Kdf, candidate: &str) -> Result<bool> {
        let derived = kdf.pbkdf2_sha256(candidate.as_bytes(), &self.salt, self.iterations).await?;
        Ok(bool::from(derived.ct_eq(&self.hash)))
    }

    /// Stored with fewer iterations than we use now: rehash at the next successful sign-in.
    pub fn needs_rehash(&self) -> bool {
        self.iterations < ITERATIONS
    }
}

/// Spends the same work as a real verification, for a sign-in whose email has no account, so the
/// answer takes the same time whether the email exists or not.
pub async fn verify_nothing(kdf: &impl Kdf, candidate: &str) -> Result<()> {
    let _ = kdf.pbkdf2_sha256(candidate.as_bytes(), &[0u8; SALT_BYTES], ITERATIONS).await?;
    Ok(())
}

#[cfg(test)]
pub mod testing {
    use super::*;

    /// The pure-Rust PBKDF2 from RustCrypto, for native tests.
    pub struct RustKdf;

    impl Kdf for RustKdf {
        async fn pbkdf2_sha256(&self, password: &[u8], salt: &[u8], iterations: u32) -> Result<[u8; 32]> {
            let mut out = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out);
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::RustKdf;
    use super::*;
    use futures::executor::block_on;

    fn email() -> Email {
        Email::parse("grace.hopper@example.org").expect("valid")
    }

    #[test]
    fn the_kdf_matches_the_published_pbkdf2_sha256_vector() {
        // RFC 7914 section 11: P="passwd", S="salt", c=1, dkLen=64 (the first 32 bytes).
        let out = block_on(RustKdf.pbkdf2_sha256(b"passwd", b"salt", 1)).expect("derives");
        assert_eq!(hex::encode(out), "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
    }

    #[test]
    fn a_hash_verifies_its_password_only_and_round_trips_through_storage() {
        let password = NewPassword::parse("correct horse battery staple", &email()).expect("meets the policy");
        let hash = block_on(PasswordHash::create(&RustKdf, &password)).expect("hashes");
        let stored = hash.encode();
        assert!(stored.starts_with("pbkdf2-sha256$100000$"));
        let parsed = PasswordHash::parse(&stored).expect("parses");
        assert!(block_on(parsed.verify(&RustKdf, "correct horse battery staple")).expect("verifies"));
        assert!(!block_on(parsed.verify(&RustKdf, "correct horse battery stapler")).expect("verifies"));
        assert!(!parsed.needs_rehash());
    }

    #[test]
    fn two_users_with_one_password_get_different_hashes() {
        let password = NewPassword::parse("correct horse battery staple", &email()).expect("valid");
        let a = block_on(PasswordHash::create(&RustKdf, &password)).expect("hashes");
        let b = block_on(PasswordHash::create(&RustKdf, &password)).expect("hashes");
        assert_ne!(a.encode(), b.encode(), "a random salt per user");
    }

    #[test]
    fn older_parameters_are_flagged_for_rehash() {
        let old = PasswordHash::parse(&format!("pbkdf2-sha256$10000${}${}", "00".repeat(16), "11".repeat(32)))
            .expect("parses");
        assert!(old.needs_rehash());
    }

    #[test]
    fn corrupt_stored_hashes_are_errors_not_panics() {
        for bad in [
            "",
            "sha256$1$00$00",
            "pbkdf2-sha256$x$00$00",
            "pbkdf2-sha256$1$zz$00",
            "pbkdf2-sha256$1$00$0011",
            "pbkdf2-sha256$1$00$00$extra",
        ] {
            assert!(PasswordHash::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_policy_rejects_weak_passwords_with_reasons() {
        let cases = [
            ("short pass", "at least 15"),
            (&"x".repeat(129) as &str, "at most 128"),
            ("1qaz2wsx3edc4rfv", "commonly used"),
            ("QWERTYUIOPASDFGHJKL", "commonly used"),
            ("aaaaaaaaaaaaaaaaaaaa", "repeated"),
            ("grace.hopper-is-my-name", "email"),
        ];
        for (password, reason) in cases {
            let error = NewPassword::parse(password, &email()).err().unwrap_or_else(|| panic!("{password:?} accepted"));
            assert_eq!(error.status_code(), 422);
            assert!(error.to_string().contains(reason), "{password:?}: {error}");
        }
        assert!(NewPassword::parse("violet otter reads FHIR bundles", &email()).is_ok());
    }
}
