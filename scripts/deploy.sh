#!/usr/bin/env bash
# Deploys FHIR IQ to Cloudflare. Usage (the Makefile passes ENV and DRY_RUN through):
#   ENV=staging|production scripts/deploy.sh       deploy, in this order, each step one log line:
#     tests      `make test` passed on this commit with a clean tree (its stamp), or CI says so
#                (TESTS_PASSED_SHA = the commit, set by the workflow's deploy job after the test job)
#     build      every worker (scripts/build.sh; skips what is up to date)
#     resources  the D1 databases, KV namespace, Vectorize index, R2 bucket and queues, found by name or
#                created; ids recorded in deploy/ENV.ids
#     render     every wrangler.toml's [env.ENV] placeholders filled into wrangler.ENV.toml beside it
#     migrate    scripts/migrate.sh --remote (only the migrations not yet applied)
#     kb         the knowledge base (scripts/kb.sh --remote; embedded into Vectorize when
#                WORKERS_AI_API_TOKEN is set)
#     content    content/ (scripts/content.sh --remote)
#     deploy     the function workers, then the site worker (its service bindings need them)
#     smoke      GET $SITE_URL/_functions/health answers 200 with status "ok"
#   Every step converges, so a rerun after a failure picks up where it stopped.
#   DRY_RUN=1 [ENV=...] scripts/deploy.sh        every step that needs no Cloudflare account: build,
#     migrations and content into a scratch local D1, rendering with dummy ids (into
#     wrangler.ENV.dry-run.toml), and `wrangler deploy --dry-run` of every worker with its upload
#     size. Without ENV, both environments (the migrations and content checked once, for both).
#   scripts/deploy.sh --record-tests-passed       (the end of `make test`) writes the stamp the
#     tests step reads: this commit, if the tree is clean.
# Settings: deploy/ENV.env (account id, SITE_URL, optional id pins); the environment overrides it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

STAMP=target/tests-passed
# The embedding model's vector size (README: Knowledge base, @cf/baai/bge-base-en-v1.5).
VECTORIZE_DIMENSIONS=768
FUNCTIONS=$(for w in $WORKERS; do [ "$w" = site ] || echo "$w"; done)

die() { echo "deploy: $*" >&2; exit 1; }
tree_clean() { [ -z "$(git status --porcelain 2>/dev/null)" ] && git rev-parse -q --verify HEAD >/dev/null; }

if [ "${1:-}" = "--record-tests-passed" ]; then
  mkdir -p target
  if tree_clean; then
    git rev-parse HEAD >"$STAMP"
    echo "tests passed on $(git rev-parse --short HEAD): make deploy may deploy it"
  else
    rm -f "$STAMP"
    echo "tests passed on a tree with uncommitted changes: commit and rerun make test before deploying"
  fi
  exit 0
fi

DRY_RUN="${DRY_RUN:-}"
[ "$DRY_RUN" = 0 ] && DRY_RUN=
if [ -z "${ENV:-}" ] && [ -n "$DRY_RUN" ]; then
  # The migrations and content are the same code for both: checked once, into one scratch D1.
  DRY_RUN_SCRATCH=$(mktemp -d)
  export DRY_RUN_SCRATCH
  trap 'rm -rf "$DRY_RUN_SCRATCH"' EXIT
  for e in staging production; do ENV=$e "$ROOT/scripts/deploy.sh"; done
  exit 0
fi
case "${ENV:-}" in
  staging | production) ;;
  *) die "ENV must be staging or production (make deploy ENV=staging)" ;;
esac

mkdir -p "target/deploy/$ENV"
OUTPUT="target/deploy/$ENV/output.log"   # everything the steps print; shown when one fails
: >"$OUTPUT"
log() { printf '%-12s %-10s %s\n' "[$ENV]" "$1" "$2"; }
# run STEP COMMAND...: runs COMMAND with its output in $OUTPUT; on failure shows it and stops.
run() {
  local step=$1
  shift
  echo "\$ $*" >>"$OUTPUT"
  if ! "$@" >>"$OUTPUT" 2>&1; then
    tail -n 40 "$OUTPUT" >&2
    die "$step failed (whole output: $OUTPUT)"
  fi
}
seconds() { echo "$(( $(date +%s) - $1 ))s"; }

# Settings: deploy/ENV.env, then the environment on top (a variable set there wins).
while IFS='=' read -r key value; do
  [[ $key =~ ^[A-Z][A-Z0-9_]*$ ]] || continue
  value="${value%\"}"
  value="${value#\"}"
  [ -n "${!key:-}" ] || export "$key=$value"
done <"deploy/$ENV.env"
eval "$(python3 scripts/deploy_config.py names "$ENV")"
export SITE_URL="${SITE_URL%/}"
export SITE_HOST="${SITE_URL#*://}"
SITE_HOST="${SITE_HOST%%/*}"
KV_CACHE_TITLE="fhir-iq-cache$([ "$ENV" = production ] || echo "-$ENV")"

