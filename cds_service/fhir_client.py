"""FhirClient: reads and searches on the EHR's FHIR server, and nothing else.

Every httpx error, non-2xx status, oversized or non-JSON body and OperationOutcome is
translated here into ``errors.FhirError`` subclasses (``raise ... from exc``), so the
layers above never see httpx. The host allowlist is enforced before any request.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import orjson

from .errors import FhirBadResponse, FhirHostNotAllowed, FhirUnavailable

log = logging.getLogger(__name__)

Resource = dict[str, Any]


def host_allowed(url: str, allowed_hosts: list[str], *, require_https: bool) -> bool:
    """True when ``url`` is http(s) on an allowlisted host (``*.example.org`` wildcards)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("https", "http") or (require_https and parts.scheme != "https"):
        return False
    if parts.username or parts.password:
        return False
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return False
    for entry in allowed_hosts:
        pattern = entry.lower().rstrip(".")
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and host != pattern[2:]:
                return True
        elif host == pattern:
            return True
    return False


class FhirClient:
    """One FHIR base URL, one (optional) bearer token, one shared httpx client."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        access_token: str | None,
        allowed_hosts: list[str],
        require_https: bool,
        timeout_s: float,
        max_pages: int,
        max_resources: int,
        max_response_bytes: int,
    ) -> None:
        if not host_allowed(base_url, allowed_hosts, require_https=require_https):
            raise FhirHostNotAllowed("fhirServer is not on the allowlist")
        self._http = http
        self._base = base_url.rstrip("/") + "/"
        self._origin = urlsplit(self._base)[:2]
        self._token = access_token
        self._timeout = timeout_s
        self._max_pages = max_pages
        self._max_resources = max_resources
        self._max_bytes = max_response_bytes

    def _absolute(self, url: str) -> str:
        absolute = urljoin(self._base, url)
        # Paging links must stay on the server we were given (no open redirect / SSRF).
        if urlsplit(absolute)[:2] != self._origin:
            raise FhirHostNotAllowed("link leaves the fhirServer origin")
        return absolute

    async def get_json(self, url: str) -> Resource | None:
        """GET one FHIR JSON document; ``None`` for 404/410 (no such resource)."""
        headers = {"Accept": "application/fhir+json, application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        target = self._absolute(url)
        try:
            async with self._http.stream(
                "GET", target, headers=headers, timeout=self._timeout, follow_redirects=False
            ) as response:
                if response.status_code in (404, 410):
                    return None
                if response.status_code >= 400 or response.status_code < 200:
                    raise FhirUnavailable(f"FHIR server answered HTTP {response.status_code}")
                if response.status_code != 200:
                    raise FhirBadResponse(f"unexpected HTTP {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > self._max_bytes:
                        raise FhirBadResponse("FHIR response exceeds the size limit")
        except httpx.TimeoutException as exc:
            raise FhirUnavailable("FHIR server timed out") from exc
        except httpx.HTTPError as exc:
            raise FhirUnavailable(f"FHIR server unreachable ({type(exc).__name__})") from exc
        try:
            document = orjson.loads(bytes(body))
        except orjson.JSONDecodeError as exc:
            raise FhirBadResponse("FHIR server sent invalid JSON") from exc
        if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
            raise FhirBadResponse("FHIR server sent something that is not a FHIR resource")
        if document["resourceType"] == "OperationOutcome":
            raise FhirBadResponse("FHIR server answered with an OperationOutcome")
        return document

    async def read(self, url: str) -> Resource | None:
        return await self.get_json(url)

    async def search(self, url: str) -> list[Resource]:
        """Run a search and follow ``next`` links (bounded by pages and resources)."""
        resources: list[Resource] = []
        next_url: str | None = url
        pages = 0
        while next_url is not None:
            if pages >= self._max_pages:
                log.warning("FHIR search stopped after %d pages (limit)", pages)
                break
            bundle = await self.get_json(next_url)
            pages += 1
            if bundle is None:
                break
            resources.extend(bundle_resources(bundle))
            if len(resources) > self._max_resources:
                raise FhirBadResponse("FHIR search returned more resources than allowed")
            next_url = next_link(bundle)
        return resources


def bundle_resources(bundle: Resource) -> list[Resource]:
    """Resources of a Bundle (searchset or not), without OperationOutcome entries."""
    if bundle.get("resourceType") != "Bundle":
        return [bundle]
    found: list[Resource] = []
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return found
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource.get("resourceType") not in (
            None,
            "OperationOutcome",
        ):
            found.append(resource)
    return found


def next_link(bundle: Resource) -> str | None:
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            if isinstance(url, str) and url:
                return url
    return None
