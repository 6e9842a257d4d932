#!/usr/bin/env bash
# Applies schema.sql (idempotent) to the local D1 under the given persistence directory.
# Usage: scripts/schema.sh [PERSIST_DIR]   (default .wrangler/state, the directory `make dev` uses)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
CI=true wrangler d1 execute fhir-iq --local -c wrangler.toml --persist-to "${1:-.wrangler/state}" --file schema.sql >/dev/null
