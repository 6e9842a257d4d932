// The app's HTTP server (node:http, no framework): `npm start`, then open http://localhost:3000/.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { loadConfig } from './config.js';
import { FhirClient, FhirError, type TokenSource } from './fhir.js';
import * as app from './app.js';
import * as auth from './auth.js';

const config = loadConfig();
{%- if p.smart %}
/** Pending authorizations by `state`, and signed-in browsers by session id (in memory: one process). */
const pending = new Map<string, { verifier: string; smart: auth.SmartConfiguration; aud: string }>();
const sessions = new Map<string, { token: auth.TokenResponse; aud: string }>();

function session(request: IncomingMessage): { token: auth.TokenResponse; aud: string } | undefined {
  const id = /(?:^|;\s*)sid=([\w-]+)/.exec(request.headers.cookie ?? '')?.[1];
  return id ? sessions.get(id) : undefined;
}

async function beginAuthorization(response: ServerResponse, iss: string, launch?: string): Promise<void> {
  const smart = await auth.discover(iss);
  const { verifier, challenge } = auth.pkce();
  const state = auth.newState();
  pending.set(state, { verifier, smart, aud: iss });
  const url = auth.authorizeUrl(smart, {
    clientId: config.clientId,
    redirectUri: config.redirectUri,
    scope: config.scope,
    state,
    challenge,
    aud: iss,
    launch,
  });
  response.writeHead(302, { location: url }).end();
}
{%- endif %}
{%- if p.backend %}
let backendToken: TokenSource | undefined;

async function serverToken(): Promise<TokenSource> {
  if (!backendToken) {
    const tokenUrl = await auth.discoverTokenUrl(config.fhirBaseUrl);
    backendToken = auth.tokenSource({ ...config, tokenUrl });
  }
  return backendToken;
}
{%- endif %}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2));
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
{%- if p.smart %}
{%- if p.ehr %}
  if (url.pathname === '/launch') {
    const iss = url.searchParams.get('iss');
    const launch = url.searchParams.get('launch');
    if (!iss || !launch) return json(response, 400, { error: 'the EHR must send iss and launch' });
    return beginAuthorization(response, iss, launch);
  }
{%- else %}
  if (url.pathname === '/login') return beginAuthorization(response, config.fhirBaseUrl);
{%- endif %}
  if (url.pathname === '/callback') {
    const flow = pending.get(url.searchParams.get('state') ?? '');
    const code = url.searchParams.get('code');
    if (!flow || !code) return json(response, 400, { error: 'unknown state or no code' });
    pending.delete(url.searchParams.get('state') ?? '');
    const token = await auth.exchangeCode(flow.smart, {
      code,
      redirectUri: config.redirectUri,
      clientId: config.clientId,
      verifier: flow.verifier,
    });
    const id = randomBytes(24).toString('base64url');
    sessions.set(id, { token, aud: flow.aud });
    const next = {% if !p.analytics %}token.patient ? `/patients/${encodeURIComponent(token.patient)}` : {% endif %}'/';
    response.writeHead(302, { location: next, 'set-cookie': `sid=${id}; HttpOnly; SameSite=Lax; Path=/` }).end();
    return;
  }
  const signedIn = session(request);
  if (!signedIn) {
{%- if p.ehr %}
    return json(response, 401, { error: 'launch this app from the EHR (it opens /launch)' });
{%- else %}
    response.writeHead(302, { location: '/login' }).end();
    return;
{%- endif %}
  }
  const client = new FhirClient(signedIn.aud, auth.tokenSource(signedIn.token));
{%- else if p.backend %}
  const client = new FhirClient(config.fhirBaseUrl, await serverToken());
{%- else %}
  const client = new FhirClient(config.fhirBaseUrl, auth.noToken);
{%- endif %}
  void randomBytes;
{%- if p.analytics %}
  if (url.pathname === '/' || url.pathname === '/totals') return json(response, 200, await app.totals(client, 5_000));
{%- else %}
  const match = /^\/patients\/([^/]+)(?:\/([A-Za-z]+))?$/.exec(url.pathname);
  if (match?.[1] && !match[2] && request.method === 'GET') {
    const record = await app.patientRecord(client, decodeURIComponent(match[1]));
    return json(response, 200, { name: app.displayName(record.patient), ...record });
  }
{%- if p.provider %}
  if (match?.[1] && match[2] && request.method === 'POST') {
    const body = (await readBody(request)) as { text?: string };
    if (!app.WRITABLE.includes(match[2]) || !body.text) return json(response, 400, { error: 'POST {text} to a writable type', writable: app.WRITABLE });
    return json(response, 201, await app.record(client, match[2], decodeURIComponent(match[1]), body.text));
  }
{%- endif %}
  if (url.pathname === '/') {
    return json(response, 200, { app: '{{ p.title }}', try: '/patients/<patient id>', resources: app.RESOURCES });
  }
{%- endif %}
  void readBody;
  json(response, 404, { error: `no route for ${request.method} ${url.pathname}` });
}

createServer((request, response) => {
  handle(request, response).catch((error: unknown) => {
    const status = error instanceof FhirError ? (error.status === 404 ? 404 : 502) : 500;
    json(response, status, { error: error instanceof Error ? error.message : String(error) });
  });
}).listen(config.port, () => {
  console.log(`{{ p.title }} on http://localhost:${config.port}/ (FHIR server: ${config.fhirBaseUrl})`);
});
