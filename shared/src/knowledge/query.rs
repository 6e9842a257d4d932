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

/// How plainly a question names a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// As the specification writes it (`DocumentReference`, `Observation.status`), or its words
    /// (`medication request`, `care plans`).
    Exactly,
    /// A one-word name in the plural (`observations`, `encounters`): usually what is asked about.
    Plural,
}

/// The R4 resources a question names, and how plainly. A singular lowercase one-word name
/// ("patient", "condition", "procedure") is left out: it is as often the subject of a question or an
/// ordinary word as the resource asked about.
pub fn named_resources(question: &str) -> Vec<(&'static str, Named)> {
    let words: Vec<&str> = question.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let mut named = Vec::new();
    for name in crate::builder::spec::R4_RESOURCES.lines() {
        let parts = split_name(name);
        let parts: Vec<&str> = parts.split_whitespace().collect();
        let exactly = words.contains(&name)
            || (parts.len() > 1
                && lower.windows(parts.len()).any(|w| {
                    w.iter().zip(&parts).enumerate().all(|(i, (word, part))| {
                        word == part || (i == parts.len() - 1 && word.strip_suffix('s') == Some(part))
                    })
                }));
        if exactly {
            named.push((name, Named::Exactly));
        } else if parts.len() == 1
            && lower.iter().any(|w| w.strip_suffix('s') == Some(parts[0]) || plural(parts[0]) == *w)
        {
            named.push((name, Named::Plural));
        }
    }
    named
}

/// `allergy` -> `allergies`, `observation` -> `observations`.
fn plural(word: &str) -> String {
    match word.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'o', 'u']) => format!("{stem}ies"),
        _ => format!("{word}s"),
    }
}

/// The element paths a question names (`Patient.birthDate`, `Observation.value[x]`), as written.
pub fn named_paths(question: &str) -> Vec<String> {
    question
        .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '[' || c == ']'))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| w.contains('.') && w.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(str::to_owned)
        .collect()
}

/// Whether the question asks how to search (so search-parameter passages fit it best).
pub fn asks_to_search(question: &str) -> bool {
    let lower = question.to_lowercase();
    ["search", "query", "filter", "find all", "look up"].iter().any(|w| lower.contains(w))
        || (lower.contains("find") && lower.contains(" by "))
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
    fn named_resources_paths_and_search_intent_are_recognized() {
        let named = named_resources;
        assert_eq!(named("What is DocumentReference.content?"), [("DocumentReference", Named::Exactly)]);
        assert_eq!(named("How do I search care plans by status?"), [("CarePlan", Named::Exactly)]);
        assert_eq!(named("find medication requests for a patient"), [("MedicationRequest", Named::Exactly)]);
        assert_eq!(named("How do I search observations by code?"), [("Observation", Named::Plural)]);
        assert_eq!(named("the patient's condition after the procedure"), [], "singular words are ordinary words");
        assert_eq!(
            named_paths("Is Observation.value[x] or Patient.birthDate required?"),
            ["Observation.value[x]", "Patient.birthDate"]
        );
        assert!(asks_to_search("How do I find a patient by family name?"));
        assert!(!asks_to_search("Where is a patient's date of birth?"));
    }

    #[test]
    fn user_text_cannot_inject_fts_syntax() {
        let q = fts_match("patient\" OR NEAR(x y) * -").expect("has words");
        assert_eq!(q, "\"patient\" OR \"near\"");
        assert_eq!(fts_match("the a of ?"), None);
    }
}
