"""Authorization: {{ p.auth_title }}."""

from __future__ import annotations
{%- if p.none %}

from typing import Optional


def no_token() -> Optional[str]:
    """The configured server is open (a public test server): requests carry no token."""
    return None
{%- endif %}
{%- if p.smart %}

import base64
import hashlib
import json
import secrets
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Optional


def discover(fhir_base_url: str) -> dict[str, Any]:
    """`GET [base]/.well-known/smart-configuration`"""
    request = urllib.request.Request(
        f"{fhir_base_url.rstrip('/')}/.well-known/smart-configuration", headers={"Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def pkce() -> Pkce:
    """A fresh PKCE pair: the challenge is base64url(SHA-256(verifier)), method S256."""
    verifier = _b64url(secrets.token_bytes(32))
    return Pkce(verifier, _b64url(hashlib.sha256(verifier.encode("ascii")).digest()))


def new_state() -> str:
    return secrets.token_urlsafe(16)


def authorize_url(
    smart: dict[str, Any],
    *,
    client_id: str,
    redirect_uri: str,
    scope: str,
    state: str,
    challenge: str,
    aud: str,
    launch: Optional[str] = None,
) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "aud": aud,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if launch:
        params["launch"] = launch
    return f"{smart['authorization_endpoint']}?{urllib.parse.urlencode(params)}"


def exchange_code(smart: dict[str, Any], *, code: str, redirect_uri: str, client_id: str, verifier: str) -> dict[str, Any]:
    form = urllib.parse.urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        }
    ).encode("ascii")
    request = urllib.request.Request(
        smart["token_endpoint"],
        data=form,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())
{%- endif %}
{%- if p.backend %}

import json
import threading
import time
import urllib.parse
import urllib.request
import uuid
from typing import Any, Callable, Optional

import jwt


def client_assertion(*, client_id: str, token_url: str, private_key_pem: str, key_id: Optional[str] = None, now: Optional[int] = None) -> str:
    """The client assertion: a JWT signed with RS384, valid for five minutes."""
    issued = int(time.time()) if now is None else now
    claims = {"iss": client_id, "sub": client_id, "aud": token_url, "exp": issued + 300, "jti": str(uuid.uuid4())}
    headers = {"kid": key_id} if key_id else None
    return jwt.encode(claims, private_key_pem, algorithm="RS384", headers=headers)


def discover_token_url(fhir_base_url: str) -> str:
    """The token endpoint from `[base]/.well-known/smart-configuration`."""
    request = urllib.request.Request(
        f"{fhir_base_url.rstrip('/')}/.well-known/smart-configuration", headers={"Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["token_endpoint"]


def request_token(*, client_id: str, token_url: str, private_key_pem: str, scope: str, key_id: Optional[str] = None) -> dict[str, Any]:
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion(
                client_id=client_id, token_url=token_url, private_key_pem=private_key_pem, key_id=key_id
            ),
        }
    ).encode("ascii")
    request = urllib.request.Request(
        token_url,
        data=form,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def token_source(**options: Any) -> Callable[[], Optional[str]]:
    """Tokens on demand, reused until a minute before they expire."""
    cached: dict[str, Any] = {}
    lock = threading.Lock()

    def token() -> Optional[str]:
        with lock:
            if not cached or time.time() >= cached["until"]:
                answer = request_token(**options)
                cached["token"] = answer["access_token"]
                cached["until"] = time.time() + int(answer.get("expires_in", 300)) - 60
            return cached["token"]

    return token
{%- endif %}
