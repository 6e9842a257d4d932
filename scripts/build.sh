#!/usr/bin/env bash
# Builds every worker to wasm with worker-build (release profile) and copies the self-hosted fonts
# into site/fonts. Prints each worker's wasm size, raw and gzipped.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

mkdir -p site/fonts
for f in inter-latin-400-normal inter-latin-600-normal inter-latin-700-normal; do
  cp -u "node_modules/@fontsource/inter/files/$f.woff2" site/fonts/
done
cp -u node_modules/@fontsource/jetbrains-mono/files/jetbrains-mono-latin-400-normal.woff2 site/fonts/
# Markdown rendering and HTML sanitizing for the assistant's answers, self-hosted from npm.
mkdir -p site/vendor
cp -u node_modules/marked/lib/marked.umd.js site/vendor/marked.js
cp -u node_modules/dompurify/dist/purify.min.js site/vendor/purify.js

mkdir -p target   # worker-build logs go here (a fresh clone has no target/ yet)
started=$(date +%s)
for w in $WORKERS; do
  out="functions/$w/build/index.js"
  # Skip a worker whose build is newer than every source it depends on (make dev stays quick).
  if [ -f "$out" ] && [ -z "$(find shared functions/$w/src functions/$w/Cargo.toml Cargo.toml Cargo.lock -newer "$out" -print -quit)" ]; then
    printf '%-24s up to date\n' "$w"
    continue
  fi
  (cd "functions/$w" && worker-build --release >/dev/null 2>"$ROOT/target/worker-build-$w.log") || {
    cat "$ROOT/target/worker-build-$w.log" >&2
    echo "worker-build failed for functions/$w" >&2
    exit 1
  }
  wasm="functions/$w/build/index_bg.wasm"
  printf '%-24s %8d bytes wasm, %7d gzipped\n' "$w" "$(stat -c %s "$wasm")" "$(gzip -9c "$wasm" | wc -c)"
done
echo "workers built in $(( $(date +%s) - started )) s"
