"""FhirClient: reads and searches on the EHR's FHIR server, and nothing else.

Every request goes through the outbound guard (``cds_service.outbound``): allowlist and
URL checks before, the address check on the socket, one deadline and byte budget for the
whole hook call, bounded retries and same-origin redirects. Guard errors, non-2xx
statuses, non-JSON bodies and OperationOutcomes are translated here into
``errors.FhirError`` subclasses, so the layers above never see httpx.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import orjson

from .errors import (
    FhirBadResponse,
    FhirHostNotAllowed,
    FhirTruncated,
    FhirUnavailable,
    OutboundBadResponse,
    OutboundRefused,
    OutboundUnavailable,
)
from .outbound import FetchLimits, TargetPolicy, fetch

log = logging.getLogger(__name__)

Resource = dict[str, Any]


def host_allowed(url: str, allowed_hosts: list[str], *, require_https: bool) -> bool:
    """True when ``url`` is http(s) on an allowlisted host (``*.example.org`` wildcards)."""
    try:
        TargetPolicy(tuple(allowed_hosts), require_https).check(url)
    except OutboundRefused:
        return False
    return True


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
        max_retries: int = 2,
        max_redirects: int = 3,
    ) -> None:
        self._policy = TargetPolicy(tuple(allowed_hosts), require_https)
        try:
            base = self._policy.check(base_url)
        except OutboundRefused as exc:
            raise FhirHostNotAllowed(f"fhirServer refused: {exc.message}") from None
        self._http = http
        self._base = base.copy_with(path=base.path.rstrip("/") + "/")
        self._token = access_token
        self._max_pages = max_pages
        self._max_resources = max_resources
        self._limits = FetchLimits(
            request_timeout_s=timeout_s,
            max_bytes=max_response_bytes,
            max_retries=max_retries,
            max_redirects=max_redirects,
        )

    @property
    def host(self) -> str:
        return self._base.host

    def _absolute(self, url: str) -> httpx.URL:
        try:
            absolute = self._base.join(url)
        except (httpx.InvalidURL, ValueError, UnicodeError):
            raise FhirHostNotAllowed("link is not a valid URL") from None
        # Paging links must stay on the server we were given (no open redirect / SSRF).
        if (absolute.scheme, absolute.host, absolute.port) != (
            self._base.scheme,
            self._base.host,
            self._base.port,
        ):
            raise FhirHostNotAllowed(f"link leaves the fhirServer origin ({absolute.host[:100]})")
        return self._check(absolute)

    def _check(self, url: httpx.URL) -> httpx.URL:
        try:
            return self._policy.check(url)
        except OutboundRefused as exc:
            raise FhirHostNotAllowed(exc.message) from None

    async def get_json(self, url: str) -> Resource | None:
        """GET one FHIR JSON document; ``None`` for 404/410 (no such resource)."""
        headers = {"Accept": "application/fhir+json, application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        target = self._absolute(url)
        host = target.host[:100]
        try:
            result = await fetch(
                self._http, target, check=self._check, headers=headers, limits=self._limits
            )
        except OutboundRefused as exc:
            raise FhirHostNotAllowed(exc.message) from None
        except OutboundUnavailable as exc:
            raise FhirUnavailable(exc.message) from None
        except OutboundBadResponse as exc:
            raise FhirBadResponse(exc.message) from None
        status = result.status
        if status in (404, 410):
            return None
        if status >= 400 or status < 200:
            raise FhirUnavailable(f"FHIR server {host} answered HTTP {status}")
        if status != 200:
            raise FhirBadResponse(f"FHIR server {host}: unexpected HTTP {status}")
        try:
            document = orjson.loads(result.body)
        except orjson.JSONDecodeError:
            raise FhirBadResponse(f"FHIR server {host} sent invalid JSON") from None
        finally:
            del result
        if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
            raise FhirBadResponse(f"FHIR server {host} sent something that is not a FHIR resource")
        if document["resourceType"] == "OperationOutcome":
            raise FhirBadResponse(f"FHIR server {host} answered with an OperationOutcome")
        return document

    async def read(self, url: str) -> Resource | None:
        return await self.get_json(url)

    async def first_page(self, url: str) -> list[Resource]:
        """The first page of a search that asks for the newest N (no ``next`` followed)."""
        bundle = await self.get_json(url)
        resources = [] if bundle is None else bundle_resources(bundle)
        if len(resources) > self._max_resources:
            raise FhirTruncated(f"search returned more than {self._max_resources} resources (limit)")
        return resources

    async def search(self, url: str) -> list[Resource]:
        """Run a search and follow ``next`` links.

        A search is never cut silently: more pages than ``max_pages``, more resources than
        ``max_resources`` or a ``next`` link to a page already read raise
        :class:`FhirTruncated` (the caller answers 412 naming the prefetch key).
        """
        resources: list[Resource] = []
        next_url: str | None = url
        seen: set[str] = set()
        pages = 0
        while next_url is not None:
            if pages >= self._max_pages:
                raise FhirTruncated(f"search cut at {pages} pages (limit {self._max_pages})")
            page_key = str(self._absolute(next_url))
            if page_key in seen:
                raise FhirTruncated("search paging loops back to a page already read")
            seen.add(page_key)
            bundle = await self.get_json(next_url)
            pages += 1
            if bundle is None:
                break
            resources.extend(bundle_resources(bundle))
            if len(resources) > self._max_resources:
                raise FhirTruncated(
                    f"search returned more than {self._max_resources} resources (limit)"
                )
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
