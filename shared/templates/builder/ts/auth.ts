// Authorization: {{ p.auth_title }}.
{%- if p.none %}
// The configured server is open (a public test server), so requests carry no token. To use a secured
// server, regenerate the project with a SMART option.

import type { TokenSource } from './fhir.js';

export const noToken: TokenSource = async () => undefined;
{%- endif %}
{%- if p.smart %}
// The SMART App Launch (authorization code with PKCE): discover the server's endpoints, send the user
// to authorize, exchange the code for a token.
{%- if p.ehr %} The EHR starts the launch: it opens /launch with `iss` (the FHIR server) and `launch`
// (an opaque context handle) which go back into the authorization request.
{%- endif %}

import { createHash, randomBytes } from 'node:crypto';
import type { TokenSource } from './fhir.js';

export interface SmartConfiguration {
  authorization_endpoint: string;
  token_endpoint: string;
  capabilities?: string[];
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
  /** The patient in context, when the launch has one. */
  patient?: string;
  refresh_token?: string;
}

/** `GET [base]/.well-known/smart-configuration` */
export async function discover(fhirBaseUrl: string): Promise<SmartConfiguration> {
  const response = await fetch(`${fhirBaseUrl.replace(/\/+$/, '')}/.well-known/smart-configuration`, {
    headers: { accept: 'application/json' },
  });
  if (!response.ok) throw new Error(`SMART discovery failed: HTTP ${response.status}`);
  return (await response.json()) as SmartConfiguration;
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** A fresh PKCE pair: the challenge is base64url(SHA-256(verifier)), method S256. */
export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface AuthorizeOptions {
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string;
  challenge: string;
  /** The FHIR server the token is for. */
  aud: string;
  /** The EHR's launch handle (EHR launch only). */
  launch?: string;
}

export function authorizeUrl(smart: SmartConfiguration, options: AuthorizeOptions): string {
  const url = new URL(smart.authorization_endpoint);
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
    scope: options.scope,
    state: options.state,
    aud: options.aud,
    code_challenge: options.challenge,
    code_challenge_method: 'S256',
  });
  if (options.launch) params.set('launch', options.launch);
  url.search = params.toString();
  return url.toString();
}

export async function exchangeCode(
  smart: SmartConfiguration,
  options: { code: string; redirectUri: string; clientId: string; verifier: string },
): Promise<TokenResponse> {
  const response = await fetch(smart.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: options.code,
      redirect_uri: options.redirectUri,
      client_id: options.clientId,
      code_verifier: options.verifier,
    }),
  });
  if (!response.ok) throw new Error(`the token request failed: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as TokenResponse;
}

export function tokenSource(token: TokenResponse): TokenSource {
  return async () => token.access_token;
}

/** A random `state` for each authorization request (checked on the way back). */
export function newState(): string {
  return randomBytes(16).toString('base64url');
}
{%- endif %}
{%- if p.backend %}
// SMART Backend Services: the app authenticates as itself with a signed JWT (private_key_jwt, RS384)
// and the client_credentials grant. No user is involved.

import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import type { TokenSource } from './fhir.js';

export interface BackendOptions {
  clientId: string;
  tokenUrl: string;
  privateKeyPem: string;
  keyId?: string;
  scope: string;
}

const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The client assertion: a JWT signed with RS384, valid for five minutes. */
export function clientAssertion(options: BackendOptions, now = Math.floor(Date.now() / 1000)): string {
  const header = { alg: 'RS384', typ: 'JWT', ...(options.keyId ? { kid: options.keyId } : {}) };
  const claims = { iss: options.clientId, sub: options.clientId, aud: options.tokenUrl, exp: now + 300, jti: randomUUID() };
  const input = `${base64url(header)}.${base64url(claims)}`;
  const signature = sign('sha384', Buffer.from(input), createPrivateKey(options.privateKeyPem));
  return `${input}.${signature.toString('base64url')}`;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
}

export async function requestToken(options: BackendOptions): Promise<TokenResponse> {
  const response = await fetch(options.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: options.scope,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion(options),
    }),
  });
  if (!response.ok) throw new Error(`the token request failed: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as TokenResponse;
}

/** `GET [base]/.well-known/smart-configuration` for the token endpoint. */
export async function discoverTokenUrl(fhirBaseUrl: string): Promise<string> {
  const response = await fetch(`${fhirBaseUrl.replace(/\/+$/, '')}/.well-known/smart-configuration`, {
    headers: { accept: 'application/json' },
  });
  if (!response.ok) throw new Error(`SMART discovery failed: HTTP ${response.status}`);
  const configuration = (await response.json()) as { token_endpoint: string };
  return configuration.token_endpoint;
}

/** Tokens on demand, reused until a minute before they expire. */
export function tokenSource(options: BackendOptions): TokenSource {
  let cached: { token: string; until: number } | undefined;
  return async () => {
    if (!cached || Date.now() >= cached.until) {
      const token = await requestToken(options);
      cached = { token: token.access_token, until: Date.now() + ((token.expires_in ?? 300) - 60) * 1000 };
    }
    return cached.token;
  };
}
{%- endif %}
