#!/usr/bin/env bash
# Backs up the database of record, D1 `fhir-iq` (binding DB), with `wrangler d1 export`: the whole
# database, schema and rows, d1_migrations included, into backups/fhir-iq-<env>-<UTC time>.sql.
# Prints the file's path, the rows per table (counted in the file: what a restore puts back) and one
# JSON log line. `make restore BACKUP=<file>` (scripts/restore.sh) restores it.
# The knowledge base (D1 fhir-iq-kb) is not backed up: `make kb` rebuilds it. Content is reloaded by
# `make content` / deploys, but its tables are in the file all the same.
# Usage: scripts/backup.sh [PERSIST_DIR]            local: the `make dev` database (default .wrangler/state)
#        scripts/backup.sh --env ENV [-c CONFIG]     a deployed environment (staging, production);
#                                                    CONFIG defaults to wrangler.ENV.toml, which
#                                                    `make deploy ENV=...` renders
# BACKUP_DIR puts the file elsewhere (default backups/, git-ignored). The file holds password hashes
# and personal data: it is written readable by its owner only.
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$ROOT/scripts/lib/target.sh"
helper() { python3 "$ROOT/scripts/backup_sql.py" "$@"; }
die() { echo "backup: $*" >&2; exit 1; }
started=$(date +%s%3N)

parse_target "$@"
# Paths given are taken from where the command ran; the tools run from the repository root.
dir=$(realpath -m "${BACKUP_DIR:-$ROOT/backups}")
cd "$ROOT"
mkdir -p "$dir"
file="$dir/fhir-iq-$env-$(date -u +%Y%m%dT%H%M%SZ).sql"
[ ! -e "$file" ] || die "$file exists already"
partial="$file.partial"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch" "$partial"' EXIT

umask 077
if [ "$env" = local ]; then
  # `wrangler d1 export` has no --persist-to: it reads .wrangler/state beside its config. So export
  # through a config in a scratch directory whose .wrangler/state is the persist directory.
  [ -d "$persist/v3/d1" ] || die "no local D1 under $persist: run \`make dev\` first, or pass PERSIST_DIR"
  if ! out=$(CI=true wrangler d1 execute fhir-iq --local -c wrangler.toml --persist-to "$persist" --json \
    --command "$(helper objects-sql)" 2>"$scratch/stderr"); then
    cat "$scratch/stderr" >&2
    die "cannot read the database under $persist"
  fi
  tables=$(helper objects <<<"$out")
  [ -n "$tables" ] || die "the fhir-iq database under $persist has no tables: nothing to back up"
  cat >"$scratch/wrangler.toml" <<EOF
name = "fhir-iq-backup"
compatibility_date = "2026-11-01"
[[d1_databases]]
binding = "DB"
database_name = "fhir-iq"
database_id = "00000000-0000-4000-8000-000000000001"
migrations_dir = "$ROOT/migrations/fhir-iq"
EOF
  mkdir -p "$scratch/.wrangler"
  ln -s "$persist" "$scratch/.wrangler/state"
  source_label="local $persist"
  export_args=(DB --local -c "$scratch/wrangler.toml")
else
  database=$(python3 -c 'import sys, tomllib
section = tomllib.load(open(sys.argv[1], "rb")).get("env", {}).get(sys.argv[2], {})
print(next((d["database_name"] for d in section.get("d1_databases", []) if d["binding"] == "DB"), ""))' \
    "$config" "$env") || die "cannot read $config"
  [ -n "$database" ] || die "$config has no DB binding in [env.$env]"
  source_label="remote $database ($env, $config)"
  export_args=("$database" --remote -c "$config" --env "$env")
fi

if ! out=$(CI=true wrangler d1 export "${export_args[@]}" --output "$partial" 2>&1); then
  echo "$out" >&2
  die "wrangler d1 export failed ($source_label)"
fi
mv "$partial" "$file"

summary=$(helper summary "$file")
counts=$(helper table-counts <<<"$summary")
read -r level tables rows < <(helper facts <<<"$summary")
bytes=$(stat -c %s "$file")

echo "Backed up $source_label to $file ($bytes bytes, migration $level):"
helper print-counts <<<"$counts"
printf '{"event":"backup.completed","env":"%s","file":"%s","bytes":%d,"migration":"%s","tables":%d,"rows":%d,"duration_ms":%d}\n' \
  "$env" "$file" "$bytes" "$level" "$tables" "$rows" "$(( $(date +%s%3N) - started ))"
