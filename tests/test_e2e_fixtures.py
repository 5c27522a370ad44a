"""End to end through HTTP: every fixture patient, with full prefetch and with no prefetch
through the real FHIR server (sekmet), gives exactly the cards its manifest entry names."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cds_service.evaluate import request_from_bundle
from fhir_server import FhirTestServer, load_bundle, post_transaction
from support import FIXTURES, SCHEMAS, load_json, make_settings, patient_view, service

SERVICE = "/cds-services/calf-pain-review"
MANIFEST = load_json(FIXTURES / "manifest.json")
ENTRIES = MANIFEST if isinstance(MANIFEST, list) else MANIFEST["patients"]
# The ABI fixture uses a site-local code (no LOINC for ABI is verified): a site configures it.
SITE_CODES = [
    "https://example.org/calf-cds/CodeSystem/vascular-lab|ABI-L",
    "https://example.org/calf-cds/CodeSystem/vascular-lab|ABI-R",
]
RESPONSE_SCHEMA = load_json(SCHEMAS / "service-response.schema.json")


def topics(response_body: dict[str, Any]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in response_body["cards"]]


def settings_for(tmp_path: Path, entry: dict[str, Any], **extra: Any):
    at = datetime.fromisoformat(entry["evaluationTime"].replace("Z", "+00:00"))
    return make_settings(tmp_path, evaluation_time=at, **extra)


def check(entry: dict[str, Any], body: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(RESPONSE_SCHEMA).validate(body)
    got = topics(body)
    assert len(got) == len(set(got)), "one card per topic at most"
    assert set(got) == set(entry["expectTopics"]), entry["description"]
    order = {"critical": 0, "warning": 1, "info": 2}
    ranks = [order[c["indicator"]] for c in body["cards"]]
    assert ranks == sorted(ranks), "cards ordered critical, warning, info"
    by_topic = {card["source"]["topic"]["code"]: card for card in body["cards"]}
    for topic, indicator in entry.get("expectIndicators", {}).items():
        assert by_topic[topic]["indicator"] == indicator, topic
    for topic, text in entry.get("expectDetail", {}).items():
        assert text in by_topic[topic]["detail"], topic
    for topic, text in entry.get("expectNoSuggestion", {}).items():
        labels = [sg["label"] for sg in by_topic[topic].get("suggestions", [])]
        assert not any(text in label for label in labels), (topic, labels)
    for card in body["cards"]:
        assert len(card["summary"]) < 140
        assert "Take " not in card["summary"], "dose instructions belong in the detail, not the summary"
        assert "Decision support, not a diagnosis" in card["detail"]
        assert f"Patient/{entry['patientId']}" not in card["detail"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
async def test_fixture_with_full_prefetch(tmp_path: Path, entry: dict[str, Any]) -> None:
    bundle = load_json(FIXTURES / entry["file"])
    request = request_from_bundle(bundle, entry["patientId"], entry.get("encounterId"))
    async with service(settings_for(tmp_path, entry)) as client:
        response = await client.post(SERVICE, json=request)
    assert response.status_code == 200, response.text
    check(entry, response.json())


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
async def test_fixture_without_encounter_id(tmp_path: Path, entry: dict[str, Any]) -> None:
    """As the CDS Hooks sandbox calls: no encounterId; the encounters come through the
    ``recentEncounters`` prefetch key and their reasons still count (issue 7 §4)."""
    bundle = load_json(FIXTURES / entry["file"])
    request = request_from_bundle(bundle, entry["patientId"], context_encounter=False)
    assert "encounterId" not in request["context"] and request["prefetch"]["encounter"] is None
    async with service(settings_for(tmp_path, entry)) as client:
        response = await client.post(SERVICE, json=request)
    assert response.status_code == 200, response.text
    check(entry, response.json())


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
@pytest.mark.parametrize("with_encounter_id", [True, False], ids=["encounterId", "no-encounterId"])
async def test_fixture_through_fhir_server(
    tmp_path: Path, entry: dict[str, Any], fhir_server: FhirTestServer, with_encounter_id: bool
) -> None:
    bundle = load_json(FIXTURES / entry["file"])
    # A real server validates on write and refuses the deliberately invalid resource; it
    # can only reach us through prefetch (tested above), so it stays out of the server.
    invalid = set(entry.get("invalidResourceIds", []))
    bundle["entry"] = [
        e for e in bundle["entry"] if f"{e['resource']['resourceType']}/{e['resource']['id']}" not in invalid
    ]
    post_transaction(fhir_server, bundle)
    body = patient_view(entry["patientId"])
    if with_encounter_id and entry.get("encounterId"):
        body["context"]["encounterId"] = entry["encounterId"]
    body["fhirServer"] = fhir_server.base_url
    body["fhirAuthorization"] = {
        "access_token": fhir_server.token, "token_type": "Bearer", "expires_in": 300,
        "scope": "user/*.read", "subject": "calf-cds",
    }
    async with service(settings_for(tmp_path, entry, extra_observation_codes=SITE_CODES)) as client:
        response = await client.post(SERVICE, json=body)
    assert response.status_code == 200, response.text
    check(entry, response.json())


async def test_site_local_codes_join_the_observation_template(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path, extra_observation_codes=SITE_CODES)) as client:
        template = (await client.get("/cds-services")).json()["services"][0]["prefetch"]["observations"]
    for code in SITE_CODES:
        assert code in template


async def test_fhir_server_refuses_a_wrong_token_and_we_answer_412(tmp_path: Path, fhir_server: FhirTestServer) -> None:
    entry = ENTRIES[0]
    load_bundle(fhir_server, entry["file"])
    body = patient_view(entry["patientId"], fhirServer=fhir_server.base_url)
    body["fhirAuthorization"] = {"access_token": "wrong", "token_type": "Bearer", "expires_in": 300,
                                 "scope": "user/*.read", "subject": "calf-cds"}
    async with service(settings_for(tmp_path, entry)) as client:
        response = await client.post(SERVICE, json=body)
    assert response.status_code == 412
