"""What the CDS Hooks sandbox (cds-hooks/sandbox, `service-exchange.js`) sends, rebuilt in Python.

The sandbox fills each prefetch template of the discovery document itself: it replaces
``{{context.patientId}}`` and ``{{context.userId}}``, skips (sends nothing for) a template whose
tokens stay unresolved (``{{context.encounterId}}``: patient-view carries no encounterId there),
reads instance URLs with GET, and runs every search as ``POST [base]/Type/_search`` with the query
as a form body. It keeps the first page only (no ``next`` link is followed) and puts the raw
answers under their keys. The hook call then carries ``fhirServer`` but no ``encounterId``.

Tests use this against the real FHIR server to see what a tester sees in the sandbox.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

import httpx

_TOKEN = re.compile(r"\{\{[^}]+\}\}")


def fill(template: str, patient_id: str, user_id: str) -> str | None:
    """The sandbox's token replacement; ``None`` where a token is left (the key is skipped)."""
    out = re.sub(r"\{\{\s*context\.patientId\s*\}\}", patient_id, template)
    out = re.sub(r"\{\{\s*context\.userId\s*\}\}", user_id, out)
    return None if _TOKEN.search(out) else out


def sandbox_prefetch(
    templates: Mapping[str, str], base_url: str, patient_id: str, headers: Mapping[str, str],
    user_id: str = "Practitioner/example",
) -> dict[str, Any]:
    """The prefetch object the sandbox builds for one patient-view call."""
    result: dict[str, Any] = {}
    with httpx.Client(base_url=base_url.rstrip("/") + "/", headers=dict(headers), timeout=30.0,
                      trust_env=False) as http:
        for key, template in templates.items():
            url = fill(template, patient_id, user_id)
            if url is None:
                continue
            path, _, query = url.partition("?")
            if not query:
                response = http.get(path)
            else:
                # query-string's parse + URLSearchParams: values decoded once, sent as a form
                form = urllib.parse.parse_qsl(query, keep_blank_values=True)
                response = http.post(
                    f"{path}/_search", content=urllib.parse.urlencode(form),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            if response.status_code < 400 and response.content:
                result[key] = response.json()
    return result


def sandbox_request(
    templates: Mapping[str, str], base_url: str, patient_id: str, headers: Mapping[str, str],
) -> dict[str, Any]:
    """A patient-view body as the sandbox posts it (no encounterId, no fhirAuthorization)."""
    return {
        "hookInstance": "5f2d3b4e-8c1a-4d6e-9b7f-0a1c2e3d4f5a",
        "hook": "patient-view",
        "fhirServer": base_url,
        "context": {"patientId": patient_id, "userId": "Practitioner/example"},
        "prefetch": sandbox_prefetch(templates, base_url, patient_id, headers),
    }
