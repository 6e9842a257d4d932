#!/usr/bin/env bash
# Serves the whole platform on http://127.0.0.1:${PORT:-8787}: the site worker and every function
# worker in one wrangler process, one local D1 and KV under .wrangler/state, crons fireable with
# GET /__scheduled?cron=<expr>. Expects `make build` and the schema to have run (make dev does both).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${PORT:-8787}"
# One .dev.vars for the whole platform: wrangler reads it beside each worker's config, so copy it there.
if [ -f .dev.vars ]; then
  for w in $WORKERS; do [ "$w" = site ] || cp .dev.vars "functions/$w/.dev.vars"; done
fi
echo "FHIR IQ on http://127.0.0.1:$PORT  (status: /status, health: /_functions/health)"
# shellcheck disable=SC2086
# DEV_VARS="NAME=value ..." overrides site-worker variables for this run (make bench raises a rate limit).
extra=()
for pair in ${DEV_VARS:-}; do extra+=(--var "${pair%%=*}:${pair#*=}"); done
exec wrangler dev $WRANGLER_CONFIGS "${extra[@]}" --ip 127.0.0.1 --port "$PORT" --inspector-port "${INSPECTOR_PORT:-0}" \
  --persist-to "${PERSIST_DIR:-.wrangler/state}" --test-scheduled --show-interactive-dev-session=false
