import json

import pytest

from fhir_app.fhir import FhirClient, FhirError


def test_reads_a_resource_with_fhir_json_headers(fhir):
    patient = FhirClient(fhir.url).read("Patient", "123")
    assert patient["id"] == "123"
    assert fhir.requests[0]["headers"]["Accept"] == "application/fhir+json"
    assert "Authorization" not in fhir.requests[0]["headers"]


def test_search_follows_next_links_across_pages(fhir):
    found = FhirClient(fhir.url).search_all("{{ p.first_searchable }}", {"_count": "2"})
    assert [r["id"] for r in found] == ["a", "b", "c"]
    assert len(fhir.requests) == 2, "one request per page"


def test_create_answers_the_id_from_the_location_with_a_bearer_token(fhir):
    client = FhirClient(fhir.url, lambda: "token-1")
    created = client.create({"resourceType": "Observation", "status": "final", "code": {"text": "x"}})
    assert created["id"] == "new-1"
    assert fhir.requests[0]["method"] == "POST"
    assert fhir.requests[0]["headers"]["Authorization"] == "Bearer token-1"
    assert json.loads(fhir.requests[0]["body"])["resourceType"] == "Observation"


def test_a_refusal_is_a_fhir_error_with_status_and_outcome(fhir):
    with pytest.raises(FhirError) as refused:
        FhirClient(fhir.url).read("Patient", "missing")
    assert refused.value.status == 404
    assert refused.value.outcome["resourceType"] == "OperationOutcome"
