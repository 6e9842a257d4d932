#!/usr/bin/env bash
# Benchmarks, measured side by side in one run on this machine (rerun with `make bench`):
#   1. each worker's wasm size, raw and gzipped (printed by the build);
#   2. time from `make dev` start (already set up and built) to the first 200 from /_functions/health;
#   3. FHIR IQ side by side with a reference (scripts/bench/reference: plain JavaScript serving the
#      same site/ as static assets, and a health check of one D1 read and a KV round trip), started in
#      the same run: a fingerprinted stylesheet, the home page and health under wrk, and FHIR IQ's
#      ratio to the reference for each (the figure to compare across machines); then FHIR IQ alone:
#      a function's liveness (one service-binding hop), /status (D1 read + server rendering) and
#      /api/search (BM25 over the whole R4 knowledge base). wrk: 1 thread, 10 connections, 10 s;
#   4. the assistant's retrieval-only answer (no model configured): 50 sequential questions, median
#      and p95 latency; content pages served from the KV cache against rendered (a miss);
#   5. analytics (scripts/bench-analytics.sh): one million synthetic events loaded into the local D1,
#      the rollup, each report and funnel (target: under 200 ms each), and the ingestion rate;
#   6. retrieval quality on the labelled question set (resource-level recall@1, recall@5, MRR@10, on
#      the tuning and the held-out halves; `fhir-iq-kb eval`), for the embedded default and, with the
#      local MiniLM provider (opt-in), the vectors alone and the hybrid;
#   7. Lighthouse 12.2.3 (scripts/bench/lighthouse.py) on the main pages: mobile performance score and
#      CLS, unthrottled LCP, bytes and requests, each next to the previous run's; and the reference's
#      home page, the floor this machine's Chromium sets.
# It keeps its own local state in target/bench-state (the knowledge base is loaded once, then kept).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
PORT="${BENCH_PORT:-8797}"
REF_PORT="${BENCH_REFERENCE_PORT:-8798}"
STATE=$(mktemp -d)
REF_PID=
trap 'kill -- -$DEV_PID 2>/dev/null || true; [ -z "$REF_PID" ] || kill -- -$REF_PID 2>/dev/null || true; rm -rf "$STATE"' EXIT

echo "== wasm sizes"
for w in $WORKERS; do
  wasm="functions/$w/build/index_bg.wasm"
  printf '%-24s %8d bytes, %7d gzipped\n' "$w" "$(stat -c %s "$wasm")" "$(gzip -9c "$wasm" | wc -c)"
done

echo "== make dev: start to first 200 (workers already built)"
scripts/build.sh >/dev/null
start=$(date +%s%N)
BENCH_STATE="$ROOT/target/bench-state"
setsid env PORT="$PORT" INSPECTOR_PORT=0 WRANGLER_REGISTRY_PATH="$STATE/registry" PERSIST_DIR="$BENCH_STATE" \
  make --no-print-directory dev >"$STATE/dev.log" 2>&1 &
DEV_PID=$!
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/_functions/health")" = 200 ]; do
  sleep 0.05
  if (( ($(date +%s%N) - start) / 1000000 > 300000 )); then cat "$STATE/dev.log"; echo "no 200 within 300 s"; exit 1; fi
done
echo "first 200 after $(( ($(date +%s%N) - start) / 1000000 )) ms"
curl -s "http://127.0.0.1:$PORT/__scheduled?cron=*/5+*+*+*+*" >/dev/null   # history for /status

echo "== the reference: plain JavaScript + static assets (scripts/bench/reference)"
REF="scripts/bench/reference/wrangler.toml"
CI=true wrangler d1 execute fhir-iq --local -c "$REF" --persist-to "$STATE/reference" --command \
  "CREATE TABLE schema_version (id INTEGER PRIMARY KEY, version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1, 1)" >/dev/null
setsid wrangler dev -c "$REF" --ip 127.0.0.1 --port "$REF_PORT" --inspector-port 0 --persist-to "$STATE/reference" \
  --show-interactive-dev-session=false >"$STATE/reference.log" 2>&1 &
REF_PID=$!
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REF_PORT/_functions/health")" = 200 ]; do
  sleep 0.2
  kill -0 "$REF_PID" 2>/dev/null || { cat "$STATE/reference.log"; echo "the reference did not start"; exit 1; }
done

# wrk's figures for one URL: "<req/s> <p50> <p99> <non-2xx count or empty>".
measure() {
  local out
  out=$(wrk -t1 -c10 -d10s --latency "$1")
  printf '%s %s %s %s\n' "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1=="50%" {print $2}' <<<"$out")" \
    "$(awk '$1=="99%" {print $2}' <<<"$out")" "$(awk '/Non-2xx/ {print $5}' <<<"$out")"
}
# The fingerprinted stylesheet (or the plain one, for a checkout from before fingerprinting).
css=$(python3 -c 'import json; print(json.load(open("shared/data/assets.json"))["/css/main.css"])' 2>/dev/null || echo /css/main.css)
echo "== wrk -t1 -c10 -d10s: FHIR IQ and the reference, one after the other per path"
printf '%-44s %22s %22s %7s\n' path "FHIR IQ req/s (p50)" "reference req/s (p50)" ratio
for path in "$css" / /_functions/health; do
  read -r ours ours_p50 _ ours_bad < <(measure "http://127.0.0.1:$PORT$path")
  read -r ref ref_p50 _ ref_bad < <(measure "http://127.0.0.1:$REF_PORT$path")
  printf '%-44s %22s %22s %7s %s\n' "$path" "$ours ($ours_p50)" "$ref ($ref_p50)" \
    "$(awk -v a="$ours" -v b="$ref" 'BEGIN { printf "%.2f", a / b }')" \
    "${ours_bad:+(FHIR IQ: $ours_bad non-2xx)}${ref_bad:+(reference: $ref_bad non-2xx)}"
