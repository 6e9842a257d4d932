#!/usr/bin/env bash
# Builds every worker to wasm with worker-build (release profile), after copying the self-hosted font
# and front-end libraries into site/ and fingerprinting site/'s static files. Prints each worker's wasm size, raw and gzipped.
#
# The workers that need a build are compiled in ONE cargo invocation first, so their release links
# (fat LTO, one codegen unit: serial work per worker) run side by side on every core; worker-build
# then finds its cargo step done and runs wasm-bindgen and wasm-opt, also in parallel. The result is
# the same as worker-build alone: the same profile, flags and environment (WASM_BINDGEN_USE_JS_SYS).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

rm -rf site/fonts && mkdir -p site/fonts
cp node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2 site/fonts/
# Markdown rendering and HTML sanitizing for the assistant's answers, self-hosted from npm.
mkdir -p site/vendor
cp -u node_modules/marked/lib/marked.umd.js site/vendor/marked.js
cp -u node_modules/dompurify/dist/purify.min.js site/vendor/purify.js
# The generated part of site/ (tools/kb/src/site.rs): fingerprinted copies in site/assets/, their
# manifest (compiled into the workers, so before them), the static pages and site/_headers. In CI a
# committed file that is not up to date fails the build.
cargo run -q -p fhir-iq-kb -- site ${CI:+--check}

mkdir -p target   # worker-build logs go here (a fresh clone has no target/ yet)
started=$(date +%s)
stale=()
for w in $WORKERS; do
  out="functions/$w/build/index.js"
  # Skip a worker whose build is newer than every source it depends on (make dev stays quick).
  if [ -f "$out" ] && [ -z "$(find shared functions/$w/src functions/$w/Cargo.toml Cargo.toml Cargo.lock -newer "$out" -print -quit)" ]; then
    printf '%-24s up to date\n' "$w"
  else
    stale+=("$w")
  fi
done

if [ ${#stale[@]} -gt 0 ]; then
  # 1. Every stale worker's crate in one cargo build (worker-build's own command, for all of them).
  packages=()
  for w in "${stale[@]}"; do
    packages+=(-p "$(sed -n 's/^name *= *"\(.*\)"/\1/p' "functions/$w/Cargo.toml" | head -n1)")
  done
  WASM_BINDGEN_USE_JS_SYS=1 cargo build --quiet --lib --release --target wasm32-unknown-unknown "${packages[@]}"
  compiled=$(date +%s)
  # 2. worker-build per worker (its cargo step is now a no-op): bindings, wasm-opt, the JS shim.
  #    One per core; each writes only its own functions/<w>/build.
  jobs=$(nproc 2>/dev/null || echo 2)
  rm -f target/worker-build.failed
  printf '%s\n' "${stale[@]}" | xargs -P "$jobs" -I{} sh -c \
    'cd "functions/$1" && worker-build --release >/dev/null 2>"$2/target/worker-build-$1.log" || { echo "$1" >>"$2/target/worker-build.failed"; exit 1; }' \
    _ {} "$ROOT" || true
  if [ -s target/worker-build.failed ]; then
    for w in $(cat target/worker-build.failed); do
      cat "target/worker-build-$w.log" >&2
      echo "worker-build failed for functions/$w" >&2
    done
    rm -f target/worker-build.failed
    exit 1
  fi
  # 3. Without the wasm name section (function and data names: 11% of the site's wasm, 90 KB of its
  #    gzip). A panic's log line keeps its message and file:line (they are data, not names); only the
  #    JS stack's frame names go. KEEP_WASM_NAMES=1 keeps them for a debugging build.
  if [ -z "${KEEP_WASM_NAMES:-}" ]; then
    for w in "${stale[@]}"; do
      "$WASM_OPT_BIN" --strip-debug --strip-producers "functions/$w/build/index_bg.wasm" -o "functions/$w/build/index_bg.wasm"
    done
  fi
  for w in "${stale[@]}"; do
    wasm="functions/$w/build/index_bg.wasm"
    printf '%-24s %8d bytes wasm, %7d gzipped\n' "$w" "$(stat -c %s "$wasm")" "$(gzip -9c "$wasm" | wc -c)"
  done
  echo "compiled in $(( compiled - started )) s, bindings, wasm-opt and stripping in $(( $(date +%s) - compiled )) s"
fi
echo "workers built in $(( $(date +%s) - started )) s"
