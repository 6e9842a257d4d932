//! Turning a developer's question into an FTS5 query: camelCase and dotted paths split the way the
//! index splits them, filler words dropped, every remaining word OR-ed (BM25 rewards the chunks that
//! match most of them, weighted by field).

use super::chunk::split_name;

/// Words that carry no signal in a FHIR question (including "fhir" and "resource" themselves, which
/// every chunk would match).
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "by",
    "can",
    "could",
    "do",
    "does",
    "for",
    "from",
    "fhir",
    "get",
    "give",
    "has",
    "have",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "me",
    "my",
    "of",
    "on",
    "or",
    "r4",
    "resource",
    "resources",
    "should",
    "so",
    "that",
    "the",
    "their",
    "there",
    "this",
    "to",
    "use",
    "used",
    "using",
    "want",
    "was",
    "we",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "store",
    "stored",
    "represent",
    "represents",
    "record",
    "recorded",
    "model",
    "put",
    "need",
    "element",
    "field",
    "kind",
    "type",
    "way",
    "best",
    "right",
    "hold",
    "holds",
    "keep",
    "capture",
    "data",
    "information",
    "goes",
];

const MAX_TERMS: usize = 24;

/// The question's search words, lower case, de-duplicated, in order.
pub fn terms(question: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for word in question.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '[' || c == ']')) {
        for part in split_name(word).split_whitespace() {
            let part = part.to_owned();
            if part.len() > 1 && !STOPWORDS.contains(&part.as_str()) && !seen.contains(&part) {
                seen.push(part);
            }
            if seen.len() == MAX_TERMS {
                return seen;
            }
        }
    }
    seen
}

/// An FTS5 MATCH expression: each term quoted (so no user text is read as FTS syntax), OR-ed.
/// `None` when the question has no searchable word.
pub fn fts_match(question: &str) -> Option<String> {
    let terms = terms(question);
    if terms.is_empty() {
        return None;
    }
    Some(terms.iter().map(|t| format!("\"{}\"", t.replace('"', ""))).collect::<Vec<_>>().join(" OR "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filler_goes_and_fhir_names_split() {
        assert_eq!(terms("Which FHIR resource should I use to store a patient's allergies?"), ["patient", "allergies"]);
        assert_eq!(terms("What is Patient.birthDate?"), ["patient", "birth", "date"]);
        assert_eq!(
            terms("search AllergyIntolerance by clinical-status"),
            ["search", "allergy", "intolerance", "clinical", "status"]
        );
    }

    #[test]
    fn user_text_cannot_inject_fts_syntax() {
        let q = fts_match("patient\" OR NEAR(x y) * -").expect("has words");
        assert_eq!(q, "\"patient\" OR \"near\"");
        assert_eq!(fts_match("the a of ?"), None);
    }
}