done
echo "== wrk -t1 -c10 -d10s: FHIR IQ alone"
printf '%-40s %10s %10s %10s\n' endpoint req/s p50 p99
for path in /_functions/processAIQuery/health /status "/api/search?q=patient+date+of+birth"; do
  read -r rps p50 p99 non2xx < <(measure "http://127.0.0.1:$PORT$path")
  printf '%-40s %10s %10s %10s %s\n' "$path" "$rps" "$p50" "$p99" "${non2xx:+($non2xx non-2xx)}"
done

# Median and p95 of 50 sequential requests (no queueing), from curl's lines of "<status> <seconds>".
summarize() {
  sort -k2 -n | awk '{ codes[$1]++; t[NR] = $2 * 1000 } END {
    printf "median %.1f ms, p95 %.1f ms over %d requests; statuses:", t[int(NR / 2) + 1], t[int(NR * 0.95)], NR
    for (c in codes) printf " %s x%d", c, codes[c]; print "" }'
}

echo "== content pages: KV cache hit against a miss (D1 queries, rendering, KV write), 50 sequential each"
curl -s -o /dev/null "http://127.0.0.1:$PORT/blog/transaction-vs-batch-bundles"   # stored in KV
printf '%-58s ' "/blog/transaction-vs-batch-bundles (X-Cache: HIT)"
for i in $(seq 50); do
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$PORT/blog/transaction-vs-batch-bundles"
done | summarize
# Each tag value is a new cache key, so every request renders; the post list is rendered empty.
printf '%-58s ' "/blog?tag=<new each time> (X-Cache: MISS)"
for i in $(seq 50); do
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$PORT/blog?tag=bench-$RANDOM-$i"
done | summarize
printf '%-58s ' "/courses/fhir-fundamentals (X-Cache: HIT after the first)"
for i in $(seq 50); do
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$PORT/courses/fhir-fundamentals"
done | summarize

echo "== /api/search, the first 50 questions of the labelled set, sequentially"
grep -v '^#' shared/data/kb-eval.tsv | head -50 | cut -f1 \
  | python3 -c 'import sys, urllib.parse; [print(urllib.parse.quote_plus(l.strip())) for l in sys.stdin]' \
  | while read -r q; do
      curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$PORT/api/search?q=$q"
    done | summarize

echo "== processAIQuery, retrieval-only, 50 sequential questions"
CI=true wrangler d1 execute fhir-iq --local -c wrangler.toml --persist-to "$BENCH_STATE" \
  --command "DELETE FROM chat_logs WHERE user_id = 'demo-pro'" >/dev/null   # today's quota starts afresh
cookie=$(curl -s -D - -o /dev/null -H 'content-type: application/json' \
  -d '{"email":"pro@demo.fhiriq.test","password":"fhiriq-demo-pro"}' "http://127.0.0.1:$PORT/api/auth/signin" \
  | grep -i '^set-cookie:' | sed -E 's/^[Ss]et-[Cc]ookie: ([^;]*).*/\1/' | paste -sd ';' -)   # every cookie, one header
for i in $(seq 50); do
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "cookie: $cookie" -H 'content-type: application/json' \
    -d '{"message":"Which resource should I use to store a patient'"'"'s allergies?"}' "http://127.0.0.1:$PORT/_functions/processAIQuery"
done | summarize

PORT="$PORT" PERSIST_DIR="$BENCH_STATE" scripts/bench-analytics.sh

echo "== knowledge base retrieval quality (shared/data/kb-eval.tsv: the tuning half and the held-out half)"
cargo build -q --release -p fhir-iq-kb
target/release/fhir-iq-kb eval
# The local MiniLM provider (scripts/embeddings: all-MiniLM-L6-v2 in numpy behind the OpenAI embeddings
# API, a 200 MB venv) is opt-in: BENCH_MINILM=1, or once its venv exists. Chunk vectors are cached in
# target/kb-vectors/ (the first run embeds about 6,300 chunks: several minutes on 2 cores).
if [ -n "${BENCH_MINILM:-}" ] || [ -x target/minilm-venv/bin/python ]; then
  MINILM_PORT="${BENCH_MINILM_PORT:-8799}"
  "$(scripts/embeddings/setup.sh)" scripts/embeddings/server.py --port "$MINILM_PORT" 2>/dev/null &
  MINILM_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$MINILM_PORT/health" >/dev/null && break; sleep 0.2; done
  EMBEDDING_PROVIDER=openai EMBEDDING_BASE_URL="http://127.0.0.1:$MINILM_PORT" EMBEDDING_MODEL=all-MiniLM-L6-v2 \
    EMBEDDING_API_KEY=local target/release/fhir-iq-kb eval | grep -v '^  BM25 search natively'
  kill "$MINILM_PID"
else
  echo "(vectors and hybrid: BENCH_MINILM=1 make bench runs the local MiniLM provider)"
fi

echo "== Lighthouse 12.2.3 (Debian's Chromium)"
[ -x scripts/bench/node_modules/.bin/lighthouse ] || npm ci --prefix scripts/bench --no-audit --no-fund >/dev/null
REFERENCE_URL="http://127.0.0.1:$REF_PORT" python3 scripts/bench/lighthouse.py "http://127.0.0.1:$PORT"
