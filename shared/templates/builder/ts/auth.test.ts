import { test } from 'node:test';
import assert from 'node:assert/strict';
{%- if p.smart %}
import { createHash } from 'node:crypto';
import * as auth from '../src/auth.js';
import { startFakeFhir } from './fake-fhir.js';

test('PKCE: the challenge is the base64url SHA-256 of the verifier', () => {
  const { verifier, challenge } = auth.pkce();
  assert.ok(verifier.length >= 43);
  assert.equal(challenge, createHash('sha256').update(verifier).digest('base64url'));
});

test('discovery, the authorize URL and the code exchange', async () => {
  const fhir = await startFakeFhir();
  try {
    const smart = await auth.discover(fhir.url);
    assert.equal(smart.token_endpoint, `${fhir.url}/auth/token`);
    const url = new URL(
      auth.authorizeUrl(smart, {
        clientId: 'my-app',
        redirectUri: 'http://localhost:3000/callback',
        scope: '{{ p.scope }}',
        state: 'state-1',
        challenge: 'challenge-1',
        aud: fhir.url,
{%- if p.ehr %}
        launch: 'launch-token-1',
{%- endif %}
      }),
    );
    assert.equal(url.origin + url.pathname, `${fhir.url}/auth/authorize`);
    assert.equal(url.searchParams.get('response_type'), 'code');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('aud'), fhir.url);
{%- if p.ehr %}
    assert.equal(url.searchParams.get('launch'), 'launch-token-1');
{%- endif %}
    const token = await auth.exchangeCode(smart, { code: 'code-1', redirectUri: 'http://localhost:3000/callback', clientId: 'my-app', verifier: 'verifier-1' });
    assert.equal(token.access_token, 'test-access-token');
    const sent = new URLSearchParams(fhir.requests.at(-1)?.body);
    assert.equal(sent.get('grant_type'), 'authorization_code');
    assert.equal(sent.get('code_verifier'), 'verifier-1');
  } finally {
    await fhir.close();
  }
});
{%- endif %}
{%- if p.backend %}
import { generateKeyPairSync, verify } from 'node:crypto';
import * as auth from '../src/auth.js';
import { startFakeFhir } from './fake-fhir.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

test('the client assertion is an RS384 JWT the public key verifies, with the claims SMART asks for', () => {
  const jwt = auth.clientAssertion({ clientId: 'svc', tokenUrl: 'https://auth.example/token', privateKeyPem, keyId: 'k1', scope: 'system/*.read' }, 1_700_000_000);
  const [header, claims, signature] = jwt.split('.');
  assert.ok(header && claims && signature);
  assert.ok(verify('sha384', Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature, 'base64url')));
  assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url').toString()), { alg: 'RS384', typ: 'JWT', kid: 'k1' });
  const body = JSON.parse(Buffer.from(claims, 'base64url').toString());
  assert.equal(body.iss, 'svc');
  assert.equal(body.sub, 'svc');
  assert.equal(body.aud, 'https://auth.example/token');
  assert.equal(body.exp, 1_700_000_300);
  assert.ok(body.jti);
});

test('the token is requested with client_credentials and reused until it nears expiry', async () => {
  const fhir = await startFakeFhir();
  try {
    const tokenUrl = await auth.discoverTokenUrl(fhir.url);
    const source = auth.tokenSource({ clientId: 'svc', tokenUrl, privateKeyPem, scope: '{{ p.scope }}' });
    assert.equal(await source(), 'test-access-token');
    assert.equal(await source(), 'test-access-token');
    const tokenRequests = fhir.requests.filter((r) => r.url === '/auth/token');
    assert.equal(tokenRequests.length, 1, 'cached');
    const sent = new URLSearchParams(tokenRequests[0]?.body);
    assert.equal(sent.get('grant_type'), 'client_credentials');
    assert.equal(sent.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  } finally {
    await fhir.close();
  }
});
{%- endif %}
{%- if p.none %}
import * as auth from '../src/auth.js';

test('an open server gets no token', async () => {
  assert.equal(await auth.noToken(), undefined);
});
{%- endif %}
