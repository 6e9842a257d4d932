// A small FHIR R4 REST client: read, search (following each Bundle's `next` link), and create.

export interface Resource {
  resourceType: string;
  id?: string;
  [element: string]: unknown;
}

export interface Bundle extends Resource {
  resourceType: 'Bundle';
  total?: number;
  link?: { relation: string; url: string }[];
  entry?: { fullUrl?: string; resource?: Resource; search?: { mode?: string } }[];
}

/** A request the server refused; `outcome` is its OperationOutcome, when it sent one. */
export class FhirError extends Error {
  constructor(message: string, readonly status: number, readonly outcome?: unknown) {
    super(message);
    this.name = 'FhirError';
  }
}

/** Answers the access token for the next request (or nothing, for an open server). */
export type TokenSource = () => Promise<string | undefined>;

export class FhirClient {
  private readonly base: string;

  constructor(baseUrl: string, private readonly token: TokenSource = async () => undefined) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  private async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('accept', 'application/fhir+json');
    const token = await this.token();
    if (token) headers.set('authorization', `Bearer ${token}`);
    const response = await fetch(url, { ...init, headers });
    if (!response.ok) {
      let outcome: unknown;
      try {
        outcome = await response.json();
      } catch {
        outcome = undefined;
      }
      throw new FhirError(`${init.method ?? 'GET'} ${url} failed: HTTP ${response.status}`, response.status, outcome);
    }
    return response;
  }

  /** `GET [base]/[type]/[id]` */
  async read<T extends Resource = Resource>(type: string, id: string): Promise<T> {
    const response = await this.request(`${this.base}/${type}/${encodeURIComponent(id)}`);
    return (await response.json()) as T;
  }

  /** `GET [base]/[type]?params`, every page: yields each matching resource. */
  async *search<T extends Resource = Resource>(type: string, params: Record<string, string> = {}): AsyncGenerator<T> {
    let url: string | undefined = `${this.base}/${type}?${new URLSearchParams(params)}`;
    while (url) {
      const bundle = (await (await this.request(url)).json()) as Bundle;
      for (const entry of bundle.entry ?? []) {
        if (entry.resource?.resourceType === type && entry.search?.mode !== 'include') yield entry.resource as T;
      }
      url = bundle.link?.find((link) => link.relation === 'next')?.url;
    }
  }

  /** Every match, up to `limit`. */
  async searchAll<T extends Resource = Resource>(type: string, params: Record<string, string> = {}, limit = 1000): Promise<T[]> {
    const found: T[] = [];
    for await (const resource of this.search<T>(type, params)) {
      found.push(resource);
      if (found.length >= limit) break;
    }
    return found;
  }

  /** `POST [base]/[type]`: answers the created resource (its id from the body or the Location header). */
  async create<T extends Resource>(resource: T): Promise<T & { id?: string }> {
    const response = await this.request(`${this.base}/${resource.resourceType}`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(resource),
    });
    const text = await response.text();
    if (text) return JSON.parse(text) as T;
    const location = response.headers.get('location') ?? '';
    const id = location.split('/_history')[0]?.split('/').pop();
    return { ...resource, id };
  }
}
