"""FHIR OperationOutcome bodies for every non-200 answer (3.0-ballot asks for them)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response

#: An OperationOutcome is a FHIR resource: its media type says so (CDS Hooks bodies stay
#: ``application/json``).
FHIR_JSON = "application/fhir+json"

_CODES = {400: "invalid", 401: "login", 404: "not-found", 405: "not-supported",
          412: "not-found", 413: "too-costly", 415: "not-supported", 500: "exception",
          503: "transient"}


def operation_outcome(status: int, issues: list[str]) -> dict[str, Any]:
    code = _CODES.get(status, "processing")
    entries: list[dict[str, Any]] = []
    for text in issues or ["request failed"]:
        issue: dict[str, Any] = {"severity": "error", "code": code}
        if text:
            issue["diagnostics"] = text[:500]
        entries.append(issue)
    return {"resourceType": "OperationOutcome", "issue": entries}


def outcome_response(status: int, issues: list[str], headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=orjson.dumps(operation_outcome(status, issues)),
        status_code=status,
        media_type=FHIR_JSON,
        headers=headers,
    )


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(content=orjson.dumps(payload), status_code=status, media_type="application/json")
