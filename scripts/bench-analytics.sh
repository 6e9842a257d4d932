#!/usr/bin/env bash
# The analytics benchmark (called by scripts/bench.sh against its running platform, or alone against
# any `make dev`: PORT=8787 PERSIST_DIR=.wrangler/state scripts/bench-analytics.sh):
#   1. loads one million synthetic browser events over the last 30 days into the local D1
#      (2,000 people, 200 of them in the demo organisation; page views, tool use, funnel steps);
#   2. times the rollup of those 30 days (the 5-minute cron's job);
#   3. each report (platform scope as staff, organisation scope as the enterprise owner) and each
#      funnel over 30 days: 20 sequential requests, median and p95;
#   4. the ingestion rate: wrk POSTing 10-event batches to /api/events for 10 s, the rate accepted
#      and the rate written to D1 (through the events queue).
# Re-runnable: it removes its own events (session ids bench-*) and the rollups first.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${PORT:-8787}"
STATE_DIR="${PERSIST_DIR:-.wrangler/state}"
BASE="http://127.0.0.1:$PORT"
EVENTS="${BENCH_EVENTS:-1000000}"
d1() { CI=true wrangler d1 execute fhir-iq --local -c wrangler.toml --persist-to "$STATE_DIR" "$@" >/dev/null; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
summarize() {
  sort -k2 -n | awk '{ codes[$1]++; t[NR] = $2 * 1000 } END {
    printf "median %6.1f ms, p95 %6.1f ms;", t[int(NR / 2) + 1], t[int(NR * 0.95)]
    for (c in codes) printf " %s x%d", c, codes[c]; print "" }'
}
signin() {
  curl -s -D - -o /dev/null -H 'content-type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" "$BASE/api/auth/signin" \
    | grep -i '^set-cookie:' | sed -E 's/^[Ss]et-[Cc]ookie: ([^;]*).*/\1/' | paste -sd ';' -   # every cookie, one header
}

echo "== analytics: $EVENTS synthetic events over 30 days"
start=$(date +%s%N)
d1 --command "DELETE FROM analytics_events WHERE session_id LIKE 'bench-%'; DELETE FROM analytics_daily;
  DELETE FROM analytics_daily_pages; DELETE FROM analytics_daily_ai; DELETE FROM analytics_rollup_state;
  DELETE FROM users WHERE id LIKE 'bench-user-%'"
# 200 of the 2,000 people are members of the demo organisation (the enterprise owner's scope).
d1 --command "INSERT INTO users (id, email, password_hash, org_id, created_at, password_changed_at)
  WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199)
  SELECT 'bench-user-' || i, 'bench-' || i || '@bench.test', 'x', 'demo-org', 0, 0 FROM n"
now=$(( $(date +%s) * 1000 ))
d1 --command "INSERT INTO analytics_events (event_type, properties, page, session_id, visitor, user_id, created_at)
  WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $EVENTS - 1)
  SELECT CASE WHEN i % 10 < 6 THEN 'page.view'
              ELSE (SELECT value FROM json_each('[\"assistant.asked\",\"builder.previewed\",\"builder.generated\",\"github.pushed\",\"checkout.started\",\"subscription.started\",\"course.enrolled\",\"lesson.completed\",\"quiz.submitted\",\"tool.opened\"]') WHERE key = (i / 10) % 10) END,
         '{}',
         (SELECT value FROM json_each('[\"/\",\"/pricing\",\"/tools/fhir-builder\",\"/chat\",\"/courses/fhir-fundamentals\",\"/blog\",\"/tools\",\"/fhir/R4/Patient\"]') WHERE key = (i * 7) % 8),
         'bench-' || ((i / 25) % 40000), 'v' || ((i / 25) % 40000) || '-' || ((i * 13) % 30),
         CASE WHEN i % 3 = 0 THEN NULL ELSE 'bench-user-' || ((i / 25) % 2000) END,
         $now - (i % 30) * 86400000 - (i % 86000) * 1000
  FROM n"
echo "loaded in $(ms "$start") ms"

