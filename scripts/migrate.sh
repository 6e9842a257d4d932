#!/usr/bin/env bash
# Applies the versioned migrations (migrations/<database>/NNNN_*.sql) to both D1 databases with
# `wrangler d1 migrations apply`, which records each in the database's d1_migrations table and applies
# only what is new. Safe to rerun; `make dev` on an existing local state upgrades it in place.
# Usage: scripts/migrate.sh [PERSIST_DIR]                  local (default .wrangler/state)
#        scripts/migrate.sh --remote -c CONFIG --env ENV   a deployed environment (scripts/deploy.sh)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
if [ "${1:-}" = "--remote" ]; then
  target=("$@")
else
  target=(--local -c wrangler.toml --persist-to "${1:-.wrangler/state}")
fi
# By binding, not name: a binding resolves in every environment of the config (staging's database is
# fhir-iq-staging), where a name wrangler cannot find in the config is looked up in the account.
for database in DB KB; do
  started=$(date +%s%3N)
  if ! out=$(CI=true wrangler d1 migrations apply "$database" "${target[@]}" 2>&1); then
    echo "$out" >&2
    echo "migrations failed for $database" >&2
    exit 1
  fi
  # wrangler prints a table of the migrations it applies (several times, as each completes).
  applied=$({ grep -o '[0-9]\{4\}_[A-Za-z0-9_-]*\.sql' <<<"$out" || true; } | sort -u | wc -l)
  printf '{"event":"migrations.applied","database":"%s","applied":%d,"duration_ms":%d}\n' \
    "$database" "$applied" "$(( $(date +%s%3N) - started ))"
done
