//! Redacting obvious patient identifiers before a question is logged or sent to an outside model:
//! US Social Security numbers, phone numbers, email addresses, dates of birth and MRN-like numbers.
//! Deliberately broad: a FHIR question never needs a real identifier to be answered.

use regex_lite::Regex;
use std::sync::LazyLock;

struct Rule {
    label: &'static str,
    pattern: LazyLock<Regex>,
}

macro_rules! rule {
    ($label:expr, $re:expr) => {
        Rule { label: $label, pattern: LazyLock::new(|| Regex::new($re).expect("the redaction patterns are valid")) }
    };
}

static RULES: [Rule; 5] = [
    rule!("EMAIL", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    rule!("SSN", r"\b\d{3}-\d{2}-\d{4}\b"),
    // A date next to a birth word: "DOB 03/14/1961", "born 1961-03-14".
    rule!("DOB", r"(?i)\b(dob|d\.o\.b\.|date of birth|born|birth ?date)\b[:\s]*(\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4})"),
    rule!("MRN", r"(?i)\b(mrn|medical record( number)?|patient id)\b[:#\s]*[A-Z0-9-]{5,}"),
    rule!("PHONE", r"(\+?1[\s.-]?)?\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b"),
];

/// The text with identifiers replaced by `[REDACTED-<KIND>]`, and the kinds found.
pub fn redact(text: &str) -> (String, Vec<&'static str>) {
    let mut out = text.to_owned();
    let mut found = Vec::new();
    for rule in &RULES {
        if rule.pattern.is_match(&out) {
            found.push(rule.label);
            out = rule.pattern.replace_all(&out, format!("[REDACTED-{}]", rule.label).as_str()).into_owned();
        }
    }
    (out, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_replaced_and_named() {
        let (text, found) = redact(
            "Patient John, SSN 123-45-6789, DOB 03/14/1961, MRN: A1234567, phone (555) 123-4567, john@example.org: how do I store his allergies?",
        );
        for secret in ["123-45-6789", "03/14/1961", "A1234567", "555) 123-4567", "john@example.org"] {
            assert!(!text.contains(secret), "{secret} survived: {text}");
        }
        assert!(text.contains("how do I store his allergies?"));
        for kind in ["SSN", "DOB", "MRN", "PHONE", "EMAIL"] {
            assert!(found.contains(&kind), "{kind} not reported: {found:?}");
        }
    }

    #[test]
    fn fhir_questions_pass_unchanged() {
        let question =
            "What is the cardinality of Patient.birthDate in R4 4.0.1, and can I search with birthdate=ge1970-01-01?";
        assert_eq!(redact(question), (question.to_owned(), vec![]));
    }
}
