// Fakes of the Workers AI and Vectorize bindings for the integration tests (see wrangler.toml).
// FakeAi forwards each run to the test's HTTP fake (FAKE_AI_URL), which records the input and
// answers the model's output. FakeVectorize keeps vectors in memory and enforces the limits the
// real service enforces: fixed dimensions, ids of at most 64 bytes, topK of at most 20 when
// metadata is returned, 1,000 vectors per upsert from a Worker.
import { WorkerEntrypoint } from "cloudflare:workers";

export class FakeAi extends WorkerEntrypoint {
  async run(model, input) {
    const response = await fetch(`${this.env.FAKE_AI_URL}/ai/run/${model}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(input),
    });
    if (!response.ok) {
      throw new Error(`AiError: ${response.status} ${await response.text()}`);
    }
    return response.json();
  }
}

const vectors = new Map();

function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

export class FakeVectorize extends WorkerEntrypoint {
  get dimensions() {
    return Number(this.env.VECTORIZE_DIMENSIONS);
  }

  async describe() {
    return { vectorCount: vectors.size, dimensions: this.dimensions, processedUpToDatetime: null, processedUpToMutation: null };
  }

  async upsert(batch) {
    if (!Array.isArray(batch) || batch.length > 1000) {
      throw new Error("VECTOR_UPSERT_ERROR: between 1 and 1000 vectors per call");
    }
    for (const v of batch) {
      if (typeof v.id !== "string" || new TextEncoder().encode(v.id).length > 64) {
        throw new Error(`VECTOR_UPSERT_ERROR: id longer than 64 bytes: ${v.id}`);
      }
      if (!Array.isArray(v.values) || v.values.length !== this.dimensions) {
        throw new Error(`VECTOR_UPSERT_ERROR: expected ${this.dimensions} dimensions, got ${v.values?.length}`);
      }
    }
    for (const v of batch) {
      vectors.set(v.id, { id: v.id, values: v.values, metadata: v.metadata ?? {} });
    }
    return { mutationId: crypto.randomUUID() };
  }

  async query(vector, options = {}) {
    const topK = options.topK ?? 5;
    const withMetadata = options.returnMetadata && options.returnMetadata !== "none";
    if (vector.length !== this.dimensions) {
      throw new Error(`VECTOR_QUERY_ERROR: expected ${this.dimensions} dimensions, got ${vector.length}`);
    }
    if (topK > (withMetadata || options.returnValues ? 20 : 100)) {
      throw new Error(`VECTOR_QUERY_ERROR: topK ${topK} is over the limit`);
    }
    const matches = [...vectors.values()]
      .map((v) => ({ id: v.id, score: cosine(vector, v.values), ...(withMetadata ? { metadata: v.metadata } : {}) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, topK);
    return { matches, count: matches.length };
  }
}

export default {
  async fetch() {
    return new Response("binding fakes: reached only over RPC", { status: 404 });
  },
};
