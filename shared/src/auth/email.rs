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
            && !local.contains(['@', '"', '<', '>', '(', ')', ',', ';', ':', '\\', '['])
            // Any whitespace, not only the ASCII space: a no-break space (U+00A0) is not an address.
            && !local.chars().any(|c| c.is_whitespace() || c.is_control());
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
    use proptest::prelude::*;

    #[test]
    fn whitespace_of_any_kind_inside_an_address_is_refused() {
        for raw in ["a b@example.com", "a\u{a0}b@example.com", "a\u{2003}b@example.com", "-\u{a0}!a@0.a.aa"] {
            assert!(Email::parse(raw).is_err(), "{raw:?}");
        }
    }

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

    /// Address-shaped text: valid addresses with one character added anywhere (often one they must
    /// not contain), the characters addresses are made of and several `@`, and any text at all.
    fn address_like() -> impl Strategy<Value = String> {
        let awkward = prop_oneof![
            proptest::sample::select(vec![' ', '@', '"', '.', '-', '\\', '[', ',', '\n', '\0', 'İ', 'Σ', 'ß', 'é']),
            any::<char>(),
        ];
        let with_one_more = (valid_address(), any::<proptest::sample::Index>(), awkward).prop_map(|(mut a, at, c)| {
            a.insert(at.index(a.len() + 1), c);
            a
        });
        prop_oneof![
            valid_address(),
            with_one_more,
            r#"[ \t]{0,2}[A-Za-z0-9.+_@\\"<>(),;:\[ -]{0,70}@[A-Za-z0-9.@ -]{0,30}[ \t]{0,2}"#,
            "[a-zA-Z0-9ÄÖÜßİΣ.@-]{0,40}",
            ".{0,300}",
        ]
    }

    /// Addresses the rules accept: a local part of 1 to 64 characters, two or more domain labels that
    /// neither start nor end with `-`.
    fn valid_address() -> impl Strategy<Value = String> {
        let label = "[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?";
        ("[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}", proptest::collection::vec(label, 2..5))
            .prop_map(|(local, labels)| format!("{local}@{}", labels.join(".")))
    }

    proptest! {
        #![proptest_config(crate::testing::properties(2_000))]

        #[test]
        fn parsing_never_panics_and_what_it_accepts_is_normalised_with_exactly_one_at(raw in address_like()) {
            if let Ok(email) = Email::parse(&raw) {
                let text = email.as_ref();
                prop_assert_eq!(text.matches('@').count(), 1, "{:?}", text);
                prop_assert_eq!(text, text.trim());
                prop_assert_eq!(text.to_lowercase(), text);
                prop_assert!(!text.chars().any(char::is_whitespace), "{:?}", text);
                prop_assert!(text.len() <= 254);
                let (local, domain) = text.split_once('@').expect("one @");
                prop_assert_eq!(email.local_part(), local);
                prop_assert!(!local.is_empty() && local.len() <= 64);
                prop_assert!(domain.contains('.') && !domain.split('.').any(str::is_empty), "{:?}", domain);
                // Normalising is idempotent: the normal form parses to itself.
                prop_assert_eq!(Email::parse(text).expect("the normal form parses"), email);
            }
        }

        #[test]
        fn a_valid_address_is_accepted_in_any_case_and_padding_and_refused_with_a_second_at(
            address in valid_address(),
            padding in "[ \t\n]{0,3}",
            at in any::<proptest::sample::Index>(),
        ) {
            prop_assume!(address.len() <= 254);
            let email = Email::parse(&address).expect("a valid address");
            prop_assert_eq!(email.as_ref(), address.to_ascii_lowercase());
            let shouted = format!("{padding}{}{padding}", address.to_ascii_uppercase());
            prop_assert_eq!(Email::parse(&shouted).expect("the same address"), email);
            let mut doubled = address.clone();
            doubled.insert(at.index(address.len() + 1), '@');
            let error = Email::parse(&doubled).expect_err("two @");
            prop_assert_eq!(error.status_code(), 422);
        }
    }
}
