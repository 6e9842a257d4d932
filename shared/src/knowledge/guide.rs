//! Guide passages: what developers ask about that lives outside the StructureDefinitions — the R4
//! RESTful API (http.html) and search (search.html) pages, messaging, documents and the common
//! operations. Each is a short summary written for this knowledge base (not the specification's own
//! words), titled "Guide:" so it is never mistaken for a definition, and linked to the page it
//! summarizes. A passage about one resource (a transaction is a `Bundle`) is filed under it; one about
//! search syntax in general under none.

use super::chunk::{Chunk, Kind};

/// (id, resource it is about, title, body, page of the R4 specification).
const GUIDES: &[(&str, Option<&str>, &str, &str, &str)] = &[
    (
        "transaction",
        Some("Bundle"),
        "Guide: transactions — several resources in one all-or-nothing request",
        "POST a Bundle with type `transaction` to the server's base URL. Each entry carries the resource \
         and `request` (method and url: POST Patient, PUT Observation/123, DELETE ...). The server processes \
         every entry or none: if any fails, the whole transaction fails and nothing is committed. Entries that \
         create resources give them a temporary `fullUrl` (urn:uuid:...), and other entries reference that \
         fullUrl; the server rewrites the references to the new ids. The answer is a Bundle of type \
         `transaction-response` with one `response` (status, location, etag) per entry.",
        "https://hl7.org/fhir/R4/http.html#transaction",
    ),
    (
        "batch",
        Some("Bundle"),
        "Guide: batches — many independent requests in one call",
        "A Bundle of type `batch` POSTed to the base URL runs each entry's `request` independently: some may \
         succeed while others fail, and entries must not depend on each other. The `batch-response` Bundle \
         has one entry per request, in order, each with `response.status` and, for a failure, an \
         OperationOutcome in `response.outcome`. Use a batch to read or write many unrelated resources \
         in one round trip, a transaction when they must all succeed together.",
        "https://hl7.org/fhir/R4/http.html#transaction",
    ),
    (
        "conditional-create",
        Some("Bundle"),
        "Guide: conditional create — create only if no match exists",
        "Send the header `If-None-Exist: identifier=http://hospital.example/mrn|12345` with a POST (or \
         `request.ifNoneExist` in a Bundle entry). No match: the server creates the resource (201). One \
         match: it creates nothing and answers 200 with the existing one. Several matches: 412 Precondition \
         Failed. Conditional update (PUT Patient?identifier=...) and conditional delete work the same way \
         with search criteria instead of an id.",
        "https://hl7.org/fhir/R4/http.html#ccreate",
    ),
    (
        "versioning",
        Some("Bundle"),
        "Guide: version-aware updates, ETag and If-Match (optimistic locking)",
        "A read returns the version in the `ETag` header (W/\"3\") and `meta.versionId`. To update only if \
         nobody changed the resource since you read it, send `If-Match: W/\"3\"` with the PUT (in a Bundle \
         entry: `request.ifMatch`). If the version moved on, the server answers 412 Precondition Failed and \
         you re-read and retry. `vread` (GET Patient/123/_history/3) reads one version.",
        "https://hl7.org/fhir/R4/http.html#concurrency",
    ),
    (
        "errors",
        Some("OperationOutcome"),
        "Guide: errors — what a server returns when a request fails",
        "A failed interaction answers an HTTP error status with an OperationOutcome in the body: 400 Bad \
         Request (invalid JSON or resource, a bad search), 401/403, 404 Not Found, 405, 409/412 (a version \
         conflict), 410 Gone (deleted), 422 Unprocessable Entity (the resource breaks a profile or business \
         rule). Each `issue` has a severity (fatal, error, warning, information), a code from the issue-type \
         value set (invalid, structure, required, value, not-found, conflict, ...), human-readable \
         `diagnostics` and the FHIRPath `expression` of the element at fault. Warnings can also come back \
         with a success.",
        "https://hl7.org/fhir/R4/http.html#Status-Codes",
    ),
    (
        "validate",
        Some("OperationOutcome"),
        "Guide: validating a resource with $validate",
        "POST a resource (or a Parameters with it) to [base]/[type]/$validate, optionally with a profile, and \
         the server answers with an OperationOutcome listing every error and warning, or one information \
         issue when the resource is valid. Nothing is stored.",
        "https://hl7.org/fhir/R4/resource-operation-validate.html",
    ),
    (
        "search-results",
        Some("Bundle"),
        "Guide: search results and paging",
        "A search (GET [base]/Observation?patient=123) answers a Bundle of type `searchset`. `total` may give \
         the number of matches; each entry's `search.mode` is `match`, or `include` for resources added by \
         _include. Results come in pages: `_count` asks for a page size, and the Bundle's `link` elements \
         with relation `next`, `previous`, `first`, `last` and `self` are the URLs to follow for the other \
         pages (never build them yourself).",
        "https://hl7.org/fhir/R4/http.html#paging",
    ),
    (
        "history",
        Some("Bundle"),
        "Guide: history — every version of a resource",
        "GET [base]/Patient/123/_history (one resource), [base]/Patient/_history (a type) or [base]/_history \
         (the whole server), optionally with _since and _count, returns a Bundle of type `history`: one \
         entry per version, newest first, each with `request` (the method that made it) and `response`. \
         Deletions appear as entries without a resource.",
        "https://hl7.org/fhir/R4/http.html#history",
    ),
    (
        "capabilities",
        Some("CapabilityStatement"),
        "Guide: what a server supports — GET [base]/metadata",
        "Before calling a server, read its CapabilityStatement at GET [base]/metadata: the FHIR version, \
         formats, security (SMART on FHIR OAuth URLs), and for each resource type the interactions (read, \
         search-type, create, update, delete, history), the search parameters, _include values, operations \
         and the profiles it supports.",
        "https://hl7.org/fhir/R4/http.html#capabilities",
    ),
    (
        "everything",
        Some("Patient"),
        "Guide: all of a patient's data — Patient/$everything",
        "GET [base]/Patient/123/$everything returns a Bundle with the patient and everything in their \
         compartment the server holds: encounters, observations, conditions, medications and the resources \
         they reference. `start` and `end` limit it by date and `_since` to what changed; large results \
         are paged. For many patients at once use Bulk Data ($export).",
        "https://hl7.org/fhir/R4/patient-operation-everything.html",
    ),
    (
        "compartments",
        Some("Patient"),
        "Guide: compartments — one patient's resources of a type",
        "GET [base]/Patient/123/Observation searches only the observations in patient 123's compartment \
         (those whose subject or patient is that patient), the same as Observation?patient=123. The \
         CompartmentDefinition resources say which elements put a resource in a compartment.",
        "https://hl7.org/fhir/R4/compartmentdefinition.html",
    ),
    (
        "messaging",
        Some("MessageHeader"),
        "Guide: FHIR messaging",
        "A message is a Bundle of type `message` whose first entry is a MessageHeader (the event code, \
         source, destination and focus) followed by the resources it carries, sent to the receiver's \
         $process-message endpoint. The response is another message whose MessageHeader.response points \
         back to the request.",
        "https://hl7.org/fhir/R4/messaging.html",
    ),
    (
        "documents",
        Some("Composition"),
        "Guide: FHIR documents",
        "A clinical document (a discharge summary, a referral letter) is a Bundle of type `document` whose \
         first entry is a Composition (title, author, sections that reference the content) followed by \
         every resource it references. It is signed and kept as a whole; store it with a DocumentReference \
         to make it findable.",
        "https://hl7.org/fhir/R4/documents.html",
    ),
    (
        "include",
        None,
        "Guide: _include and _revinclude — referenced resources in the same search",
        "Add `_include=Observation:patient` to an Observation search to get each observation's patient in \
         the same Bundle (entries with search.mode `include`); `_include=MedicationRequest:medication` \
         brings the medications. `_revinclude=Provenance:target` brings the resources that point at the \
         matches. `:iterate` follows includes of includes.",
        "https://hl7.org/fhir/R4/search.html#include",
    ),
    (
        "chaining",
        None,
        "Guide: chained and reverse-chained search (_has)",
        "A chain searches on an element of a referenced resource: Observation?subject:Patient.name=peter \
         finds observations whose patient is named Peter; DiagnosticReport?subject.identifier=...|123 works \
         the same. Reverse chaining with _has finds resources referenced by others: \
         Patient?_has:Observation:patient:code=1234-5 finds patients that have such an observation.",
        "https://hl7.org/fhir/R4/search.html#chaining",
    ),
    (
        "prefixes",
        None,
        "Guide: comparing numbers, dates and quantities in search (prefixes)",
        "Number, date and quantity parameters take a prefix: eq (the default), ne, gt, lt, ge, le, sa \
         (starts after), eb (ends before) and ap (approximately). A date range is two parameters: \
         date=ge2024-01-01&date=lt2024-02-01. A quantity is value-quantity=gt5.4|http://unitsofmeasure.org|mg.",
        "https://hl7.org/fhir/R4/search.html#prefix",
    ),
    (
        "modifiers",
        None,
        "Guide: search modifiers (:exact, :contains, :missing, :not, :text, :above, :below, :in)",
        "A modifier after the parameter name changes how it matches: string parameters match the start of \
         a word, case-insensitively, unless :exact or :contains; :missing=true finds resources without the \
         element; token parameters take :not, :text (the display text), :in / :not-in (a value set), \
         :above / :below (code hierarchies) and :of-type; reference parameters take a type \
         (subject:Patient=123) and :identifier.",
        "https://hl7.org/fhir/R4/search.html#modifiers",
    ),
    (
        "tokens",
        None,
        "Guide: token search — codes and identifiers (system|code)",
        "Token parameters (code, identifier, status, gender) match system|code: code=http://loinc.org|8867-4, \
         code=8867-4 (any system), code=http://loinc.org| (any code of the system), and \
         identifier=http://hospital.example/mrn|12345 finds a patient by medical record number.",
        "https://hl7.org/fhir/R4/search.html#token",
    ),
    (
        "summary-elements",
        None,
        "Guide: smaller results — _summary, _elements, _count, _sort",
        "_summary=true returns only the elements marked as summary, _summary=count only the total, \
         _summary=data without the narrative; _elements=identifier,name returns just the listed top-level \
         elements (results are marked SUBSETTED). _count sets the page size and _sort=-date sorts by a \
         parameter, descending with a minus sign.",
        "https://hl7.org/fhir/R4/search.html#summary",
    ),
    (
        "common-parameters",
        None,
        "Guide: search parameters every resource has",
        "Every resource type can be searched by _id, _lastUpdated (when it last changed: \
         _lastUpdated=gt2024-01-01), _tag, _profile, _security, _source, _text and _content (full text), \
         _list and _has, and a search across types by _type at the base URL.",
        "https://hl7.org/fhir/R4/search.html#all",
    ),
    (
        "crud",
        None,
        "Guide: create, read, update, patch and delete",
        "POST [base]/Patient creates (201 Created with a Location header holding the new id and version), \
         GET [base]/Patient/123 reads, PUT [base]/Patient/123 replaces (the body carries the same id), PATCH \
         applies a JSON Patch, DELETE removes (later reads answer 410 Gone). The server assigns ids and \
         meta.versionId and meta.lastUpdated.",
        "https://hl7.org/fhir/R4/http.html",
    ),
    (
        "references",
        None,
        "Guide: references between resources",
        "A Reference points at another resource by a relative URL (Patient/123), an absolute URL, a \
         contained resource (#id, in the resource's `contained` list, when it has no identity of its own), \
         or logically by `identifier` when the target is not on the server. `display` is text for people.",
        "https://hl7.org/fhir/R4/references.html",
    ),
];

