//! Redacting obvious patient identifiers before text is logged or sent to an outside model (the
//! question, the history, the page context, and the stored answer): email addresses, US Social
//! Security numbers, dates of birth, MRN-like numbers, UK NHS numbers, Australian Medicare numbers and
//! phone numbers (North American, and international in E.164 form).
//! Deliberately broad: a FHIR question never needs a real identifier to be answered.
//!
//! Dates: FHIR writes dates ISO 8601 (`1980-12-31`), so an ISO date is kept unless a birth word is
//! next to it ("born 1980-12-31"): FHIR examples and search parameters (`birthdate=ge1970-01-01`) stay
//! intact. A date written day-first or month-first with a four-digit year (`31/12/1980`,
//! `31.12.1980`, `12-31-1980`) is how people write a person's dates, never FHIR syntax: it is
//! redacted wherever it is, when it is a real calendar date.
//!
//! Numbers with a check digit (NHS, Medicare) are redacted only when the check digit is right, so a
//! resource id, a code or a timestamp of the same length is usually kept.

use regex_lite::{Captures, Regex};
use std::sync::LazyLock;

struct Rule {
    label: &'static str,
    pattern: LazyLock<Regex>,
    /// For patterns that also match harmless text: whether the match really is an identifier.
    check: Option<fn(&str) -> bool>,
}

macro_rules! rule {
    ($label:expr, $re:expr) => {
        rule!($label, $re, None)
    };
    ($label:expr, $re:expr, $check:expr) => {
        Rule {
            label: $label,
            pattern: LazyLock::new(|| Regex::new($re).expect("the redaction patterns are valid")),
            check: $check,
        }
    };
}

