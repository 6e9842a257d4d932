"""The app's HTTP server (standard library): `python -m fhir_app`, then open http://localhost:3000/."""

from __future__ import annotations

import json
import re
import secrets
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fhir_app import app, auth
from fhir_app.config import load_config
from fhir_app.fhir import FhirClient, FhirError

CONFIG = load_config()
{%- if p.smart %}
#: Pending authorizations by `state`, and signed-in browsers by session id (in memory: one process).
PENDING: dict[str, dict[str, Any]] = {}
SESSIONS: dict[str, dict[str, Any]] = {}
{%- endif %}
{%- if p.backend %}
_TOKEN = None


def _server_token():
    global _TOKEN
    if _TOKEN is None:
        _TOKEN = auth.token_source(
            client_id=CONFIG.client_id,
            token_url=auth.discover_token_url(CONFIG.fhir_base_url),
            private_key_pem=CONFIG.private_key_pem,
            key_id=CONFIG.key_id,
            scope=CONFIG.scope,
        )
    return _TOKEN
{%- endif %}


class Handler(BaseHTTPRequestHandler):
    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, indent=2).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, location: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
{%- if p.smart %}

    def _begin(self, iss: str, launch: str | None = None) -> None:
        smart = auth.discover(iss)
        pair = auth.pkce()
        state = auth.new_state()
        PENDING[state] = {"verifier": pair.verifier, "smart": smart, "aud": iss}
        self._redirect(
            auth.authorize_url(
                smart,
                client_id=CONFIG.client_id,
                redirect_uri=CONFIG.redirect_uri,
                scope=CONFIG.scope,
                state=state,
                challenge=pair.challenge,
                aud=iss,
                launch=launch,
            )
        )

    def _client(self) -> FhirClient | None:
        match = re.search(r"(?:^|;\s*)sid=([\w-]+)", self.headers.get("Cookie", ""))
        session = SESSIONS.get(match.group(1)) if match else None
        if not session:
            return None
        token = session["token"]["access_token"]
        return FhirClient(session["aud"], lambda: token)
{%- endif %}

    def _route(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
{%- if p.smart %}
{%- if p.ehr %}
        if url.path == "/launch":
            if not query.get("iss") or not query.get("launch"):
                return self._json(400, {"error": "the EHR must send iss and launch"})
            return self._begin(query["iss"], query["launch"])
{%- else %}
        if url.path == "/login":
            return self._begin(CONFIG.fhir_base_url)
{%- endif %}
        if url.path == "/callback":
            flow = PENDING.pop(query.get("state", ""), None)
            if not flow or not query.get("code"):
                return self._json(400, {"error": "unknown state or no code"})
            token = auth.exchange_code(
                flow["smart"], code=query["code"], redirect_uri=CONFIG.redirect_uri, client_id=CONFIG.client_id, verifier=flow["verifier"]
            )
            sid = secrets.token_urlsafe(24)
            SESSIONS[sid] = {"token": token, "aud": flow["aud"]}
            target = {% if !p.analytics %}f"/patients/{urllib.parse.quote(token['patient'])}" if token.get("patient") else {% endif %}"/"
            return self._redirect(target, {"Set-Cookie": f"sid={sid}; HttpOnly; SameSite=Lax; Path=/"})
        client = self._client()
        if client is None:
{%- if p.ehr %}
            return self._json(401, {"error": "launch this app from the EHR (it opens /launch)"})
{%- else %}
            return self._redirect("/login")
{%- endif %}
{%- else if p.backend %}
        client = FhirClient(CONFIG.fhir_base_url, _server_token())
{%- else %}
        client = FhirClient(CONFIG.fhir_base_url, auth.no_token)
{%- endif %}
{%- if p.analytics %}
        if url.path in ("/", "/totals"):
            return self._json(200, app.totals(client, 5_000))
{%- else %}
        match = re.fullmatch(r"/patients/([^/]+)(?:/([A-Za-z]+))?", url.path)
        if match and not match.group(2) and method == "GET":
            record = app.patient_record(client, urllib.parse.unquote(match.group(1)))
            return self._json(200, {"name": app.display_name(record["patient"]), **record})
{%- if p.provider %}
        if match and match.group(2) and method == "POST":
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if match.group(2) not in app.WRITABLE or not body.get("text"):
                return self._json(400, {"error": "POST {text} to a writable type", "writable": list(app.WRITABLE)})
            return self._json(201, app.record(client, match.group(2), urllib.parse.unquote(match.group(1)), body["text"]))
{%- endif %}
        if url.path == "/":
            return self._json(200, {"app": "{{ p.title }}", "try": "/patients/<patient id>", "resources": list(app.RESOURCES)})
{%- endif %}
        self._json(404, {"error": f"no route for {method} {url.path}"})

    def _handle(self, method: str) -> None:
        try:
            self._route(method)
        except FhirError as error:
            self._json(404 if error.status == 404 else 502, {"error": str(error)})

    def do_GET(self) -> None:  # noqa: N802 (the http.server naming)
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")


def main() -> None:
    server = ThreadingHTTPServer(("0.0.0.0", CONFIG.port), Handler)
    print(f"{{ p.title }} on http://localhost:{CONFIG.port}/ (FHIR server: {CONFIG.fhir_base_url})")
    server.serve_forever()
