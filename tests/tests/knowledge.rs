//! The knowledge base through the platform: `make kb` loads the R4 definitions into D1 and
//! `/api/search` answers with ranked passages that link into the specification.

use fhir_iq_tests::{DEMO, Options, Platform};

#[test]
fn search_answers_with_ranked_passages_linking_into_the_r4_specification() {
    let platform = Platform::start_with(Options { knowledge: true, ..Options::default() });
    let reply = platform.get("/api/search?q=patient+date+of+birth&k=5");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let hits = reply.json();
    let hits = hits.as_array().expect("an array");
    assert_eq!(hits.len(), 5);
    let first = &hits[0];
    for field in ["id", "title", "kind", "url", "score", "snippet"] {
        assert!(!first[field].is_null(), "{field} missing: {first}");
    }
    assert!(hits.iter().any(|h| h["id"] == "element:Patient.birthDate"), "{hits:?}");
    assert!(first["url"].as_str().is_some_and(|u| u.starts_with("https://hl7.org/fhir/R4/")), "{first}");
    let scores: Vec<f64> = hits.iter().filter_map(|h| h["score"].as_f64()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");

    let search_param = platform.get("/api/search?q=search+observations+by+loinc+code").json();
    assert!(
        search_param
            .as_array()
            .expect("array")
            .iter()
            .take(5)
            .any(|h| h["kind"] == "search_param" && h["resource"] == "Observation"),
        "{search_param}"
    );

    // The RESTful API lives outside the definitions: a guide passage (migration 0002's kind) answers.
    let rest = platform.get("/api/search?q=create+a+patient+and+an+encounter+in+one+all-or-nothing+request&k=5").json();
    let guide = rest.as_array().expect("array").iter().find(|h| h["kind"] == "guide").cloned().unwrap_or_default();
    assert_eq!(guide["url"], "https://hl7.org/fhir/R4/http.html#transaction", "{rest}");
    assert!(guide["title"].as_str().is_some_and(|t| t.starts_with("Guide: ")), "{guide}");

    assert_eq!(platform.get("/api/search").status, 400, "no question");
    assert_eq!(platform.get("/api/search?q=x&k=500").status, 400, "k out of range");
    assert_eq!(platform.get(&format!("/api/search?q={}", "a".repeat(600))).status, 413, "question too long");
    let injection = platform.get("/api/search?q=%22patient%22+OR+NEAR(a+b)+*");
    assert_eq!(injection.status, 200, "FTS syntax in a question is just words: {}", injection.body);

    // The reference pages use the same data.
    let patient = platform.get("/fhir/R4/Patient");
    assert_eq!(patient.status, 200);
    for expected in
        ["Patient.birthDate", "0..1", "<code>date</code>", "birthdate", "https://hl7.org/fhir/R4/patient.html"]
    {
        assert!(patient.body.contains(expected), "the Patient page lacks {expected}");
    }
    assert_eq!(platform.get("/fhir/R4/NoSuchResource").status, 404);
    assert!(platform.get("/fhir/R4").body.contains("href=\"/fhir/R4/AllergyIntolerance\""));
    let results = platform.get("/search?q=allergy+criticality");
    assert_eq!(results.status, 200);
    assert!(results.body.contains("AllergyIntolerance.criticality"), "search results page");
    let hostile = platform.get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    assert!(!hostile.body.contains("<script>alert(1)"), "the query is escaped on the page");

    // With no model configured the assistant answers from retrieval alone, labelled, with sources.
    let free = platform.sign_in(DEMO[0].1, DEMO[0].2);
    let question = serde_json::json!({"message": "Which resource should I use to store a patient's allergies?"});
    let answer = platform.send_as(&free, "POST", "/_functions/processAIQuery", Some(&question));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = answer.json();
    assert_eq!(answer["provider"], "retrieval-only");
    assert!(answer["message"].as_str().is_some_and(|m| m.contains("AllergyIntolerance")), "{answer}");
    assert_eq!(answer["sources"][0]["resource"], "AllergyIntolerance", "{answer}");
    assert!(answer["sources"][0]["url"].as_str().is_some_and(|u| u.starts_with("https://hl7.org/fhir/R4/")));
}