static RULES: [Rule; 9] = [
    rule!("EMAIL", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    rule!("SSN", r"\b\d{3}-\d{2}-\d{4}\b"),
    // A date next to a birth word, in any order: "DOB 03/14/1961", "born 1961-03-14".
    rule!("DOB", r"(?i)\b(dob|d\.o\.b\.|date of birth|born|birth ?date)\b[:\s]*(\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4})"),
    // A day-first or month-first date anywhere: "31/12/1980", "31-12-1980", "31.12.1980", "12/31/1980".
    rule!("DOB", r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{4}\b", Some(is_calendar_date)),
    rule!("MRN", r"(?i)\b(mrn|medical record( number)?|patient id)\b[:#\s]*[A-Z0-9-]{5,}"),
    // E.164: "+", a country code and up to 15 digits in all, often grouped: "+447700900123",
    // "+44 7700 900123".
    rule!("PHONE", r"\+[1-9](?:[\s.-]?\d){7,14}\b"),
    // NHS number: 10 digits, often 3-3-4 ("943 476 5919"), the last a mod-11 check digit.
    rule!("NHS", r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b", Some(is_nhs_number)),
    // Medicare card: 8 digits starting 2 to 6, a check digit, the issue number ("2123 45670 1"),
    // and sometimes the person's reference number (11 digits).
    rule!("MEDICARE", r"\b[2-6]\d{3}[ -]?\d{5}[ -]?\d(?:[ -]?\d)?\b", Some(is_medicare_number)),
    rule!("PHONE", r"(\+?1[\s.-]?)?\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b"),
];

fn digits(text: &str) -> Vec<u32> {
    text.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// `d/m/yyyy` or `m/d/yyyy` (any of `/`, `.`, `-`, the same twice) naming a real day from 1800 on.
fn is_calendar_date(text: &str) -> bool {
    let separators: Vec<char> = text.chars().filter(|c| !c.is_ascii_digit()).collect();
    let parts: Vec<u32> = text.split(['/', '.', '-']).filter_map(|p| p.parse().ok()).collect();
    let [a, b, year] = parts[..] else { return false };
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let valid = |day: u32, month: u32| {
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        (1..=days).contains(&day)
    };
    separators.len() == 2
        && separators[0] == separators[1]
        && (1800..=2199).contains(&year)
        && (valid(a, b) || valid(b, a))
}

/// The NHS check: the first nine digits weighted 10 down to 2; 11 minus the sum mod 11 is the tenth
/// digit (11 means 0; 10 is never issued).
fn is_nhs_number(text: &str) -> bool {
    let d = digits(text);
    if d.len() != 10 {
        return false;
    }
    let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(digit, weight)| digit * weight).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        check => check,
    };
    check == d[9]
}

/// The Medicare check: the first eight digits weighted 1, 3, 7, 9, 1, 3, 7, 9; the sum mod 10 is the
/// ninth digit.
fn is_medicare_number(text: &str) -> bool {
    let d = digits(text);
    if !(10..=11).contains(&d.len()) || !(2..=6).contains(&d[0]) {
        return false;
    }
    let sum: u32 = d[..8].iter().zip([1, 3, 7, 9, 1, 3, 7, 9]).map(|(digit, weight)| digit * weight).sum();
    sum % 10 == d[8]
}

/// The text with identifiers replaced by `[REDACTED-<KIND>]`, and the kinds found (each once).
pub fn redact(text: &str) -> (String, Vec<&'static str>) {
    let mut out = text.to_owned();
    let mut found = Vec::new();
    for rule in &RULES {
        let mut hit = false;
        let replacement = format!("[REDACTED-{}]", rule.label);
        let replaced = rule.pattern.replace_all(&out, |caps: &Captures<'_>| {
            let matched = &caps[0];
            if rule.check.is_none_or(|check| check(matched)) {
                hit = true;
                replacement.clone()
            } else {
                matched.to_owned()
            }
        });
        if hit {
            out = replaced.into_owned();
            if !found.contains(&rule.label) {
                found.push(rule.label);
            }
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

    /// Each international identifier, alone in a sentence, and the kind it must be reported as.
    #[test]
    fn international_identifiers_are_redacted() {
        let cases = [
            ("+447700900123", "PHONE", "a UK mobile in E.164"),
            ("+61491570006", "PHONE", "an Australian mobile in E.164"),
            ("+14155552671", "PHONE", "a US number in E.164"),
            ("+44 7700 900123", "PHONE", "E.164 written in groups"),
            ("31/12/1980", "DOB", "day-first with slashes"),
            ("31-12-1980", "DOB", "day-first with hyphens"),
            ("31.12.1980", "DOB", "day-first with dots"),
            ("1/2/1975", "DOB", "day-first, single digits"),
            ("29/02/2000", "DOB", "a leap day"),
            ("12/31/1980", "DOB", "month-first, as in the US"),
            ("943 476 5919", "NHS", "an NHS number written 3-3-4"),
            ("9434765919", "NHS", "an NHS number unspaced"),
            ("943-476-5919", "NHS", "an NHS number with hyphens"),
            ("4010232110", "NHS", "an NHS number whose check digit is 11, written 0"),
            ("2123 45670 1", "MEDICARE", "a Medicare card number"),
            ("2123456701", "MEDICARE", "a Medicare card number unspaced"),
            ("2123 45670 1 2", "MEDICARE", "with the individual reference number"),
            ("21234567012", "MEDICARE", "11 digits unspaced"),
        ];
        for (identifier, kind, why) in cases {
            let (text, found) = redact(&format!("Patient {identifier}: which resource holds this?"));
            assert_eq!(text, format!("Patient [REDACTED-{kind}]: which resource holds this?"), "{why}: {identifier}");
            assert_eq!(found, [kind], "{why}");
        }
    }

    /// Text that looks like an identifier but is FHIR, a version, a code or arithmetic: kept as is.
    #[test]
    fn lookalikes_are_kept() {
        let cases = [
            ("9434765918", "an NHS-looking number whose check digit is wrong"),
            ("4010232170", "ten digits whose NHS check would be 10 (never issued)"),
            ("2123456791", "a Medicare-looking number whose check digit is wrong"),
            ("1234567893", "an NPI (Luhn, not NHS; a Medicare number never starts with 1)"),
            ("Patient/example", "a FHIR id"),
            ("Observation/f001", "a FHIR id with digits"),
            ("Patient/123e4567-e89b-12d3-a456-426614174000", "a UUID id"),
            ("urn:oid:2.16.840.1.113883.4.1", "an OID"),
            ("R4 is version 4.0.1, R5 is 5.0.0", "versions"),
            ("from 1980-2020", "a year range"),
            ("between 2019 and 2024", "years"),
            (r#"{"resourceType": "Patient", "birthDate": "1980-12-31"}"#, "an ISO date in a FHIR example"),
            ("Observation?date=ge2024-01-01&_count=50", "an ISO date in a search"),
            ("2024-01-15T10:30:00+01:00", "an ISO instant with its offset"),
            ("32/12/1980", "no 32nd day"),
            ("31/13/1980", "no 13th month either way round"),
            ("30/02/1980", "no 30 February"),
            ("29/02/1900", "1900 was not a leap year"),
            ("31/12-1980", "mixed separators"),
            ("LOINC 8867-4, SNOMED CT 38341003", "codes"),
            ("1+2 = 3, 10+20 = 30", "arithmetic"),
            ("a +1 for this answer", "a +1"),
            ("_count=1000000 and 1700000000000 ms", "large numbers"),
        ];
        for (text, why) in cases {
            assert_eq!(redact(text), (text.to_owned(), vec![]), "{why}");
        }
    }

    #[test]
    fn a_kind_found_twice_is_reported_once() {
        let (text, found) = redact("+447700900123 or (555) 123-4567, born 31/12/1980, seen 01.02.2020");
        assert_eq!(text, "[REDACTED-PHONE] or [REDACTED-PHONE], [REDACTED-DOB], seen [REDACTED-DOB]");
        assert_eq!(found, ["DOB", "PHONE"]);
    }
}
