//! Query parameters that carry secrets: `token` (password resets, email verification), `invite`
//! (organisation invitations), `code` and `state` (OAuth). Their values never reach analytics. The
//! browser replaces them before GA4 or PostHog see a URL (`withoutSecrets` in site/js/app.js, the same
//! pattern as here), and the server replaces them again in every browser event it stores, so a
//! hand-made request cannot store them either.
//!
//! A value is replaced wherever the parameter appears: in a URL's query or fragment, and inside
//! another parameter, percent-encoded (`/signin?next=%2Faccount%3Finvite%3D...`).

use regex_lite::Regex;
use serde_json::Value;
use std::borrow::Cow;
use std::sync::LazyLock;

/// The parameters whose values are secrets.
pub const SECRET_PARAMS: [&str; 4] = ["token", "invite", "code", "state"];

/// What a secret value becomes.
pub const REMOVED: &str = "removed";

/// A secret parameter's name, after `?`, `&`, `#` or `;` (or their percent-encodings), then `=` (or
/// `%3D`), then its value: up to the next separator, raw or percent-encoded (`%26`, `%23`, `%3B`).
/// Matched without regard to case. site/js/app.js holds the same pattern (a test checks).
const PATTERN: &str = r#"((?:[?&#;]|%3f|%26|%23|%3b)(?:token|invite|code|state)(?:=|%3d))(?:[^&#;%\s"'<>]|%(?:[0-13-9a-f][0-9a-f]|2[0-24-57-9a-f]|3[0-9ac-f]))*"#;

static SECRET_PARAM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("(?i){PATTERN}")).expect("the secret-parameter pattern is valid"));

/// `text` with the value of every secret parameter replaced by [`REMOVED`].
pub fn without_secret_params(text: &str) -> Cow<'_, str> {
    SECRET_PARAM.replace_all(text, format!("${{1}}{REMOVED}").as_str())
}

/// Every string in `value`, at any depth, through [`without_secret_params`]; and the value of a field
/// named like a secret parameter (`{"token": ...}`), whatever it is, replaced by [`REMOVED`].
pub fn scrub(value: &mut Value) {
    match value {
        Value::String(text) => {
            if let Cow::Owned(clean) = without_secret_params(text) {
                *text = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                if SECRET_PARAMS.iter().any(|secret| name.eq_ignore_ascii_case(secret)) {
                    *field = Value::String(REMOVED.into());
                } else {
                    scrub(field);
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_values_are_replaced_wherever_the_parameter_appears() {
        let cases = [
            ("/reset?token=6f1c0ffee", "/reset?token=removed", "a reset link"),
            (
                "https://fhiriq.dev/account?invite=abc123&tab=org",
                "https://fhiriq.dev/account?invite=removed&tab=org",
                "an invitation, other parameters kept",
            ),
            ("/github/callback?code=gh_1&state=st_2", "/github/callback?code=removed&state=removed", "OAuth"),
            ("/verify#token=abc", "/verify#token=removed", "in the fragment"),
            ("/x;token=abc", "/x;token=removed", "a matrix parameter"),
            ("/x?TOKEN=abc", "/x?TOKEN=removed", "any case"),
            ("/x?token=ab%2Bcd%2F", "/x?token=removed", "a percent-encoded value"),
            (
                "/signin?next=%2Faccount%3Finvite%3Dabc123%26tab%3Dorg",
                "/signin?next=%2Faccount%3Finvite%3Dremoved%26tab%3Dorg",
                "inside another parameter, encoded",
            ),
            (
                "see https://a.example/r?token=abc for details",
                "see https://a.example/r?token=removed for details",
                "in prose",
            ),
        ];
        for (input, expected, why) in cases {
            assert_eq!(without_secret_params(input), expected, "{why}");
        }
    }

    #[test]
    fn other_parameters_and_text_pass_unchanged() {
        for (input, why) in [
            ("/pricing?plan=pro", "another parameter"),
            ("/x?token_type=bearer&mytoken=1&statement=2&zipcode=3", "names that only contain a secret name"),
            ("the token=abc is in prose, not a URL", "no separator before the name"),
            ("/tools/fhir-builder?language=typescript&step=2", "the Builder's state"),
        ] {
            assert!(matches!(without_secret_params(input), Cow::Borrowed(_)), "{why}");
        }
    }

    #[test]
    fn the_browser_uses_the_same_pattern() {
        let script = include_str!("../../../site/js/app.js");
        assert!(script.contains(&format!("const SECRET_PARAM = /{PATTERN}/gi;")), "site/js/app.js has drifted");
    }

    #[test]
    fn every_string_in_a_json_value_is_scrubbed() {
        let mut value = json!({"url": "/reset?token=abc", "Token": "abc", "where": "widget",
                               "list": ["/a?code=1", 3, null, {"deep": "/b?state=2", "invite": {"id": 1}}]});
        scrub(&mut value);
        assert_eq!(
            value,
            json!({"url": "/reset?token=removed", "Token": "removed", "where": "widget",
                   "list": ["/a?code=removed", 3, null, {"deep": "/b?state=removed", "invite": "removed"}]})
        );
    }
}
