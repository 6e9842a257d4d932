// {{ p.title }}: what this app does with the FHIR server.

import type { FhirClient, Resource } from './fhir.js';

/** The resource types this app was generated for. */
export const RESOURCES: readonly string[] = {{ p.resources_literal }};
{%- if !p.analytics %}
/** Those that can be searched by patient (`?patient=`). */
export const PATIENT_RESOURCES: readonly string[] = {{ p.related_literal }};

export interface PatientRecord {
  patient: Resource;
  /** Each resource type's entries for this patient (up to `perType`). */
  entries: Record<string, Resource[]>;
  counts: Record<string, number>;
}

/** The patient and their records: one read, then one paged search per resource type. */
export async function patientRecord(client: FhirClient, patientId: string, perType = 100): Promise<PatientRecord> {
  const patient = await client.read('Patient', patientId);
  const entries: Record<string, Resource[]> = {};
  const counts: Record<string, number> = {};
  for (const type of PATIENT_RESOURCES) {
    const found = await client.searchAll(type, { patient: patientId, _count: '50' }, perType);
    entries[type] = found;
    counts[type] = found.length;
  }
  return { patient, entries, counts };
}

/** A human name for a Patient: "Given Family". */
export function displayName(patient: Resource): string {
  const names = (patient.name as { given?: string[]; family?: string; text?: string }[] | undefined) ?? [];
  const name = names[0];
  if (!name) return 'Unnamed patient';
  return name.text ?? [...(name.given ?? []), name.family ?? ''].join(' ').trim();
}
{%- endif %}
{%- if p.provider %}

/** Resource types this app can write, with a minimal valid R4 body for each. */
export const WRITABLE: readonly string[] = {{ p.writable_literal }};

/** A minimal, valid R4 resource of `type` about the patient: the starting point for a real form. */
export function draft(type: string, patientId: string, text: string): Resource {
  const subject = { reference: `Patient/${patientId}` };
  const code = { text };
  switch (type) {
    case 'Observation':
      return { resourceType: type, status: 'final', code, subject, effectiveDateTime: new Date().toISOString() };
    case 'Condition':
      return { resourceType: type, subject, code, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } };
    case 'AllergyIntolerance':
      return { resourceType: type, patient: subject, code };
    case 'MedicationRequest':
      return { resourceType: type, status: 'active', intent: 'order', subject, medicationCodeableConcept: code };
    case 'Encounter':
      return { resourceType: type, status: 'finished', subject, class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' } };
    case 'Procedure':
      return { resourceType: type, status: 'completed', subject, code };
    case 'CarePlan':
      return { resourceType: type, status: 'active', intent: 'plan', subject, description: text };
    case 'DocumentReference':
      return { resourceType: type, status: 'current', subject, content: [{ attachment: { contentType: 'text/plain', data: Buffer.from(text).toString('base64') } }] };
    default:
      throw new Error(`${type} has no draft here yet: add one to draft() in src/app.ts`);
  }
}

/** Records something for the patient: `POST [base]/[type]`. Answers the created resource. */
export async function record(client: FhirClient, type: string, patientId: string, text: string): Promise<Resource> {
  return client.create(draft(type, patientId, text));
}
{%- endif %}
{%- if p.analytics %}

export interface Totals {
  /** Resources of each type (counted by paging through the server's search results). */
  counts: Record<string, number>;
  /** The most frequent codes of the coded resource types, with how often each appears. */
  topCodes: Record<string, { code: string; count: number }[]>;
}

function codeOf(resource: Resource): string | undefined {
  const code = resource.code as { text?: string; coding?: { code?: string; display?: string }[] } | undefined;
  const coding = code?.coding?.[0];
  return coding?.display ?? coding?.code ?? code?.text;
}

/** Counts each resource type and tallies codes, reading at most `limit` resources of each type. */
export async function totals(client: FhirClient, limit = 10_000): Promise<Totals> {
  const counts: Record<string, number> = {};
  const topCodes: Record<string, { code: string; count: number }[]> = {};
  for (const type of RESOURCES) {
    const tally = new Map<string, number>();
    let count = 0;
    for await (const resource of client.search(type, { _count: '100' })) {
      count += 1;
      const code = codeOf(resource);
      if (code) tally.set(code, (tally.get(code) ?? 0) + 1);
      if (count >= limit) break;
    }
    counts[type] = count;
    if (tally.size) {
      topCodes[type] = [...tally].map(([code, n]) => ({ code, count: n })).sort((a, b) => b.count - a.count).slice(0, 10);
    }
  }
  return { counts, topCodes };
}
{%- endif %}
