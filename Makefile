# FHIR IQ. The two commands a newcomer needs:
#   make dev    set up, build, apply the schema and serve http://127.0.0.1:8787 (PORT=... to change)
#   make test   set up and run every test: fmt, clippy, native tests, wasm builds, production config
#               check, integration tests under wrangler dev, and the browser test
SHELL := /bin/bash
PORT ?= 8787
export PORT
# Where make dev keeps its local D1 and KV.
PERSIST_DIR ?= .wrangler/state
export PERSIST_DIR

# The wasm worker crates (for clippy on wasm32); the tests crate runs natively.
WASM_CRATES := -p fhir-iq-shared -p site-worker -p health -p process-ai-query -p create-github-repo \
               -p stripe-webhook -p create-vector-embedding -p github-webhook -p calendly-webhook

.PHONY: dev test setup build schema kb content lint unit integration deploy-check bench clean

dev: setup build
	scripts/schema.sh $(PERSIST_DIR)
	scripts/seed-demo.sh $(PERSIST_DIR)
	scripts/kb.sh --persist-to $(PERSIST_DIR)
	scripts/content.sh --persist-to $(PERSIST_DIR)
	scripts/dev.sh

test: export CARGO_TERM_COLOR = never
test:
	scripts/setup.sh --browser
	$(MAKE) --no-print-directory lint unit build deploy-check integration

setup:
	scripts/setup.sh

build:
	scripts/build.sh

# Applies schema.sql to the local D1 of `make dev` (idempotent).
schema:
	scripts/schema.sh

# Builds or refreshes the FHIR knowledge base in the local D1 (incremental by content hash).
kb:
	scripts/schema.sh
	scripts/kb.sh

# Validates content/ and loads it into the local D1 of `make dev`.
content:
	scripts/schema.sh
	scripts/content.sh

lint:
	cargo fmt --all --check
	python3 -m openapi_spec_validator docs/openapi.yaml
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown $(WASM_CRATES) -- -D warnings

unit:
	cargo test --workspace --exclude fhir-iq-tests

deploy-check:
	scripts/deploy-check.sh

# Two at a time: each test runs its own wrangler dev and the machines have two cores.
integration:
	cargo test -p fhir-iq-tests -- --test-threads 2

bench: setup build
	scripts/bench.sh

clean:
	rm -rf target functions/*/build .wrangler site/fonts
