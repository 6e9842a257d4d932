import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FhirClient, FhirError } from '../src/fhir.js';
import { startFakeFhir } from './fake-fhir.js';

test('reads a resource and sends FHIR JSON headers', async () => {
  const fhir = await startFakeFhir();
  try {
    const patient = await new FhirClient(fhir.url).read('Patient', '123');
    assert.equal(patient.id, '123');
    assert.equal(fhir.requests[0]?.headers.accept, 'application/fhir+json');
    assert.equal(fhir.requests[0]?.headers.authorization, undefined);
  } finally {
    await fhir.close();
  }
});

test('search follows next links across pages', async () => {
  const fhir = await startFakeFhir();
  try {
    const found = await new FhirClient(fhir.url).searchAll('{{ p.first_searchable }}', { _count: '2' });
    assert.deepEqual(found.map((r) => r.id), ['a', 'b', 'c']);
    assert.equal(fhir.requests.length, 2, 'one request per page');
  } finally {
    await fhir.close();
  }
});

test('create answers the id from the Location header, with a bearer token when one is given', async () => {
  const fhir = await startFakeFhir();
  try {
    const client = new FhirClient(fhir.url, async () => 'token-1');
    const created = await client.create({ resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    assert.equal(created.id, 'new-1');
    assert.equal(fhir.requests[0]?.method, 'POST');
    assert.equal(fhir.requests[0]?.headers.authorization, 'Bearer token-1');
    assert.equal(JSON.parse(fhir.requests[0]?.body ?? '{}').resourceType, 'Observation');
  } finally {
    await fhir.close();
  }
});

test('a refusal is a FhirError carrying the status and the OperationOutcome', async () => {
  const fhir = await startFakeFhir();
  try {
    await assert.rejects(new FhirClient(fhir.url).read('Patient', 'missing'), (error: unknown) => {
      assert.ok(error instanceof FhirError);
      assert.equal(error.status, 404);
      return true;
    });
  } finally {
    await fhir.close();
  }
});
