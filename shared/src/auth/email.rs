//! An email address, parsed at the edge and normalised to lower case.

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self> {
        let email = raw.trim().to_lowercase();
        let invalid = |why: &str| Error::Unprocessable(format!("{why}: enter an email address like name@example.com"));
        if email.is_empty() {
            return Err(invalid("The email address is empty"));
        }
        if email.len() > 254 {
            return Err(invalid("The email address is longer than 254 characters"));
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(invalid("The email address has no @"));
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains(['@', ' ', '"', '<', '>', '(', ')', ',', ';', ':', '\\', '['])
            && !local.chars().any(char::is_control);
        if !local_ok || !domain_ok {
            return Err(invalid("That is not a valid email address"));
        }
        Ok(Self(email))
    }

    /// The part before the @, for the password context check.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(local, _)| local)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_to_lower_case() {
        let email = Email::parse("  Ada.Lovelace@Example.ORG ").expect("valid");
        assert_eq!(email.as_ref(), "ada.lovelace@example.org");
        assert_eq!(email.local_part(), "ada.lovelace");
    }

    #[test]
    fn malformed_addresses_are_rejected_with_422() {
        // Each fails for the reason named.
        let cases = [
            ("", "empty"),
            ("ada", "no @"),
            ("@example.org", "no local part"),
            ("ada@", "no domain"),
            ("ada@localhost", "domain without a dot"),
            ("ada@exa mple.org", "space in the domain"),
            ("a da@example.org", "space in the local part"),
            ("ada@.example.org", "domain starts with a dot"),
            ("ada@example..org", "empty domain label"),
        ];
        for (raw, why) in cases {
            let error = Email::parse(raw).expect_err(why);
            assert_eq!(error.status_code(), 422, "{raw:?} ({why})");
        }
        assert!(Email::parse(&format!("{}@example.org", "a".repeat(65))).is_err(), "local part over 64");
    }
}
