import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FhirClient } from '../src/fhir.js';
import * as app from '../src/app.js';
import { startFakeFhir } from './fake-fhir.js';
{%- if !p.analytics %}

test('the patient record reads the patient and pages through each resource type', async () => {
  const fhir = await startFakeFhir();
  try {
    const record = await app.patientRecord(new FhirClient(fhir.url), '123');
    assert.equal(app.displayName(record.patient), 'Ada Lovelace');
    for (const type of app.PATIENT_RESOURCES) {
      assert.equal(record.counts[type], 3, `${type}: both pages`);
    }
    const searches = fhir.requests.filter((r) => r.url.includes('patient=123'));
    assert.equal(searches.length, app.PATIENT_RESOURCES.length * 2);
  } finally {
    await fhir.close();
  }
});
{%- endif %}
{%- if p.provider %}

test('every writable type drafts a valid resource about the patient and is created', async () => {
  const fhir = await startFakeFhir();
  try {
    const client = new FhirClient(fhir.url);
    for (const type of app.WRITABLE) {
      const created = await app.record(client, type, '123', 'Seen in clinic');
      assert.match(created.id ?? '', /^new-\d+$/);
      const sent = JSON.parse(fhir.requests.at(-1)?.body ?? '{}');
      assert.equal(sent.resourceType, type);
      assert.ok(JSON.stringify(sent).includes('Patient/123'), `${type} refers to the patient`);
    }
    assert.throws(() => app.draft('Basic', '123', 'x'), /no draft/);
  } finally {
    await fhir.close();
  }
});
{%- endif %}
{%- if p.analytics %}

test('totals count every page of every resource type and rank the codes', async () => {
  const fhir = await startFakeFhir();
  try {
    const totals = await app.totals(new FhirClient(fhir.url));
    for (const type of app.RESOURCES) {
      assert.equal(totals.counts[type], 3, `${type}: both pages counted`);
      assert.deepEqual(totals.topCodes[type]?.[0], { code: 'common', count: 2 });
    }
  } finally {
    await fhir.close();
  }
});
{%- endif %}