echo "== rollup of 30 days (the cron's job, first run)"
start=$(date +%s%N)
curl -s -o /dev/null --max-time 600 "$BASE/__scheduled?cron=*/5+*+*+*+*"
echo "rolled up in $(ms "$start") ms"
start=$(date +%s%N)
curl -s -o /dev/null --max-time 600 "$BASE/__scheduled?cron=*/5+*+*+*+*"
echo "a later run (yesterday and today again) in $(ms "$start") ms"

admin=$(signin admin@demo.fhiriq.test fhiriq-demo-admin)
owner=$(signin enterprise@demo.fhiriq.test fhiriq-demo-enterprise)
end=$(date -u +%F)
begin=$(date -u -d '29 days ago' +%F)
echo "== reports and funnels, $begin to $end, 20 sequential requests each"
for who in admin owner; do
  cookie=${!who}
  for path in reports/user-engagement reports/feature-usage reports/ai-usage reports/course-progress reports/tool-usage \
              funnels/pricing-to-subscription funnels/builder-to-github funnels/course-completion; do
    printf '%-6s %-38s ' "$who" "$path"
    for i in $(seq 20); do
      curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "cookie: $cookie" "$BASE/api/analytics/$path?start=$begin&end=$end"
    done | summarize
  done
done

echo "== ingestion: wrk -t1 -c10 -d10s, POST /api/events with 10 events a batch, from 10,000 addresses"
# Accepted: wrk's rate of 202s. Written: the rows that reach D1 (through the events queue, when the
# platform has one), counted in the local D1's SQLite file every 100 ms until no more arrive; the rate
# is rows / (last row's arrival - wrk's start).
lua=$(mktemp --suffix .lua)
cat >"$lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["user-agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36"
local events = {}
for i = 1, 10 do events[i] = '{"type":"page.view","page":"/pricing","sessionId":"bench-wrk-0001"}' end
wrk.body = '{"events":[' .. table.concat(events, ",") .. ']}'
local n = 0
request = function()
  n = n + 1
  -- Many visitors, each well within the per-address limit.
  local k = n % 10000
  -- wrk.format takes the headers whole: the defaults (Host, content type) are copied in.
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["cf-connecting-ip"] = string.format("10.0.%d.%d", math.floor(k / 256), k % 256)
  return wrk.format(nil, nil, headers)
end
LUA
count_rows() {
  python3 - "$STATE_DIR" <<'PY'
import glob, sqlite3, sys
for path in glob.glob(f"{sys.argv[1]}/v3/d1/**/*.sqlite", recursive=True):
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        print(db.execute("SELECT COUNT(*) FROM analytics_events WHERE session_id = 'bench-wrk-0001'").fetchone()[0])
        break
    except sqlite3.Error:
        continue
PY
}
before=$(count_rows)
start=$(date +%s%N)
out=$(wrk -t1 -c10 -d10s --latency -s "$lua" "$BASE/api/events")
rm -f "$lua"
last=$(count_rows) last_change=$(date +%s%N) quiet=0
while [ "$quiet" -lt 30 ]; do   # 3 s without a new row
  sleep 0.1
  now=$(count_rows)
  if [ "$now" != "$last" ]; then last=$now last_change=$(date +%s%N) quiet=0; else quiet=$((quiet + 1)); fi
done
rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
p50=$(awk '$1=="50%" {print $2}' <<<"$out")
p99=$(awk '$1=="99%" {print $2}' <<<"$out")
non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
written=$(( last - before ))
printf 'accepted: %s batches/s (%s events/s), p50 %s, p99 %s %s\n' "$rps" "$(awk -v r="$rps" 'BEGIN {printf "%.0f", r * 10}')" \
  "$p50" "$p99" "${non2xx:+($non2xx non-2xx)}"
printf 'written:  %s events in %s ms after wrk started: %s events/s\n' "$written" "$(( (last_change - start) / 1000000 ))" \
  "$(awk -v w="$written" -v t="$(( last_change - start ))" 'BEGIN {printf "%.0f", w / (t / 1e9)}')"
