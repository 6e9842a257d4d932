# Sourced by scripts/backup.sh and scripts/restore.sh: which database of record they work on.
# parse_target ARGS... sets
#   env     local, or the deployed environment of `--env ENV`
#   config  (deployed) the rendered config: `-c CONFIG`, else wrangler.ENV.toml (`make deploy` renders it)
#   persist (local) the persist directory given, else the `make dev` one (.wrangler/state)
# and stops with the caller's `die` on anything else. Paths are taken from where the command ran.
parse_target() {
  env=local config="" persist=""
  if [ "${1:-}" = "--env" ]; then
    env=${2:-}
    shift 2 || true
    if [ "${1:-}" = "-c" ]; then config=$(realpath -m "${2:-}"); shift 2 || true; fi
    [ -n "$env" ] || die "--env needs an environment (staging or production)"
    config=${config:-$ROOT/wrangler.$env.toml}
    [ -f "$config" ] || die "$config does not exist: run \`make deploy ENV=$env\` (it renders it) or pass CONFIG="
  else
    persist=$(realpath -m "${1:-$ROOT/.wrangler/state}")
    shift || true
  fi
  [ $# -eq 0 ] || die "unexpected arguments: $*"
}
