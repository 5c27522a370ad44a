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

from cds_service.evaluate import request_from_bundle
from fhir_server import FhirTestServer, post_transaction
from sandbox_prefetch import sandbox_request
from support import load_json, service
from test_e2e_fixtures import ENTRIES, FIXTURES, SERVICE, check, settings_for


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
async def test_fixture_as_the_sandbox_sends_it(
    tmp_path: Path, entry: dict[str, Any], fhir_server: FhirTestServer
) -> None:
    # run.sh posts each fixture file unchanged: the server must take it (a deliberately
    # invalid resource is refused on its own, the patient's other resources are stored)
    bundle = load_json(FIXTURES / entry["file"])
    answer = post_transaction(fhir_server, bundle)
    refused = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e, r in zip(bundle["entry"], answer["entry"], strict=True)
        if not r["response"]["status"].startswith("2")
    }
    assert refused == set(entry.get("invalidResourceIds", []))
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


async def test_an_ehr_without_the_procedure_observations_key_still_gets_its_cards(tmp_path: Path) -> None:
    """A prefetch built from an older discovery document (no ``procedureObservations``) and no
    ``fhirServer``: the supplementary key is skipped, not a 412; a core key still is one."""
    entry = next(e for e in ENTRIES if e["patientId"] == "calf-multi-01")
    request = request_from_bundle(load_json(FIXTURES / entry["file"]), entry["patientId"])
    del request["prefetch"]["procedureObservations"]
    async with service(settings_for(tmp_path, entry)) as client:
        response = await client.post(SERVICE, json=request)
        assert response.status_code == 200, response.text
        check(entry, response.json())
        del request["prefetch"]["observations"]
        refused = await client.post(SERVICE, json=request)
    assert refused.status_code == 412
    assert refused.json()["resourceType"] == "OperationOutcome"


async def test_the_procedure_observations_key_is_fetched_when_absent(
    tmp_path: Path, fhir_server: FhirTestServer
) -> None:
    """With a ``fhirServer`` the absent key is fetched: the name-matched ABI of fixture 40
    arrives that way when the EHR prefetched everything else."""
    entry = next(e for e in ENTRIES if e["patientId"] == "calf-abi-40")
    post_transaction(fhir_server, load_json(FIXTURES / entry["file"]))
    request = request_from_bundle(load_json(FIXTURES / entry["file"]), entry["patientId"])
    observations = request["prefetch"]["observations"]
    observations["entry"] = [e for e in observations["entry"] if "ABI" not in str(e["resource"]["code"])]
    del request["prefetch"]["procedureObservations"]
    request["fhirServer"] = fhir_server.base_url
    request["fhirAuthorization"] = {
        "access_token": fhir_server.token, "token_type": "Bearer", "expires_in": 300,
        "scope": "user/*.read", "subject": "calf-cds",
    }
    async with service(settings_for(tmp_path, entry)) as client:
        response = await client.post(SERVICE, json=request)
    assert response.status_code == 200, response.text
    check(entry, response.json())
