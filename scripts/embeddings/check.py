#!/usr/bin/env python3
"""Self-check of the local embeddings provider (server.py): fails, exit 1, unless it is all-MiniLM-L6-v2.

Checks the numpy forward pass against published reference outputs of the real model, the tokenizer
against the model's own, batching against one-by-one embedding, semantic sanity on FHIR text and
paraphrases, and the HTTP API of a server it starts on a free port. Prints one line per check, a
throughput figure, and "N passed, N failed". Takes ~15 s on 2 cores.
Usage: scripts/embeddings/check.py   (after scripts/embeddings/setup.sh; runs under its venv)
"""

from __future__ import annotations

import base64
import json
import math
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_PYTHON = HERE.parents[1] / "target" / "minilm-venv" / "bin" / "python"
try:
    import numpy as np
    from tokenizers import Tokenizer
except ModuleNotFoundError:
    if VENV_PYTHON.exists() and Path(sys.executable) != VENV_PYTHON:
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.argv])
    sys.exit("numpy and tokenizers are missing: run scripts/embeddings/setup.sh")
sys.path.insert(0, str(HERE))
import server  # noqa: E402

results: list[bool] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    results.append(bool(ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def check_model() -> None:
    model = server.get_model()

    # GELU: the erfc approximation against math.erf, over the range the activations take.
    grid = np.linspace(-10, 10, 200_001).astype(np.float32)
    exact = np.array([0.5 * x * (1 + math.erf(x / math.sqrt(2))) for x in grid.astype(np.float64)])
    error = float(np.abs(server.gelu(grid.copy()) - exact).max())
    check("GELU matches 0.5 x (1 + erf(x / sqrt 2))", error < 1e-6, f"max error {error:.1e}")

    # Published outputs of all-MiniLM-L6-v2 (the wheel's model/README.md shows only the call, no values).
    # sentence-transformers' README / sbert.net quickstart prints this similarity matrix for the model.
    weather = server.embed(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    reference = np.array([[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]])
    gap = float(np.abs(weather @ weather.T - reference).max())
    check("sentence-transformers' README similarities (to 4 decimals)", gap < 5e-4, f"max difference {gap:.1e}")
    # fastembed's test of the model (tests/test_text_onnx_embeddings.py): the first 5 values for "hello world".
    hello = server.embed(["hello world"])[0][:5]
    gap = float(np.abs(hello - [-0.034478, 0.03102, 0.00673, 0.02611, -0.039362]).max())
    check("fastembed's reference vector for 'hello world'", gap < 1e-4, f"{[round(float(v), 6) for v in hello]}")

    # Shape, dtype and unit length.
    vectors = server.embed(["Patient.birthDate", "Observation.status: registered | preliminary | final"])
    norms = np.linalg.norm(vectors, axis=1)
    check("vectors are float32, 384-dim", vectors.shape == (2, 384) and vectors.dtype == np.float32,
          f"{vectors.shape} {vectors.dtype}")
    check("vectors have unit length", bool(np.all(np.abs(norms - 1) < 1e-5)), f"norms {norms.tolist()}")
    check("no input, no vectors", server.embed([]).shape == (0, 384))

    # Tokenization: the server's against the model's own tokenizer, and against vocab.txt by hand.
    own = Tokenizer.from_file(str(server.model_dir() / "tokenizer.json"))
    own.no_padding()  # tokenizer.json pads to 128; the ids before the padding are what count
    ours = model.tokenize(["Patient.birthDate"])[0]
    vocab = (server.model_dir() / "vocab.txt").read_text().splitlines()
    wordpiece = [vocab.index(t) for t in ["[CLS]", "patient", ".", "birth", "##date", "[SEP]"]]
    check("tokenization of 'Patient.birthDate' is the tokenizer's own",
          ours.ids == own.encode("Patient.birthDate").ids == wordpiece, f"{ours.tokens} {ours.ids}")
    long = model.tokenize(["word " * 1000])[0]
    check("long inputs are truncated to 256 word pieces, ending in [SEP]",
          len(long.ids) == 256 and long.tokens[-1] == "[SEP]", f"{len(long.ids)} tokens")

    # Batching: padding and length sorting change nothing (beyond float rounding).
    texts = [
        "Patient.birthDate",
        "Observation.value[x]: The information determined as a result of making the observation, if the "
        "information has a simple value.",
        "MedicationRequest " * 300,
        "What is the patient's date of birth?",
        "A",
        "Encounter.period: The start and end time of the encounter.",
    ]
    batch = server.embed(texts)
    alone = np.stack([server.embed([t])[0] for t in texts])
    reverse = server.embed(texts[::-1])[::-1]
    gap = float(max(np.abs(batch - alone).max(), np.abs(batch - reverse).max()))
    check("a batch gives the one-by-one vectors, in input order", gap < 1e-5, f"max difference {gap:.1e}")
    small = model.embed(texts, batch_size=2)[0]
    gap = float(np.abs(batch - small).max())
    check("batch size changes nothing", gap < 1e-5, f"max difference {gap:.1e}")

    # Semantic sanity on FHIR text.
    q, birth, claim = server.embed([
        "What is the patient's date of birth?",
        "Patient.birthDate: The date of birth for the individual.",
        "Claim.total: The total value of the all the items in the claim.",
    ])
    right, wrong = cos(q, birth), cos(q, claim)
    check("a birth-date question is nearer Patient.birthDate than Claim.total", right - wrong > 0.3,
          f"{right:.3f} vs {wrong:.3f}")

    # Paraphrases: each pair nearer each other than either is to any other pair's text.
    pairs = [
        ("What is the patient's date of birth?", "When was the patient born?"),
        ("How do I search for observations by code?", "Querying Observation resources with a code parameter"),
        ("The server returned an authentication error.", "Login failed because the credentials were rejected."),
        ("A man is playing a guitar.", "Someone is strumming a guitar."),
        ("The medication was discontinued last week.", "The drug was stopped seven days ago."),
        ("How much does the claim cost in total?", "What is the total amount of the claim?"),
    ]
    a = server.embed([p[0] for p in pairs])
    b = server.embed([p[1] for p in pairs])
    sims = a @ b.T
    for i, (first, _) in enumerate(pairs):
        others = max(np.delete(sims[i], i).max(), np.delete(sims[:, i], i).max())
        check(f"paraphrase pair {i + 1} beats unrelated pairs", sims[i, i] - others > 0.2,
              f"{sims[i, i]:.3f} vs at most {others:.3f} ({first!r})")


def measure_throughput() -> None:
    """texts/s for ~100-token texts in batches of 32 (informational: the machine's load varies)."""
    rng = random.Random(1)
    words = [w for w in (server.model_dir() / "vocab.txt").read_text().split()[2000:12000] if w.isalpha()]
    texts = [" ".join(rng.choice(words) for _ in range(98)) for _ in range(64)]
    tokens = sum(len(e.ids) for e in server.get_model().tokenize(texts)) / len(texts)
    started = time.perf_counter()
    server.embed(texts)
    rate = len(texts) / (time.perf_counter() - started)
    threads = os.environ["OPENBLAS_NUM_THREADS"]
    print(f"info throughput: {rate:.1f} texts/s ({tokens:.0f} tokens each, batches of {server.BATCH_SIZE}, "
          f"{threads} BLAS thread(s))")


def request(url: str, body: bytes | None = None, key: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def is_error(body: dict) -> bool:
    error = body.get("error")
    return isinstance(error, dict) and {"message", "type", "code"} <= error.keys() and bool(error["message"])


def read_lines(log) -> list[str]:
    """What the server has written to its log so far."""
    log.seek(0)
    return log.read().decode(errors="replace").splitlines()


def check_http() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    key = secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, str(HERE / "server.py"), "--port", str(port)],
                            env={**os.environ, "MINILM_API_KEY": key}, stderr=log)
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = request(base + "/health")
                break
            except OSError:
                time.sleep(0.2)
        ready = (200, {"ok": True, "model": "all-MiniLM-L6-v2", "dimensions": 384})
        check("server starts; GET /health", health == ready, f"{health}")
        if health is None:
            return

        texts = ["Patient.birthDate", "When was the patient born?"]
        body = json.dumps({"input": texts, "model": "text-embedding-3-small", "encoding_format": "float"}).encode()
        status, reply = request(base + "/v1/embeddings", body, key)
        vectors = np.array([d["embedding"] for d in reply.get("data", [])], dtype=np.float32)
        tokens = sum(len(e.ids) for e in server.get_model().tokenize(texts))
        check("POST /v1/embeddings: 200 in OpenAI's format",
              status == 200 and reply.get("object") == "list" and reply.get("model") == "text-embedding-3-small"
              and [d["object"] for d in reply["data"]] == ["embedding"] * 2
              and [d["index"] for d in reply["data"]] == [0, 1]
              and reply.get("usage") == {"prompt_tokens": tokens, "total_tokens": tokens},
              f"{status} {str(reply)[:120]}")
        check("  its vectors are embed()'s", vectors.shape == (2, 384)
              and float(np.abs(vectors - server.embed(texts)).max()) < 1e-6)

        body = json.dumps({"input": "Patient.birthDate", "encoding_format": "base64", "dimensions": 384}).encode()
        status, reply = request(base + "/v1/embeddings", body, key)
        decoded = np.frombuffer(base64.b64decode(reply["data"][0]["embedding"]), dtype="<f4") if status == 200 else None
        check("a string input, base64, no model named", status == 200 and reply["model"] == "all-MiniLM-L6-v2"
              and decoded is not None and float(np.abs(decoded - vectors[0]).max()) < 1e-6, f"{status}")

        good = json.dumps({"input": ["x"], "model": "m"}).encode()
        too_many = json.dumps({"input": ["x"] * 2049}).encode()
        cases = [
            ("a wrong key: 401", request(base + "/v1/embeddings", good, "not-" + key), 401),
            ("no key: 401", request(base + "/v1/embeddings", good), 401),
            ("bad JSON: 400", request(base + "/v1/embeddings", b"{input:", key), 400),
            ("no input: 400", request(base + "/v1/embeddings", b'{"model": "m"}', key), 400),
            ("2049 inputs: 400", request(base + "/v1/embeddings", too_many, key), 400),
            ("dimensions 512: 400", request(base + "/v1/embeddings",
                                            json.dumps({"input": "x", "dimensions": 512}).encode(), key), 400),
            ("an unknown path: 404", request(base + "/v1/chat/completions", good, key), 404),
        ]
        for name, (status, reply), expected in cases:
            check(name + " with an OpenAI error body", status == expected and is_error(reply), f"{status} {reply}")
        # The server writes a request's line after its response: give the last one a moment to land
        # before stopping it (11 lines: the start, /health, two embeddings and the seven refusals).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(read_lines(log)) < 11:
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        lines = read_lines(log)
        log.close()
    logged = [line for line in lines if line.startswith("POST /v1/embeddings 200 inputs=2 ")]
    check("the server logs a line per request", len(logged) == 1 and len(lines) >= 11, f"{len(lines)} lines")


def main() -> None:
    check_model()
    measure_throughput()
    check_http()
    failed = results.count(False)
    print(f"{results.count(True)} passed, {failed} failed")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
