// A local fake FHIR R4 server for the tests: Patient/123, paged searches (two pages per type),
// create with a Location header, SMART discovery and a token endpoint. It records every request.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeFhir {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export async function startFakeFhir(): Promise<FakeFhir> {
  const requests: Recorded[] = [];
  let created = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers, body });
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const url = new URL(request.url ?? '/', base);
      const send = (status: number, value: unknown, headers: Record<string, string> = {}) =>
        response.writeHead(status, { 'content-type': 'application/fhir+json', ...headers }).end(value === undefined ? '' : JSON.stringify(value));
      if (url.pathname === '/.well-known/smart-configuration') {
        return send(200, {
          authorization_endpoint: `${base}/auth/authorize`,
          token_endpoint: `${base}/auth/token`,
          capabilities: ['launch-standalone', 'launch-ehr', 'client-public', 'client-confidential-asymmetric'],
        });
      }
      if (url.pathname === '/auth/token' && request.method === 'POST') {
        return send(200, { access_token: 'test-access-token', token_type: 'Bearer', expires_in: 3600, patient: '123', scope: 'patient/*.read' });
      }
      const [, type, id] = url.pathname.split('/');
      if (!type) return send(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
      if (request.method === 'POST') {
        created += 1;
        return send(201, undefined, { location: `${base}/${type}/new-${created}/_history/1` });
      }
      if (id) {
        if (type === 'Patient' && id === '123') {
          return send(200, { resourceType: 'Patient', id: '123', name: [{ given: ['Ada'], family: 'Lovelace' }], birthDate: '1815-12-10' });
        }
        return send(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
      }
      const page = url.searchParams.get('page') === '2' ? 2 : 1;
      const ids = page === 1 ? ['a', 'b'] : ['c'];
      const next = new URL(url);
      next.searchParams.set('page', '2');
      return send(200, {
        resourceType: 'Bundle',
        type: 'searchset',
        total: 3,
        link: page === 1 ? [{ relation: 'self', url: url.href }, { relation: 'next', url: next.href }] : [{ relation: 'self', url: url.href }],
        entry: ids.map((entryId) => ({
          fullUrl: `${base}/${type}/${entryId}`,
          resource: { resourceType: type, id: entryId, code: { text: entryId === 'c' ? 'rare' : 'common' } },
          search: { mode: 'match' },
        })),
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
