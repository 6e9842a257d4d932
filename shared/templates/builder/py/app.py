"""{{ p.title }}: what this app does with the FHIR server."""

from __future__ import annotations
{% if p.provider %}
import base64
from datetime import datetime, timezone
{%- endif %}
from collections import Counter
from typing import Any

from fhir_app.fhir import FhirClient, Resource

#: The resource types this app was generated for.
RESOURCES: tuple[str, ...] = {{ p.resources_tuple }}
{%- if !p.analytics %}
#: Those that can be searched by patient (`?patient=`).
PATIENT_RESOURCES: tuple[str, ...] = {{ p.related_tuple }}


def patient_record(client: FhirClient, patient_id: str, per_type: int = 100) -> dict[str, Any]:
    """The patient and their records: one read, then one paged search per resource type."""
    patient = client.read("Patient", patient_id)
    entries = {t: client.search_all(t, {"patient": patient_id, "_count": "50"}, per_type) for t in PATIENT_RESOURCES}
    return {"patient": patient, "entries": entries, "counts": {t: len(found) for t, found in entries.items()}}


def display_name(patient: Resource) -> str:
    """A human name for a Patient: "Given Family"."""
    names = patient.get("name") or []
    if not names:
        return "Unnamed patient"
    name = names[0]
    return name.get("text") or " ".join([*name.get("given", []), name.get("family", "")]).strip()
{%- endif %}
{%- if p.provider %}

#: Resource types this app can write, with a minimal valid R4 body for each.
WRITABLE: tuple[str, ...] = {{ p.writable_tuple }}


def draft(resource_type: str, patient_id: str, text: str) -> Resource:
    """A minimal, valid R4 resource of `resource_type` about the patient: the start of a real form."""
    subject = {"reference": f"Patient/{patient_id}"}
    code = {"text": text}
    drafts: dict[str, Resource] = {
        "Observation": {"status": "final", "code": code, "subject": subject, "effectiveDateTime": datetime.now(timezone.utc).isoformat()},
        "Condition": {"subject": subject, "code": code, "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}},
        "AllergyIntolerance": {"patient": subject, "code": code},
        "MedicationRequest": {"status": "active", "intent": "order", "subject": subject, "medicationCodeableConcept": code},
        "Encounter": {"status": "finished", "subject": subject, "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}},
        "Procedure": {"status": "completed", "subject": subject, "code": code},
        "CarePlan": {"status": "active", "intent": "plan", "subject": subject, "description": text},
        "DocumentReference": {"status": "current", "subject": subject, "content": [{"attachment": {"contentType": "text/plain", "data": base64.b64encode(text.encode()).decode()}}]},
    }
    if resource_type not in drafts:
        raise ValueError(f"{resource_type} has no draft here yet: add one to draft() in fhir_app/app.py")
    return {"resourceType": resource_type, **drafts[resource_type]}


def record(client: FhirClient, resource_type: str, patient_id: str, text: str) -> Resource:
    """Records something for the patient: `POST [base]/[type]`. Answers the created resource."""
    return client.create(draft(resource_type, patient_id, text))
{%- endif %}
{%- if p.analytics %}


def _code_of(resource: Resource) -> str | None:
    code = resource.get("code") or {}
    coding = (code.get("coding") or [{}])[0]
    return coding.get("display") or coding.get("code") or code.get("text")


def totals(client: FhirClient, limit: int = 10_000) -> dict[str, Any]:
    """Counts each resource type (paging through search results) and ranks the most frequent codes."""
    counts: dict[str, int] = {}
    top_codes: dict[str, list[dict[str, Any]]] = {}
    for resource_type in RESOURCES:
        tally: Counter[str] = Counter()
        count = 0
        for resource in client.search(resource_type, {"_count": "100"}):
            count += 1
            code = _code_of(resource)
            if code:
                tally[code] += 1
            if count >= limit:
                break
        counts[resource_type] = count
        if tally:
            top_codes[resource_type] = [{"code": c, "count": n} for c, n in tally.most_common(10)]
    return {"counts": counts, "topCodes": top_codes}
{%- endif %}
