"""A tiny loopback FHIR server for the fallback-fetch benchmark, with a fixed delay.

It serves one transaction Bundle's resources: reads (``GET /fhir/{type}/{id}``) and
searches (``GET /fhir/{type}?...``, one searchset page, filtered by ``status`` /
``clinical-status`` and by the ``code`` and ``category`` tokens (``system|code`` or a bare
code) like a real server; other parameters ignored). Every response waits
``BENCH_STUB_DELAY_MS`` first, standing in for an EHR's network and query time, so the
benchmark can show whether the service's queries overlap (≈ one delay) or queue (≈ eight).

Configured by environment: ``BENCH_STUB_BUNDLE`` (a JSON file), ``BENCH_STUB_DELAY_MS``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

FHIR_JSON = "application/fhir+json"


def _status_of(resource: Mapping[str, Any]) -> str | None:
    clinical = resource.get("clinicalStatus")
    if isinstance(clinical, Mapping):
        for coding in clinical.get("coding") or ():
            return str(coding.get("code"))
    status = resource.get("status")
    return status if isinstance(status, str) else None


def _tokens(values: list[str]) -> tuple[frozenset[tuple[str, str]], frozenset[str]]:
    """A token parameter's values as (system, code) pairs and bare codes, parsed once per
    search (the service's Observation search names about a hundred codes)."""
    pairs: set[tuple[str, str]] = set()
    bare: set[str] = set()
    for token in values:
        system, bar, code = token.rpartition("|")
        if bar:
            pairs.add((system, code))
        else:
            bare.add(code)
    return frozenset(pairs), frozenset(bare)


def _token_match(concepts: Any, tokens: tuple[frozenset[tuple[str, str]], frozenset[str]]) -> bool:
    """FHIR token search over CodeableConcept(s): ``system|code`` or a bare ``code``."""
    pairs, bare = tokens
    if isinstance(concepts, Mapping):
        concepts = [concepts]
    if not isinstance(concepts, list):
        return False
    for concept in concepts:
        if not isinstance(concept, Mapping):
            continue
        for coding in concept.get("coding") or ():
            code = coding.get("code")
            if code in bare or (coding.get("system"), code) in pairs:
                return True
    return False


def create_app() -> Starlette:
    bundle = orjson.loads(Path(os.environ["BENCH_STUB_BUNDLE"]).read_bytes())
    delay = float(os.environ.get("BENCH_STUB_DELAY_MS", "50")) / 1000
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        by_type.setdefault(resource["resourceType"], []).append(resource)

    def reply(document: object, status: int = 200) -> Response:
        return Response(orjson.dumps(document), status_code=status, media_type=FHIR_JSON)

    async def metadata(_: Request) -> Response:
        return reply({"resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
                      "fhirVersion": "4.0.1", "format": ["json"]})

    async def read(request: Request) -> Response:
        await asyncio.sleep(delay)
        rtype, rid = request.path_params["rtype"], request.path_params["rid"]
        for resource in by_type.get(rtype, []):
            if resource.get("id") == rid:
                return reply(resource)
        return reply({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "not-found"}]}, 404)

    async def search(request: Request) -> Response:
        await asyncio.sleep(delay)
        wanted = request.query_params.get("clinical-status") or request.query_params.get("status")
        allowed = set(wanted.split(",")) if wanted else None
        tokens = {name: _tokens(request.query_params[name].split(","))
                  for name in ("code", "category") if request.query_params.get(name)}
        found = [r for r in by_type.get(request.path_params["rtype"], [])
                 if (allowed is None or _status_of(r) in allowed)
                 and all(_token_match(r.get(name), wanted_tokens) for name, wanted_tokens in tokens.items())]
        return reply({"resourceType": "Bundle", "type": "searchset", "total": len(found),
                      "entry": [{"resource": r, "search": {"mode": "match"}} for r in found]})

    return Starlette(routes=[
        Route("/fhir/metadata", metadata),
        Route("/fhir/{rtype}/{rid}", read),
        Route("/fhir/{rtype}", search),
    ])
