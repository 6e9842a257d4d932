#!/usr/bin/env bash
# Builds or refreshes the FHIR knowledge base in D1 (incremental by content hash; a no-op when up to
# date). Usage: scripts/kb.sh [--persist-to DIR]   (default: the local D1 of make dev)
#               scripts/kb.sh --remote --env production
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
# The embedding configuration (EMBEDDING_*) may live in .dev.vars, as the workers' does.
if [ -f .dev.vars ] && [ -z "${EMBEDDING_PROVIDER:-}" ]; then
  set -a
  # shellcheck disable=SC1091
  source .dev.vars
  set +a
fi
cargo run -q -p fhir-iq-kb -- "$@"
