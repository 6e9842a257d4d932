"""A small FHIR R4 REST client: read, search (following each Bundle's `next` link), and create."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Iterator, Optional

Resource = dict[str, Any]
TokenSource = Callable[[], Optional[str]]


class FhirError(Exception):
    """A request the server refused; `outcome` is its OperationOutcome, when it sent one."""

    def __init__(self, message: str, status: int, outcome: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.outcome = outcome


class FhirClient:
    def __init__(self, base_url: str, token: TokenSource = lambda: None, timeout: float = 30.0) -> None:
        self.base = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _request(self, method: str, url: str, body: Optional[Resource] = None) -> tuple[int, dict[str, str], bytes]:
        headers = {"Accept": "application/fhir+json"}
        token = self.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/fhir+json"
            data = json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                outcome = json.loads(raw) if raw else None
            except ValueError:
                outcome = None
            raise FhirError(f"{method} {url} failed: HTTP {error.code}", error.code, outcome) from None

    def read(self, resource_type: str, resource_id: str) -> Resource:
        """`GET [base]/[type]/[id]`"""
        _, _, body = self._request("GET", f"{self.base}/{resource_type}/{urllib.parse.quote(resource_id, safe='')}")
        return json.loads(body)

    def search(self, resource_type: str, params: Optional[dict[str, str]] = None) -> Iterator[Resource]:
        """`GET [base]/[type]?params`, every page: yields each matching resource."""
        url: Optional[str] = f"{self.base}/{resource_type}?{urllib.parse.urlencode(params or {})}"
        while url:
            _, _, body = self._request("GET", url)
            bundle = json.loads(body)
            for entry in bundle.get("entry", []):
                resource = entry.get("resource") or {}
                if resource.get("resourceType") == resource_type and entry.get("search", {}).get("mode") != "include":
                    yield resource
            url = next((link["url"] for link in bundle.get("link", []) if link.get("relation") == "next"), None)

    def search_all(self, resource_type: str, params: Optional[dict[str, str]] = None, limit: int = 1000) -> list[Resource]:
        """Every match, up to `limit`."""
        found: list[Resource] = []
        for resource in self.search(resource_type, params):
            found.append(resource)
            if len(found) >= limit:
                break
        return found

    def create(self, resource: Resource) -> Resource:
        """`POST [base]/[type]`: answers the created resource (its id from the body or the Location header)."""
        _, headers, body = self._request("POST", f"{self.base}/{resource['resourceType']}", resource)
        if body:
            return json.loads(body)
        location = next((v for k, v in headers.items() if k.lower() == "location"), "")
        resource_id = location.split("/_history")[0].rstrip("/").split("/")[-1] if location else None
        return {**resource, "id": resource_id}
