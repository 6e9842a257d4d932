#!/usr/bin/env bash
# Validates every worker's production configuration offline (`wrangler deploy --dry-run --env
# production`, which also checks the production-only Vectorize and Workers AI bindings) and reports
# each bundle's upload size. Expects `make build` to have run.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
for w in $WORKERS; do
  config=functions/$w/wrangler.toml
  [ "$w" = site ] && config=wrangler.toml
  out=$(CI=true wrangler deploy --dry-run --outdir "$ROOT/target/deploy/$w" --env production -c "$config" 2>&1) || {
    echo "$out" >&2
    echo "production configuration of $w is invalid" >&2
    exit 1
  }
  printf '%-24s %s\n' "$w" "$(grep -o 'Total Upload: .*' <<<"$out")"
done
