{%- if p.provider %}
import json

import pytest
{% endif %}
from fhir_app import app
from fhir_app.fhir import FhirClient
{%- if !p.analytics %}


def test_the_patient_record_reads_the_patient_and_pages_through_each_type(fhir):
    record = app.patient_record(FhirClient(fhir.url), "123")
    assert app.display_name(record["patient"]) == "Ada Lovelace"
    for resource_type in app.PATIENT_RESOURCES:
        assert record["counts"][resource_type] == 3, f"{resource_type}: both pages"
    searches = [r for r in fhir.requests if "patient=123" in r["path"]]
    assert len(searches) == len(app.PATIENT_RESOURCES) * 2
{%- endif %}
{%- if p.provider %}


def test_every_writable_type_drafts_a_valid_resource_and_is_created(fhir):
    client = FhirClient(fhir.url)
    for resource_type in app.WRITABLE:
        created = app.record(client, resource_type, "123", "Seen in clinic")
        assert created["id"].startswith("new-")
        sent = json.loads(fhir.requests[-1]["body"])
        assert sent["resourceType"] == resource_type
        assert "Patient/123" in json.dumps(sent), f"{resource_type} refers to the patient"
    with pytest.raises(ValueError):
        app.draft("Basic", "123", "x")
{%- endif %}
{%- if p.analytics %}


def test_totals_count_every_page_of_every_type_and_rank_the_codes(fhir):
    totals = app.totals(FhirClient(fhir.url))
    for resource_type in app.RESOURCES:
        assert totals["counts"][resource_type] == 3, f"{resource_type}: both pages counted"
        assert totals["topCodes"][resource_type][0] == {"code": "common", "count": 2}
{%- endif %}
