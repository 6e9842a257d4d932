# FHIR IQ. The two commands a newcomer needs:
#   make dev    set up, build, apply the schema and serve http://127.0.0.1:8787 (PORT=... to change)
#   make test   set up and run every test: fmt, cargo deny, clippy, native tests, wasm builds, deploy
#               dry runs, integration tests under wrangler dev, schemathesis, and the browser tests
SHELL := /bin/bash
PORT ?= 8787
export PORT
# Where make dev keeps its local D1 and KV.
PERSIST_DIR ?= .wrangler/state
export PERSIST_DIR
# Node 22 from npm (node_modules/.bin/node) before the machine's older Node, for every wrangler run,
# including those the tests start; the cargo tools too. scripts/env.sh sets the same for the scripts.
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# Node's module compile cache for every wrangler start (scripts/env.sh says what it saves).
export NODE_COMPILE_CACHE ?= $(CURDIR)/target/node-compile-cache

# cargo-nextest runs the tests (.config/nextest.toml: priorities, timeouts; scripts/setup.sh installs
# it). Tests at once: the integration tests wait on wrangler dev, workerd, the fakes and Chromium, so
# more run at once than the two cores. Measured on 2 cores, all 310 tests: 4 at once 426 s, 6 at once
# 434 s (the same CPU time, about 670 s: the run is bound by CPU, not by waiting).
TEST_THREADS ?= 4
NEXTEST := cargo nextest run --test-threads $(TEST_THREADS)
# The domain crates' native tests (shared, the knowledge-base tool): see `test` for why not nextest.
UNIT := cargo test --quiet -p fhir-iq-shared -p fhir-iq-kb

# The wasm worker crates (for clippy on wasm32); the tests crate runs natively.
WASM_CRATES := -p fhir-iq-shared -p site-worker -p health -p process-ai-query -p create-github-repo \
               -p stripe-webhook -p create-vector-embedding -p github-webhook -p calendly-webhook \
               -p generate-fhir-code -p platform-api -p render-pages

.PHONY: dev test setup build migrate kb content lint unit integration deploy deploy-check bench clean

dev: setup build
	scripts/migrate.sh $(PERSIST_DIR)
	scripts/seed-demo.sh $(PERSIST_DIR)
	scripts/kb.sh --persist-to $(PERSIST_DIR)
	scripts/content.sh --persist-to $(PERSIST_DIR)
	scripts/dev.sh

# make test: lint, then the wasm builds, then the native tests of the domain crates in one process
# each (cargo test), the local MiniLM provider's self-check (scripts/embeddings/check.py: the real
# model's vectors against its published reference values, and its HTTP API), then ONE cargo-nextest run of the integration tests (the deploy check and the
# browser tests among them, several at once, each in its own process). Its summary line ends the
# output: the stamp that lets `make deploy` deploy this commit is written quietly after it. Each run
# prepares its start states once (FHIRIQ_TEST_RUN, tests/src/state.rs).
# Why the native tests are not in the nextest run: a process per test costs each of their ~300 tests
# a start and a fresh schema. Measured on 2 cores, the same tests: nextest 71 CPU seconds (42 s),
# cargo test 26 CPU seconds (20 s); the integration tests need a process each, the domain tests do not.
test: export CARGO_TERM_COLOR = never
test: export FHIRIQ_TEST_RUN := $(shell date -u +%Y%m%dT%H%M%S)-$(shell echo $$PPID)
test:
	scripts/setup.sh --browser
	$(MAKE) --no-print-directory lint build
	$(UNIT)
	scripts/embeddings/setup.sh >/dev/null && python3 scripts/embeddings/check.py
	$(NEXTEST) -p fhir-iq-tests
	@scripts/deploy.sh --record-tests-passed >/dev/null

setup:
	scripts/setup.sh

build:
	scripts/build.sh

# Applies the versioned migrations to the local D1 databases of `make dev` (only what is new).
migrate:
	scripts/migrate.sh

# Builds or refreshes the FHIR knowledge base in the local D1 (incremental by content hash).
kb:
	scripts/migrate.sh
	scripts/kb.sh

# The local embeddings provider (opt-in): all-MiniLM-L6-v2 behind the OpenAI embeddings API on
# 127.0.0.1:$(MINILM_PORT) (see .dev.vars.example's knowledge base section).
MINILM_PORT ?= 8788
.PHONY: embeddings
embeddings:
	"$$(scripts/embeddings/setup.sh)" scripts/embeddings/server.py --port $(MINILM_PORT)

# Validates content/ and loads it into the local D1 of `make dev`.
content:
	scripts/migrate.sh
	scripts/content.sh

# Backup and restore of the database of record, D1 fhir-iq (docs/operations.md). Local by default:
# the make dev database, or PERSIST_DIR. ENV=staging|production for a deployed one (CONFIG= to use
# another config than the wrangler.ENV.toml that make deploy renders).
#   make backup                     writes backups/fhir-iq-<env>-<UTC time>.sql, prints rows per table
#   make restore BACKUP=<file>      refuses a database that is not empty unless FORCE=1, and a backup
#                                   newer than the code's migrations; applies the newer migrations after
.PHONY: backup restore
BACKUP_TARGET = $(if $(ENV),--env $(ENV) $(if $(CONFIG),-c $(CONFIG)),$(PERSIST_DIR))
backup:
	scripts/backup.sh $(BACKUP_TARGET)

restore:
	FORCE='$(FORCE)' scripts/restore.sh '$(BACKUP)' $(BACKUP_TARGET)

# The checks that take seconds first, then clippy (native, then wasm32: minutes on a fresh clone).
# cargo deny (deny.toml): licenses, bans and sources always; advisories only where the RustSec database,
# a git repository on GitHub, can be fetched (not on these machines or CI: package registries only).
lint:
	cargo fmt --all --check
	python3 -m openapi_spec_validator docs/openapi.yaml
	check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	cargo deny check --hide-inclusion-graph bans licenses sources
	@if GIT_TERMINAL_PROMPT=0 timeout 20 git ls-remote https://github.com/RustSec/advisory-db HEAD >/dev/null 2>&1; \
	then cargo deny check advisories; \
	else echo 'cargo deny check advisories: skipped, the RustSec advisory database is not reachable'; fi
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown $(WASM_CRATES) -- -D warnings

unit:
	$(UNIT)

# Deploys to Cloudflare: make deploy ENV=staging|production (README: Deploy to Cloudflare).
# DRY_RUN=1 runs every step that needs no Cloudflare account; without ENV, for both environments.
deploy: setup
	ENV='$(ENV)' DRY_RUN='$(DRY_RUN)' scripts/deploy.sh

# make test's deploy check: the dry run of both environments, and the deploy against a fake account.
deploy-check:
	DRY_RUN=1 scripts/deploy.sh
	python3 tests/deploy/test_deploy.py

# Needs `make build` first. Its own run id: start states prepared once for this run.
integration: export FHIRIQ_TEST_RUN ?= $(shell date -u +%Y%m%dT%H%M%S)-$(shell echo $$PPID)
integration:
	$(NEXTEST) -p fhir-iq-tests

bench: setup build
	scripts/bench.sh

clean:
	rm -rf target functions/*/build .wrangler site/fonts site/vendor site/assets
