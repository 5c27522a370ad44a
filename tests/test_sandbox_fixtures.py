"""Every fixture as the real CDS Hooks sandbox calls the service (issue 7, last "Done when").

The sandbox builds the prefetch itself from the discovery document (POST ``_search`` per
template, first page only, the ``encounter`` key skipped because patient-view carries no
``encounterId``; see ``sandbox_prefetch.py``) against a real FHIR server, with the service's
default settings (no site-local codes: ``run.sh`` configures none).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fhir_server import FhirTestServer, post_transaction
from sandbox_prefetch import sandbox_request
from support import load_json, service
from test_e2e_fixtures import ENTRIES, FIXTURES, SERVICE, check, settings_for


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
async def test_fixture_as_the_sandbox_sends_it(
    tmp_path: Path, entry: dict[str, Any], fhir_server: FhirTestServer
) -> None:
    bundle = load_json(FIXTURES / entry["file"])
    invalid = set(entry.get("invalidResourceIds", []))
    bundle["entry"] = [
        e for e in bundle["entry"] if f"{e['resource']['resourceType']}/{e['resource']['id']}" not in invalid
    ]
    post_transaction(fhir_server, bundle)
    async with service(settings_for(tmp_path, entry)) as client:
        templates = (await client.get("/cds-services")).json()["services"][0]["prefetch"]
        body = sandbox_request(templates, fhir_server.base_url, entry["patientId"], fhir_server.auth_headers)
        assert "encounter" not in body["prefetch"] and "encounterId" not in body["context"]
        # the sandbox's FHIR server is open; the test server wants the bearer token for any
        # fetch the service adds (next pages, Medication reads)
        body["fhirAuthorization"] = {
            "access_token": fhir_server.token, "token_type": "Bearer", "expires_in": 300,
            "scope": "user/*.read", "subject": "calf-cds",
        }
        response = await client.post(SERVICE, json=body)
    assert response.status_code == 200, response.text
    check(entry, response.json())
