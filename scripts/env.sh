# Sourced by the other scripts: the environment every build and wrangler run needs, offline.
# worker-build downloads wasm-bindgen, wasm-opt and esbuild unless told where they are.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export WASM_OPT_BIN="$ROOT/node_modules/binaryen/bin/wasm-opt"
export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"
export WRANGLER_SEND_METRICS=false
# Node keeps the V8 code of the modules it compiles (wrangler is a large bundle): each later wrangler
# start compiles less. Measured on 2 cores: a `wrangler dev` of every worker 2.74 -> 2.34 CPU seconds
# to serving, a `wrangler d1 execute` 1.52 -> 1.30.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$ROOT/target/node-compile-cache}"
export CLOUDFLARE_CF_FETCH_ENABLED=false
# Each worker crate, in the order the site worker's wrangler.toml binds them (site first).
WORKERS="site health processAIQuery createGitHubRepo stripeWebhook createVectorEmbedding githubWebhook calendlyWebhook generateFHIRCode platformApi renderPages"
# wrangler dev -c arguments: the site worker receives requests; the others are its service bindings.
WRANGLER_CONFIGS="-c wrangler.toml"
for w in $WORKERS; do [ "$w" = site ] || WRANGLER_CONFIGS="$WRANGLER_CONFIGS -c functions/$w/wrangler.toml"; done
export WRANGLER_CONFIGS
