// Configuration from the environment (see .env.example). Nothing secret is written in the code.

export interface Config {
  /** The FHIR R4 server's base URL. */
  fhirBaseUrl: string;
  /** The port this app listens on. */
  port: number;
{%- if p.smart %}
  /** The client id registered with the authorization server. */
  clientId: string;
  /** Where the authorization server sends the user back: this app's /callback. */
  redirectUri: string;
{%- endif %}
{%- if p.backend %}
  /** The client id registered for SMART Backend Services. */
  clientId: string;
  /** The private key (PEM, RS384) whose public half the server has for this client. */
  privateKeyPem: string;
  /** The key id (`kid`) the server knows the public key by, if it asks for one. */
  keyId?: string;
{%- endif %}
  /** The SMART scopes to ask for. */
  scope: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set (see .env.example)`);
    return value;
  };
  void required;
  return {
    fhirBaseUrl: env.FHIR_BASE_URL ?? '{{ p.base_url }}',
    port: Number(env.PORT ?? 3000),
{%- if p.smart %}
    clientId: required('CLIENT_ID'),
    redirectUri: env.REDIRECT_URI ?? `http://localhost:${env.PORT ?? 3000}/callback`,
{%- endif %}
{%- if p.backend %}
    clientId: required('CLIENT_ID'),
    privateKeyPem: required('PRIVATE_KEY_PEM').replace(/\\n/g, '\n'),
    keyId: env.KEY_ID,
{%- endif %}
    scope: env.SCOPE ?? '{{ p.scope }}',
  };
}
