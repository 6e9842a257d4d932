#!/usr/bin/env bash
# Restores a backup of the database of record (D1 `fhir-iq`) into a database, then brings it up to
# the code's schema with scripts/migrate.sh. Two kinds of file:
#   full       a `make backup` file (`wrangler d1 export`: schema, rows and d1_migrations). Restored
#              as it is; the migrations newer than the backup are applied after it.
#   data-only  INSERTs without CREATE TABLE, such as the nightly R2 export of the tables that cannot be
#              rebuilt. The target is migrated to the file's migration level first (its first line
#              names it: `-- fhir-iq r2 backup: migration 0004_operations.sql; ...`), then the rows go
#              in, then the newer migrations. Remotely, the file is first restored into a scratch local D1 and that
#              database, now complete and at the current level, is what goes to the remote one.
# It refuses:
#   - a target that holds any table, unless FORCE=1: then every table and view in it is dropped
#     first, d1_migrations included (remotely, the Time Travel bookmark from before is printed);
#   - a backup whose migration level is newer than the code's (restore it with the code it came from).
# After restoring it checks that every table in the file has the file's row count.
# Usage: scripts/restore.sh BACKUP [PERSIST_DIR]          local: the `make dev` database (default
#                                                         .wrangler/state) or PERSIST_DIR
#        scripts/restore.sh BACKUP --env ENV [-c CONFIG]  a deployed environment; CONFIG defaults
#                                                         to wrangler.ENV.toml (`make deploy` renders it)
# The knowledge base is not in a backup: run `make kb` (locally) after restoring into a new directory.
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$ROOT/scripts/lib/target.sh"
helper() { python3 "$ROOT/scripts/backup_sql.py" "$@"; }
die() { echo "restore: $*" >&2; exit 1; }
started=$(date +%s%3N)

backup=${1:-}
[ -n "$backup" ] || die "usage: scripts/restore.sh BACKUP [PERSIST_DIR | --env ENV [-c CONFIG]] (make restore BACKUP=<file>)"
[ -f "$backup" ] || die "$backup: no such file"
backup=$(realpath "$backup")
shift
parse_target "$@"
# Paths given are taken from where the command ran; the tools run from the repository root.
cd "$ROOT"
force=${FORCE:-}
[ "$force" = 0 ] && force=

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# What the file holds, and whether this code can take it.
summary=$(helper summary "$backup")
kind=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["kind"])' <<<"$summary")
read -r level _ rows < <(helper facts <<<"$summary")
code=$(printf '%04d' "$(helper code-level)")
if [ "$level" = 0000 ]; then
  die "$backup names no migration level (no d1_migrations rows, no \`-- fhir-iq r2 backup: migration NNNN_name.sql\` line): cannot tell which schema its rows fit"
fi
if [ "$((10#$level))" -gt "$((10#$code))" ]; then
  die "$backup is at migration $level, newer than this code's $code (migrations/fhir-iq): restore it with the release it came from, or deploy that release first"
fi

if [ "$env" = local ]; then
  target_label="local $persist"
  database=fhir-iq
  target=(--local -c wrangler.toml --persist-to "$persist")
  migrate=("$persist")