# 1. tests
if [ -n "$DRY_RUN" ]; then
  log tests "skipped (dry run)"
else
  head=$(git rev-parse HEAD)
  tree_clean || die "tests: the tree has uncommitted changes; deploy a commit (git status)"
  if [ "${TESTS_PASSED_SHA:-}" = "$head" ]; then
    log tests "passed in CI on ${head:0:12}"
  elif [ "$(cat "$STAMP" 2>/dev/null)" = "$head" ]; then
    log tests "make test passed on ${head:0:12}"
  else
    die "tests: make test has not passed on ${head:0:12}; run make test, then deploy"
  fi
fi

# 2. build
started=$(date +%s)
run build scripts/build.sh
log build "$(echo $FUNCTIONS | wc -w) function workers and the site built or up to date ($(seconds "$started"))"

# 3. resources
if [ -n "$DRY_RUN" ]; then
  export CLOUDFLARE_ACCOUNT_ID=00000000000000000000000000000000
  export D1_DB_ID=00000000-0000-4000-8000-00000000d1db D1_KB_ID=00000000-0000-4000-8000-00000000d1cb
  export KV_CACHE_ID=0000000000004000800000000000cace
  log resources "skipped (dry run): dummy ids"
else
  [ -n "${CLOUDFLARE_ACCOUNT_ID:-}" ] || die "set CLOUDFLARE_ACCOUNT_ID in deploy/$ENV.env or the environment"
  started=$(date +%s)
  created=()
  # lookup KIND NAME LIST-COMMAND...: the id (or, for vectorize, the dimensions) of NAME, or nothing.
  lookup() {
    local kind=$1 name=$2 out
    shift 2
    out=$(CI=true wrangler "$@" 2>>"$OUTPUT") || { tail -n 20 "$OUTPUT" >&2; die "resources: wrangler $* failed"; }
    python3 scripts/deploy_config.py find "$kind" "$name" <<<"$out"
  }
  # ensure VAR KIND NAME: VAR (if not pinned) = NAME's id, creating NAME when it is missing.
  ensure() {
    local var=$1 kind=$2 name=$3 list create id
    case $kind in
      d1) list=(d1 list --json) create=(d1 create "$name") ;;
      kv) list=(kv namespace list) create=(kv namespace create "$name") ;;
      vectorize) list=(vectorize list --json)
        create=(vectorize create "$name" --dimensions="$VECTORIZE_DIMENSIONS" --metric=cosine) ;;
      r2) list=(r2 bucket list) create=(r2 bucket create "$name") ;;
      queue) list=(queues list) create=(queues create "$name") ;;
    esac
    [ -n "$var" ] && [ -n "${!var:-}" ] && return 0   # pinned in deploy/ENV.env or the environment
    id=$(lookup "$kind" "$name" "${list[@]}")
    if [ -z "$id" ]; then
      run resources env CI=true wrangler "${create[@]}"
      created+=("$name")
      id=$(lookup "$kind" "$name" "${list[@]}")
      [ -n "$id" ] || die "resources: created $name but cannot find it in wrangler ${list[*]}"
    fi
    if [ "$kind" = vectorize ] && [ "$id" != "$VECTORIZE_DIMENSIONS" ]; then
      die "resources: Vectorize index $name has $id dimensions; the embedding model gives $VECTORIZE_DIMENSIONS"
    fi
    [ -z "$var" ] || export "$var=$id"
  }
  ensure D1_DB_ID d1 "$D1_DB_NAME"
  ensure D1_KB_ID d1 "$D1_KB_NAME"
  ensure KV_CACHE_ID kv "$KV_CACHE_TITLE"
  ensure "" vectorize "$VECTORIZE_INDEX"
  ensure "" r2 "$R2_BACKUPS_BUCKET"
  ensure "" queue "$EVENTS_QUEUE"
  ensure "" queue "$EVENTS_DEAD_LETTER_QUEUE"
  # The record of what this environment runs on (not committed; deploy/ENV.env pins ids if needed).
  cat >"deploy/$ENV.ids" <<EOF
# Written by scripts/deploy.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ): the resources [env.$ENV] is bound to:
# D1 $D1_DB_NAME and $D1_KB_NAME, KV $KV_CACHE_TITLE, Vectorize $VECTORIZE_INDEX, R2 $R2_BACKUPS_BUCKET.
CLOUDFLARE_ACCOUNT_ID=$CLOUDFLARE_ACCOUNT_ID
D1_DB_ID=$D1_DB_ID
D1_KB_ID=$D1_KB_ID
KV_CACHE_ID=$KV_CACHE_ID
EOF
  log resources "D1 $D1_DB_NAME $D1_DB_ID, D1 $D1_KB_NAME $D1_KB_ID, KV $KV_CACHE_TITLE $KV_CACHE_ID, Vectorize $VECTORIZE_INDEX, R2 $R2_BACKUPS_BUCKET, Queues $EVENTS_QUEUE $EVENTS_DEAD_LETTER_QUEUE; created: ${created[*]:-none} ($(seconds "$started"))"