/// The guide passages as chunks (indexed with the definitions).
pub fn chunks() -> Vec<Chunk> {
    GUIDES
        .iter()
        .map(|(id, resource, title, body, url)| Chunk {
            id: format!("guide:{id}"),
            kind: Kind::Guide,
            resource: resource.map(str::to_owned),
            element: None,
            title: (*title).to_owned(),
            body: (*body).to_owned(),
            terms: format!("guide rest api http {}", resource.map(super::chunk::split_name).unwrap_or_default()),
            url: (*url).to_owned(),
            // Not a resource's maturity: the RESTful API and search pages are normative in R4.
            maturity: 5,
            position: 0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guides_are_labelled_as_guides_and_cite_the_specification() {
        let chunks = chunks();
        assert!(chunks.len() >= 20);
        for chunk in &chunks {
            assert!(chunk.title.starts_with("Guide: "), "{}", chunk.title);
            assert!(chunk.url.starts_with("https://hl7.org/fhir/R4/"), "{}", chunk.url);
            assert!(chunk.body.len() > 150, "{} says too little", chunk.id);
            if let Some(resource) = &chunk.resource {
                assert!(crate::builder::spec::R4_RESOURCES.lines().any(|r| r == resource), "{resource}");
            }
        }
        let ids: std::collections::HashSet<&str> = chunks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), chunks.len(), "ids are unique");
    }
}
