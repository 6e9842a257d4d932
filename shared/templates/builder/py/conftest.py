"""A local fake FHIR R4 server for the tests: Patient/123, paged searches (two pages per type), create
with a Location header, SMART discovery and a token endpoint. It records every request."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest


class FakeFhir:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.created = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep the test output quiet
                pass

            def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                data = b"" if body is None else json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8") if length else ""
                fake.requests.append({"method": method, "path": self.path, "headers": dict(self.headers), "body": body})
                base = fake.url
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/.well-known/smart-configuration":
                    return self._send(200, {
                        "authorization_endpoint": f"{base}/auth/authorize",
                        "token_endpoint": f"{base}/auth/token",
                        "capabilities": ["launch-standalone", "launch-ehr", "client-public", "client-confidential-asymmetric"],
                    })
                if url.path == "/auth/token" and method == "POST":
                    return self._send(200, {"access_token": "test-access-token", "token_type": "Bearer", "expires_in": 3600, "patient": "123"})
                parts = [p for p in url.path.split("/") if p]
                if not parts:
                    return self._send(404, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]})
                resource_type = parts[0]
                if method == "POST":
                    fake.created += 1
                    return self._send(201, None, {"Location": f"{base}/{resource_type}/new-{fake.created}/_history/1"})
                if len(parts) > 1:
                    if resource_type == "Patient" and parts[1] == "123":
                        return self._send(200, {"resourceType": "Patient", "id": "123", "name": [{"given": ["Ada"], "family": "Lovelace"}]})
                    return self._send(404, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]})
                query = dict(urllib.parse.parse_qsl(url.query))
                page = 2 if query.get("page") == "2" else 1
                ids = ["a", "b"] if page == 1 else ["c"]
                links = [{"relation": "self", "url": f"{base}{self.path}"}]
                if page == 1:
                    links.append({"relation": "next", "url": f"{base}{url.path}?{urllib.parse.urlencode({**query, 'page': '2'})}"})
                return self._send(200, {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "total": 3,
                    "link": links,
                    "entry": [
                        {"fullUrl": f"{base}/{resource_type}/{i}", "resource": {"resourceType": resource_type, "id": i, "code": {"text": "rare" if i == "c" else "common"}}, "search": {"mode": "match"}}
                        for i in ids
                    ],
                })

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fhir() -> Iterator[FakeFhir]:
    fake = FakeFhir()
    yield fake
    fake.close()