fi

# 4. render
configs=(wrangler.toml)
for w in $FUNCTIONS; do configs+=("functions/$w/wrangler.toml"); done
# A dry run renders beside the real ones, never over them: those keep the real ids for the
# wrangler commands of docs/operations.md (rollback, tail, secrets).
as="$ENV${DRY_RUN:+.dry-run}"
run render python3 scripts/deploy_config.py render "$ENV" "$as" "${configs[@]}"
rendered() { if [ "$1" = site ]; then echo "wrangler.$as.toml"; else echo "functions/$1/wrangler.$as.toml"; fi; }
log render "${#configs[@]} configs -> wrangler.$as.toml beside each (site $SITE_HOST)"

# 5-6. migrations, knowledge base, content
started=$(date +%s)
if [ -n "$DRY_RUN" ] && [ -f "${DRY_RUN_SCRATCH:-}/.loaded" ]; then
  log migrate "applied to a scratch local D1 (the dry run of the other environment did it)"
  log kb "skipped (dry run; make kb loads it locally)"
  log content "validated and loaded into the scratch D1 (the dry run of the other environment did it)"
elif [ -n "$DRY_RUN" ]; then
  scratch=${DRY_RUN_SCRATCH:-}
  if [ -z "$scratch" ]; then
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
  fi
  run migrate scripts/migrate.sh "$scratch"
  log migrate "applied to a scratch local D1 ($(seconds "$started"))"
  log kb "skipped (dry run; make kb loads it locally)"
  started=$(date +%s)
  run content scripts/content.sh --persist-to "$scratch"
  log content "validated and loaded into the scratch D1 ($(seconds "$started"))"
  touch "$scratch/.loaded"
else
  target=(--remote -c "$(rendered site)" --env "$ENV")
  run migrate scripts/migrate.sh "${target[@]}"
  applied=$(sed -n 's/.*"database":"\([^"]*\)","applied":\([0-9]*\).*/\1 +\2/p' "$OUTPUT" | paste -sd, -)
  log migrate "new migrations applied: $applied ($(seconds "$started"))"
  started=$(date +%s)
  # The embedding settings are set here, never read from a developer's .dev.vars.
  if [ -n "${WORKERS_AI_API_TOKEN:-}" ]; then
    run kb env EMBEDDING_PROVIDER=workers-ai WORKERS_AI_ACCOUNT_ID="${WORKERS_AI_ACCOUNT_ID:-$CLOUDFLARE_ACCOUNT_ID}" \
      scripts/kb.sh "${target[@]}" --vectorize "$VECTORIZE_INDEX"
    log kb "loaded and embedded into $VECTORIZE_INDEX ($(seconds "$started"))"
  else
    run kb env EMBEDDING_PROVIDER=none scripts/kb.sh "${target[@]}"
    log kb "loaded without vectors: set WORKERS_AI_API_TOKEN to embed ($(seconds "$started"))"
  fi
  started=$(date +%s)
  run content scripts/content.sh "${target[@]}"
  log content "loaded ($(seconds "$started"))"
fi

# 7. the function workers, then the site (it binds them)
for w in $FUNCTIONS site; do
  config=$(rendered "$w")
  if [ -n "$DRY_RUN" ]; then
    out=$(CI=true wrangler deploy --dry-run --outdir "$ROOT/target/deploy/$ENV/$w" --env "$ENV" -c "$config" 2>&1) || {
      echo "$out" >&2
      die "deploy --dry-run failed for $w ($config)"
    }
    log deploy "$(printf '%-22s %s' "$w" "$(grep -o 'Total Upload: .*' <<<"$out")") (dry run)"
  else
    started=$(date +%s)
    run deploy env CI=true wrangler deploy --env "$ENV" -c "$config"
    log deploy "$(printf '%-22s' "$w") deployed ($(seconds "$started"))"
  fi
done

# 8. smoke check
if [ -n "$DRY_RUN" ]; then
  log smoke "skipped (dry run)"
  exit 0
fi
url="$SITE_URL/_functions/health"
body=$(mktemp)
trap 'rm -f "$body"' EXIT
# A new custom domain can take a minute to answer: retry before calling it a failure.
for attempt in $(seq "${SMOKE_ATTEMPTS:-12}"); do
  status=$(curl -sS -o "$body" -w '%{http_code}' --max-time 10 "$url" 2>>"$OUTPUT" || true)
  if [ "$status" = 200 ] && python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])).get("status") != "ok")' "$body" 2>/dev/null; then
    log smoke "GET $url: 200, status ok"
    exit 0
  fi
  [ "$attempt" = "${SMOKE_ATTEMPTS:-12}" ] || sleep "${SMOKE_WAIT_SECONDS:-5}"
done
die "smoke: GET $url answered ${status:-nothing}: $(head -c 300 "$body")"
