"""Acquisition: the data of one hook call, from prefetch or the EHR's FHIR server.

The one place that turns settings and a hook request into a :class:`FhirClient` (the web
routes only call :func:`acquire`). Everything it fetches shares the call's budget: one
deadline and one byte limit (``outbound.call_scope``, opened by the web layer before the
JWT check so a ``jku`` fetch draws on it too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from .config import Settings
from .fhir_client import FhirClient
from .prefetch import gather
from .record import PatientRecord


def fhir_client(
    settings: Settings, http: httpx.AsyncClient, fhir_server: str, access_token: str | None
) -> FhirClient:
    """A client for ``fhir_server``; raises ``FhirHostNotAllowed`` when the guard refuses it."""
    return FhirClient(
        http,
        fhir_server,
        access_token=access_token,
        allowed_hosts=settings.fhir_hosts,
        require_https=settings.fhir_https_required,
        timeout_s=settings.fhir_request_timeout_s,
        max_pages=settings.fhir_max_pages,
        max_resources=settings.fhir_max_resources,
        max_response_bytes=settings.fhir_max_response_bytes,
        max_retries=settings.fhir_max_retries,
        max_redirects=settings.fhir_max_redirects,
    )


async def acquire(
    settings: Settings,
    http: httpx.AsyncClient,
    templates: Mapping[str, str],
    context: Mapping[str, Any],
    prefetch: Mapping[str, Any] | None,
    fhir_server: str | None,
    access_token: str | None,
) -> PatientRecord:
    """The PatientRecord of one call (412 when required data can be had neither way)."""

    def client_factory() -> FhirClient | None:
        if fhir_server is None:
            return None
        return fhir_client(settings, http, fhir_server, access_token)

    return await gather(
        templates,
        context,
        prefetch,
        client_factory,
        deadline_s=settings.fhir_overall_deadline_s,
        max_call_bytes=settings.fhir_max_call_bytes,
    )
