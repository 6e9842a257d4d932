// The reference `make bench` compares FHIR IQ with: the least a worker can do to serve the same site.
// Static files and pages come straight from Workers static assets (`site/`); /_functions/health does
// what FHIR IQ's health check does (one D1 read, one KV write and read) in plain JavaScript.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/_functions/health') {
      const started = Date.now();
      const row = await env.DB.prepare('SELECT version FROM schema_version WHERE id = 1').first();
      const key = `health:${crypto.randomUUID()}`;
      await env.CACHE.put(key, 'ok', { expirationTtl: 60 });
      const read = await env.CACHE.get(key);
      const ok = row !== null && read === 'ok';
      return Response.json({ ok, ms: Date.now() - started }, { status: ok ? 200 : 503 });
    }
    return env.ASSETS.fetch(request);
  },
};
