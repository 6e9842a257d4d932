#!/usr/bin/env bash
# Seeds the demo accounts (README: Demo accounts) into the LOCAL D1 under the given persistence
# directory. Development only: it passes --local, and production is never seeded.
# Usage: scripts/seed-demo.sh [PERSIST_DIR]   (default .wrangler/state)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
sql=$(mktemp --suffix=.sql)
trap 'rm -f "$sql"' EXIT
python3 scripts/seed_demo.py >"$sql"
CI=true wrangler d1 execute fhir-iq --local -c wrangler.toml --persist-to "${1:-.wrangler/state}" --file "$sql" >/dev/null
