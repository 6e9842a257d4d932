"""Configuration from the environment (see .env.example). Nothing secret is written in the code."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class Config:
    fhir_base_url: str
    port: int
    scope: str
{%- if p.smart %}
    client_id: str
    redirect_uri: str
{%- endif %}
{%- if p.backend %}
    client_id: str
    private_key_pem: str
    key_id: str | None
{%- endif %}


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set (see .env.example)")
    return value


def load_config(env: Mapping[str, str] = os.environ) -> Config:
    port = int(env.get("PORT", "3000"))
    return Config(
        fhir_base_url=env.get("FHIR_BASE_URL", "{{ p.base_url }}"),
        port=port,
        scope=env.get("SCOPE", "{{ p.scope }}"),
{%- if p.smart %}
        client_id=_required(env, "CLIENT_ID"),
        redirect_uri=env.get("REDIRECT_URI", f"http://localhost:{port}/callback"),
{%- endif %}
{%- if p.backend %}
        client_id=_required(env, "CLIENT_ID"),
        private_key_pem=_required(env, "PRIVATE_KEY_PEM").replace("\\n", "\n"),
        key_id=env.get("KEY_ID") or None,
{%- endif %}
    )
