//! Measuring retrieval honestly: the labelled question set (`shared/data/kb-eval.tsv`), its fixed
//! split into a tuning half and a held-out half, and resource-level recall@1, recall@5 and MRR@10.
//! `cargo run -p fhir-iq-kb -- eval` (and `make bench`) prints them per split; the tests here check
//! every label against the R4 definitions, and `search`'s tests hold the figures to a floor.

use std::fmt;

/// The labelled set, compiled in (a few KB; only the eval tool and the tests reference it).
pub const LABELLED: &str = include_str!("../../data/kb-eval.tsv");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Synonyms, weights and priors may be tuned on these.
    Tune,
    /// Never looked at while tuning: the figure that counts.
    HeldOut,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Self::Tune => "tune",
            Self::HeldOut => "heldout",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub text: String,
    /// Any of these ranked is a hit (equally right answers).
    pub resources: Vec<String>,
    /// The element paths (`Patient.birthDate`) or search parameters (`search:Patient:birthdate`) that
    /// answer it; empty for a question about a resource as a whole.
    pub labels: Vec<String>,
    pub split: Split,
}

/// Parses the labelled set: `question<TAB>resources<TAB>label<TAB>split`, `#` comments, `|` between
/// alternatives. An error names the line.
pub fn parse(tsv: &str) -> Result<Vec<Question>, String> {
    let mut questions = Vec::new();
    for (number, line) in tsv.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [text, resources, label, split] = fields[..] else {
            return Err(format!("line {}: expected 4 tab-separated fields, found {}", number + 1, fields.len()));
        };
        let list = |s: &str| -> Vec<String> {
            s.split('|').map(str::trim).filter(|x| !x.is_empty() && *x != "-").map(str::to_owned).collect()
        };
        let split = match split.trim() {
            "tune" => Split::Tune,
            "heldout" => Split::HeldOut,
            other => return Err(format!("line {}: split is tune or heldout, not {other:?}", number + 1)),
        };
        let resources = list(resources);
        if text.trim().is_empty() || resources.is_empty() {
            return Err(format!("line {}: a question needs its text and at least one resource", number + 1));
        }
        questions.push(Question { text: text.trim().to_owned(), resources, labels: list(label), split });
    }
    Ok(questions)
}

/// Where the first relevant resource is in a ranking (0-based), if anywhere.
pub fn first_relevant(ranked: &[String], relevant: &[String]) -> Option<usize> {
    ranked.iter().position(|r| relevant.contains(r))
}

/// Recall@1, recall@5 and MRR@10, accumulated question by question.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    pub questions: usize,
    at1: usize,
    at5: usize,
    reciprocal: f64,
}

impl Tally {
    pub fn add(&mut self, position: Option<usize>) {
        self.questions += 1;
        if let Some(p) = position {
            self.at1 += usize::from(p == 0);
            self.at5 += usize::from(p < 5);
            if p < 10 {
                self.reciprocal += 1.0 / (p as f64 + 1.0);
            }
        }
    }

    fn ratio(&self, x: f64) -> f64 {
        if self.questions == 0 { 0.0 } else { x / self.questions as f64 }
    }

    pub fn recall_at_1(&self) -> f64 {
        self.ratio(self.at1 as f64)
    }

    pub fn recall_at_5(&self) -> f64 {
        self.ratio(self.at5 as f64)
    }

    pub fn mrr_at_10(&self) -> f64 {
        self.ratio(self.reciprocal)
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>3} questions  recall@1 {:.3}  recall@5 {:.3}  MRR@10 {:.3}",
            self.questions,
            self.recall_at_1(),
            self.recall_at_5(),
            self.mrr_at_10()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::chunk;
    use std::collections::HashSet;

    #[test]
    fn metrics_count_the_first_relevant_resource() {
        let ranked: Vec<String> = ["Observation", "Patient", "Condition"].map(String::from).to_vec();
        assert_eq!(first_relevant(&ranked, &["Condition".into(), "Patient".into()]), Some(1));
        assert_eq!(first_relevant(&ranked, &["Claim".into()]), None);
        let mut tally = Tally::default();
        for position in [Some(0), Some(1), Some(5), Some(12), None] {
            tally.add(position);
        }
        assert_eq!(tally.questions, 5);
        assert!((tally.recall_at_1() - 0.2).abs() < 1e-9);
        assert!((tally.recall_at_5() - 0.4).abs() < 1e-9, "rank 6 is outside the top 5");
        assert!((tally.mrr_at_10() - (1.0 + 0.5 + 1.0 / 6.0) / 5.0).abs() < 1e-9, "rank 13 adds nothing");
        assert_eq!(Tally::default().recall_at_5(), 0.0, "an empty tally is 0, not NaN");
    }

    #[test]
    fn malformed_lines_are_named() {
        assert!(parse("q\tPatient\t-\tsomewhere").expect_err("bad split").contains("line 1"));
        assert!(parse("# c\nq\tPatient").expect_err("3 fields missing").contains("line 2"));
        assert!(parse("q\t-\t-\ttune").is_err(), "no resource");
        let q = parse("q?\tA|B\tA.x | search:B:y\theldout").expect("valid");
        assert_eq!(q[0].resources, ["A", "B"]);
        assert_eq!(q[0].labels, ["A.x", "search:B:y"]);
        assert_eq!(q[0].split, Split::HeldOut);
    }

    /// Every label names what R4 defines: a concrete resource, an element of it, or one of its
    /// search parameters (the chunk ids of the knowledge base), and the split is what the file says.
    #[test]
    fn the_labelled_set_is_large_split_and_true_to_the_definitions() {
        let questions = parse(LABELLED).expect("parses");
        let held_out = questions.iter().filter(|q| q.split == Split::HeldOut).count();
        assert!(questions.len() >= 300, "{} questions", questions.len());
        assert!(held_out >= 100, "{held_out} held out");
        let texts: HashSet<&str> = questions.iter().map(|q| q.text.as_str()).collect();
        assert_eq!(texts.len(), questions.len(), "no question twice");

        let chunks = chunk::all(
            &crate::knowledge::testing::definitions("profiles-resources.json"),
            &crate::knowledge::testing::definitions("search-parameters.json"),
        );
        let ids: HashSet<&str> = chunks.iter().map(|c| c.id.as_str()).collect();
        let mut wrong = Vec::new();
        for q in &questions {
            for resource in &q.resources {
                if !ids.contains(format!("resource:{resource}").as_str()) {
                    wrong.push(format!("{}: {resource} is not an R4 resource", q.text));
                }
            }
            for label in &q.labels {
                let id = if label.starts_with("search:") { label.clone() } else { format!("element:{label}") };
                let owner = label.trim_start_matches("search:").split([':', '.']).next().unwrap_or_default();
                if !ids.contains(id.as_str()) {
                    wrong.push(format!("{}: {label} is not in the R4 definitions", q.text));
                } else if !q.resources.iter().any(|r| r == owner) {
                    wrong.push(format!("{}: {label} belongs to none of {:?}", q.text, q.resources));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
