//! Answers: the grounding prompt for a model, and the retrieval-only answer composed from the
//! passages when no model is configured or every provider failed.

use super::request::Turn;
use crate::knowledge::search::Hit;
use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub message: String,
    pub sources: Vec<Hit>,
    pub tokens_used: Usage,
    /// 0 to 1, from how strongly the best passage matched the question.
    pub confidence: f64,
    /// `anthropic`, `openai`, or `retrieval-only`.
    pub provider: String,
    pub model: Option<String>,
    /// Kinds of patient identifiers removed from the question before it was logged or sent out.
    pub redacted: Vec<&'static str>,
}

/// How sure the retrieval is: the best passage's score mapped onto 0..1 (about 0.5 at a score of 10,
/// which is a match on the resource name and a key term).
pub fn confidence(sources: &[Hit]) -> f64 {
    let top = sources.first().map_or(0.0, |h| h.score.max(0.0));
    ((top / (top + 10.0)) * 100.0).round() / 100.0
}

/// The system prompt: answer from the numbered passages of R4, cite them, admit gaps.
pub fn system_prompt(sources: &[Hit], context: Option<&str>) -> String {
    let mut prompt = String::from(
        "You are FHIR IQ, an assistant for developers building with HL7 FHIR R4 (4.0.1).\n\
         Answer from the numbered passages of the R4 specification below. Cite them inline as [1], [2].\n\
         Prefer concrete guidance: which resource, which element (with cardinality and type), which search\n\
         parameter, and a short JSON or REST example when it helps. Say R4 when versions matter.\n\
         If the passages do not cover the question, say so plainly instead of guessing.\n",
    );
    if let Some(context) = context {
        prompt.push_str(&format!("\nThe user is looking at: {context}\n"));
    }
    prompt.push_str("\nPassages:\n");
    for (i, hit) in sources.iter().enumerate() {
        prompt.push_str(&format!("[{}] {} ({})\n{}\n\n", i + 1, hit.title, hit.url, hit.snippet));
    }
    prompt
}

/// The messages for the model: the bounded history, then the question.
pub fn messages(history: &[Turn], question: &str) -> Vec<Turn> {
    let mut messages = history.to_vec();
    messages.push(Turn { role: "user".into(), content: question.into() });
    messages
}

/// An answer composed from the passages alone, clearly labelled as such.
pub fn retrieval_only(sources: &[Hit]) -> String {
    if sources.is_empty() {
        return "**Retrieval-only answer** (no language model answered): I found nothing in the FHIR R4 \
                specification for that question. Try naming a resource, an element or what you want to store."
            .into();
    }
    let mut text = String::from(
        "**Retrieval-only answer** (no language model answered): the parts of the FHIR R4 specification that \
         match your question best.\n\n",
    );
    if let Some(resource) = sources.iter().find_map(|h| h.resource.as_deref()) {
        text.push_str(&format!("The best match is the **{resource}** resource.\n\n"));
    }
    for (i, hit) in sources.iter().take(5).enumerate() {
        let snippet = hit.snippet.split_whitespace().collect::<Vec<_>>().join(" ");
        text.push_str(&format!("- **{}**: {} [{}]\n", hit.title, snippet, i + 1));
    }
    text.push_str("\nFollow the numbered sources for the full definitions.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(title: &str, resource: &str, score: f64) -> Hit {
        Hit {
            id: format!("element:{title}"),
            kind: "element".into(),
            resource: Some(resource.into()),
            element: Some(title.into()),
            title: title.into(),
            url: format!("https://hl7.org/fhir/R4/{}-definitions.html#{title}", resource.to_lowercase()),
            score,
            snippet: "The date of birth for the individual".into(),
        }
    }

    #[test]
    fn the_retrieval_only_answer_is_labelled_and_cites_its_sources() {
        let text = retrieval_only(&[hit("Patient.birthDate", "Patient", 20.0), hit("Person.birthDate", "Person", 8.0)]);
        assert!(text.starts_with("**Retrieval-only answer**"));
        assert!(text.contains("The best match is the **Patient** resource."));
        assert!(text.contains("- **Patient.birthDate**: The date of birth for the individual [1]"));
        assert!(text.contains("[2]"));
        assert!(retrieval_only(&[]).contains("found nothing"));
    }

    #[test]
    fn the_prompt_numbers_the_passages_and_asks_for_citations() {
        let prompt = system_prompt(&[hit("Patient.birthDate", "Patient", 20.0)], Some("Patient page"));
        assert!(prompt.contains("R4 (4.0.1)") && prompt.contains("[1] Patient.birthDate"));
        assert!(prompt.contains("do not cover the question"));
        assert!(prompt.contains("looking at: Patient page"));
    }

    #[test]
    fn confidence_grows_with_the_best_score() {
        assert_eq!(confidence(&[]), 0.0);
        assert_eq!(confidence(&[hit("a", "A", 10.0)]), 0.5);
        assert!(confidence(&[hit("a", "A", 40.0)]) > 0.75);
    }
}
