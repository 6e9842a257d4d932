#!/usr/bin/env bash
# Validates content/ (docs/content.md) and loads it into D1: tools, courses with lessons, quizzes and
# resources, posts and authors, plus their knowledge-base chunks; bumps the page-cache generation.
# Usage: scripts/content.sh [--persist-to DIR]        (default: the local D1 of make dev)
#        scripts/content.sh --remote --env production (deploys)
#        scripts/content.sh --check                   (validate only)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
cargo run -q -p fhir-iq-kb -- content "$@"
