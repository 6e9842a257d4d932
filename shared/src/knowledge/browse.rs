//! The reference pages built from the knowledge base: a resource's description, its element table
//! (path, cardinality, types, short text) and its search parameters, and the list of all resources.

use crate::error::Result;
use crate::storage::{Database, Statement};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
struct Row {
    kind: String,
    element: Option<String>,
    title: String,
    body: String,
    url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ElementRow {
    pub path: String,
    /// Indent level below the resource (Patient.contact.name is 1).
    pub depth: usize,
    pub cardinality: String,
    pub types: String,
    pub short: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchParamRow {
    pub code: String,
    pub kind: String,
    pub expression: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceView {
    pub name: String,
    pub description: String,
    pub spec_url: String,
    pub elements: Vec<ElementRow>,
    pub search_params: Vec<SearchParamRow>,
}

fn first_paragraph(body: &str) -> String {
    body.split("\n\n").next().unwrap_or_default().trim().to_owned()
}

fn line_after(body: &str, prefix: &str) -> String {
    body.lines().find_map(|l| l.strip_prefix(prefix)).unwrap_or_default().trim().to_owned()
}

/// `Patient.birthDate (0..1 date)` -> ("0..1", "date")
fn cardinality_and_types(title: &str) -> (String, String) {
    let inner = title.rsplit_once(" (").map_or("", |(_, rest)| rest.trim_end_matches(')'));
    let (cardinality, types) = inner.split_once(' ').unwrap_or((inner, ""));
    (cardinality.to_owned(), types.to_owned())
}

/// The page for one resource, or `None` when there is no such resource (names are case-sensitive).
pub async fn resource(db: &impl Database, name: &str) -> Result<Option<ResourceView>> {
    let rows: Vec<Row> = db
        .query(
            Statement::new(
                "SELECT kind, element, title, body, url FROM kb_chunks WHERE resource = ?1 ORDER BY position",
            )
            .bind(name),
        )
        .await?;
    let Some(overview) = rows.iter().find(|r| r.kind == "resource") else { return Ok(None) };
    let elements = rows
        .iter()
        .filter(|r| r.kind == "element")
        .map(|r| {
            let path = r.element.clone().unwrap_or_default();
            let (cardinality, types) = cardinality_and_types(&r.title);
            ElementRow {
                depth: path.matches('.').count().saturating_sub(1),
                path,
                cardinality,
                types,
                short: first_paragraph(&r.body),
                url: r.url.clone(),
            }
        })
        .collect();
    let mut search_params: Vec<SearchParamRow> = rows
        .iter()
        .filter(|r| r.kind == "search_param")
        .map(|r| {
            let heading = line_after(&r.body, "Search parameter ");
            let code = heading.split_whitespace().next().unwrap_or_default().to_owned();
            let kind = heading.split(" of type ").nth(1).and_then(|t| t.split_whitespace().next()).unwrap_or_default();
            SearchParamRow {
                code,
                kind: kind.to_owned(),
                expression: line_after(&r.body, "Expression: "),
                description: first_paragraph(&r.body),
            }
        })
        .collect();
    search_params.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(Some(ResourceView {
        name: name.to_owned(),
        description: first_paragraph(&overview.body),
        spec_url: overview.url.clone(),
        elements,
        search_params,
    }))
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ResourceLink {
    pub name: String,
    pub summary: String,
}

/// Every resource in the knowledge base, alphabetically, with its one-line summary.
pub async fn index(db: &impl Database) -> Result<Vec<ResourceLink>> {
    #[derive(Deserialize)]
    struct R {
        resource: String,
        body: String,
    }
    let rows: Vec<R> = db
        .query(Statement::new("SELECT resource, body FROM kb_chunks WHERE kind = 'resource' ORDER BY resource"))
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let summary = first_paragraph(&r.body);
            let summary = summary.split(". ").next().unwrap_or_default().trim_end_matches('.').to_owned();
            ResourceLink { name: r.resource, summary }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::chunk::from_definitions;
    use crate::knowledge::search::index_statements;
    use crate::storage::sqlite::SqliteDb;
    use futures::executor::block_on;
    use serde_json::json;

    fn db() -> SqliteDb {
        let profiles = json!({"entry": [{"resource": {
        "resourceType": "StructureDefinition", "name": "Patient", "kind": "resource", "derivation": "specialization",
        "description": "Demographics and other administrative information about an individual.",
        "differential": {"element": [
            {"path": "Patient", "min": 0, "max": "*"},
            {"path": "Patient.birthDate", "short": "The date of birth for the individual", "min": 0, "max": "1", "type": [{"code": "date"}]},
            {"path": "Patient.contact", "short": "A contact party", "min": 0, "max": "*", "type": [{"code": "BackboneElement"}]},
            {"path": "Patient.contact.name", "short": "A name associated with the contact person", "min": 0, "max": "1", "type": [{"code": "HumanName"}]}
        ]}}}]});
        let params = json!({"entry": [{"resource": {"resourceType": "SearchParameter", "code": "birthdate", "base": ["Patient"],
            "type": "date", "expression": "Patient.birthDate", "description": "The patient's date of birth"}}]});
        let db = SqliteDb::with_schema();
        for chunk in from_definitions(&profiles, &params) {
            block_on(db.batch(index_statements(&chunk))).expect("indexed");
        }
        db
    }

    #[test]
    fn a_resource_page_has_its_description_elements_and_search_parameters() {
        let db = db();
        let view = block_on(resource(&db, "Patient")).expect("query").expect("exists");
        assert!(view.description.starts_with("Demographics"));
        assert!(!view.description.contains("Elements:"));
        assert_eq!(view.spec_url, "https://hl7.org/fhir/R4/patient.html");
        let birth = &view.elements[0];
        assert_eq!(
            (birth.path.as_str(), birth.cardinality.as_str(), birth.types.as_str()),
            ("Patient.birthDate", "0..1", "date")
        );
        assert_eq!(birth.short, "The date of birth for the individual");
        assert_eq!(view.elements[2].depth, 1, "Patient.contact.name is nested");
        let param = &view.search_params[0];
        assert_eq!(
            (param.code.as_str(), param.kind.as_str(), param.expression.as_str()),
            ("birthdate", "date", "Patient.birthDate")
        );
        assert!(block_on(resource(&db, "patient")).expect("query").is_none(), "names are case-sensitive");
        assert_eq!(block_on(index(&db)).expect("q")[0].name, "Patient");
    }
}