else
  database=$(python3 -c 'import sys, tomllib
section = tomllib.load(open(sys.argv[1], "rb")).get("env", {}).get(sys.argv[2], {})
print(next((d["database_name"] for d in section.get("d1_databases", []) if d["binding"] == "DB"), ""))' \
    "$config" "$env") || die "cannot read $config"
  [ -n "$database" ] || die "$config has no DB binding in [env.$env]"
  target_label="remote $database ($env, $config)"
  target=(--remote -c "$config" --env "$env")
  migrate=(--remote -c "$config" --env "$env")
fi

# d1 ARGS...: wrangler d1 <ARGS> on the target database; its output on stdout, its errors shown.
d1() {
  local out
  if ! out=$(CI=true wrangler d1 "$1" "$database" "${target[@]}" "${@:2}" 2>"$scratch/stderr"); then
    echo "$out" >&2
    cat "$scratch/stderr" >&2
    return 1
  fi
  printf '%s\n' "$out"
}
# counts TABLE...: {table: rows} in the target.
counts() {
  [ $# -gt 0 ] || { echo '{}'; return; }
  d1 execute --json --command "$(helper counts-sql "$@")" | helper counts "$@"
}

# The target must be empty, or FORCE=1 empties it (below).
objects=$(d1 execute --json --command "$(helper objects-sql)" | helper objects) || die "cannot read $target_label"
count=$(grep -c . <<<"$objects" || true)
if [ -n "$objects" ] && [ -z "$force" ]; then
  die "$target_label is not empty ($count tables and views): FORCE=1 replaces it (every table is dropped first)"
fi

# A data-only file restored remotely goes through a scratch local D1 first (see the header).
if [ "$env" != local ] && [ "$kind" = data-only ]; then
  echo "restore: $backup is data-only: restoring it into a scratch local D1 first"
  "$ROOT/scripts/restore.sh" "$backup" "$scratch/persist" >"$scratch/local.log" \
    || { cat "$scratch/local.log" >&2; die "the scratch restore failed"; }
  BACKUP_DIR="$scratch/full" "$ROOT/scripts/backup.sh" "$scratch/persist" >"$scratch/backup.log" \
    || { cat "$scratch/backup.log" >&2; die "exporting the scratch restore failed"; }
  full=$(ls "$scratch"/full/*.sql)
  # Not exec: the trap removes the scratch directory only once that restore is done.
  "$ROOT/scripts/restore.sh" "$full" --env "$env" -c "$config"
  echo "Not in a nightly export: content (load it: make deploy ENV=$env), sessions (everyone signs in again), monitoring and analytics history."
  exit
fi

bookmark=""
if [ -n "$objects" ]; then
  if [ "$env" != local ]; then
    # The state before the drop, to undo this restore with `wrangler d1 time-travel restore`.
    bookmark=$(CI=true wrangler d1 time-travel info "$database" -c "$config" --env "$env" --json 2>/dev/null |
      python3 -c 'import json, sys; print(json.load(sys.stdin).get("bookmark", ""))' 2>/dev/null || true)
    echo "restore: before the restore, $database was at Time Travel bookmark ${bookmark:-(unknown)}"
  fi
  d1 execute --command "$(helper drop-sql <<<"$objects")" >/dev/null || die "emptying $target_label failed"
  echo "restore: emptied $target_label ($count tables and views dropped)"
fi

tables=$(python3 -c 'import json, sys; print(" ".join(json.load(sys.stdin)["tables"]))' <<<"$summary")
# before: rows already in the target's tables when the file's rows go in (a data-only file goes into
# migrated tables, some of which a migration seeds).
before='{}'
if [ "$kind" = data-only ]; then
  # Only the migrations up to the file's level: its INSERTs name the columns of that schema.
  mkdir -p "$scratch/migrations" "$scratch/config"
  helper migrations-upto "$((10#$level))" "$scratch/migrations"
  cat >"$scratch/config/wrangler.toml" <<EOF
name = "fhir-iq-restore"
compatibility_date = "2026-11-01"
[[d1_databases]]
binding = "DB"
database_name = "fhir-iq"
database_id = "00000000-0000-4000-8000-000000000001"
migrations_dir = "$scratch/migrations"
EOF
  out=$(CI=true wrangler d1 migrations apply fhir-iq --local -c "$scratch/config/wrangler.toml" \
    --persist-to "$persist" 2>&1) || { echo "$out" >&2; die "migrating $target_label to $level failed"; }
  # shellcheck disable=SC2086 # table names are identifiers
  before=$(counts $tables)
fi

if ! d1 execute --file "$backup" >/dev/null; then
  die "restoring $backup into $target_label failed: the target may hold part of it; fix the cause and rerun with FORCE=1"
fi

# Every table in the file now has the file's rows.
# shellcheck disable=SC2086
after=$(counts $tables)
python3 - "$summary" "$before" "$after" <<'EOF' || die "the restored row counts differ from the backup's"
import json, sys
expected = json.loads(sys.argv[1])["tables"]
before, after = json.loads(sys.argv[2]), json.loads(sys.argv[3])
wrong = [f"{t}: {after.get(t)} rows, expected {before.get(t, 0) + n}" for t, n in expected.items()
         if after.get(t) != before.get(t, 0) + n]
if wrong:
    sys.exit("\n".join(wrong))
EOF

# Then the migrations newer than the backup (and the knowledge base's, which are independent).
scripts/migrate.sh "${migrate[@]}" >"$scratch/migrate.log" 2>&1 || { cat "$scratch/migrate.log" >&2; die "migrating $target_label failed"; }
applied=$(helper migrations-after "$((10#$level))")

echo "Restored $backup ($kind, migration $level) into $target_label: $rows rows in $(wc -w <<<"$tables") tables, counts checked; migrated to $code."
# What a restore does not bring back (docs/operations.md).
if [ "$env" = local ]; then
  rebuild="scripts/kb.sh --persist-to $persist"
  reload="scripts/content.sh --persist-to $persist"
else
  rebuild="make deploy ENV=$env (its kb and content steps)"
  reload=$rebuild
fi
echo "Not in any backup: the knowledge base (D1 fhir-iq-kb). If it is missing: $rebuild."
if [ "$kind" = data-only ]; then
  echo "Not in a nightly export: content (load it: $reload), sessions (everyone signs in again), monitoring and analytics history."
fi
printf '{"event":"restore.completed","env":"%s","file":"%s","kind":"%s","backup_migration":"%s","code_migration":"%s","migrations_applied":%s,"rows":%d,"forced":%s,"bookmark_before":"%s","duration_ms":%d}\n' \
  "$env" "$backup" "$kind" "$level" "$code" "$applied" "$rows" "$([ -n "$force" ] && [ -n "$objects" ] && echo true || echo false)" \
  "$bookmark" "$(( $(date +%s%3N) - started ))"
