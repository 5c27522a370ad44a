"""Issue #2's end-to-end path: a Synthea-shaped patient (SCD-coded statin on a
MedicationRequest, calf pain Condition) gets a statin-muscle-symptoms card, with full
prefetch and with no prefetch through the real FHIR server."""

from __future__ import annotations

from pathlib import Path

import jsonschema

from cds_service.evaluate import request_from_bundle
from fhir_server import FhirTestServer, load_bundle
from support import FIXTURES, SCHEMAS, load_json, make_settings, patient_view, service

BUNDLE = FIXTURES / "patients" / "statin-calf-pain.json"
PATIENT = "calf-statin-01"


def statin_card(body: dict) -> dict:
    jsonschema.Draft202012Validator(load_json(SCHEMAS / "service-response.schema.json")).validate(body)
    cards = [c for c in body["cards"] if c["source"]["topic"]["code"] == "statin-muscle-symptoms"]
    assert len(cards) == 1, body
    card = cards[0]
    assert card["indicator"] == "warning"
    assert "atorvastatin" in card["detail"].lower()
    assert "atorvastatin 20 MG Oral Tablet" in card["summary"]
    assert "once daily" in card["detail"]  # dose as charted, never cut in the detail
    for suggestion in card.get("suggestions", []):
        for action in suggestion["actions"]:
            assert action["resource"]["subject"] == {"reference": f"Patient/{PATIENT}"}
    assert card["uuid"]
    return card


async def test_statin_card_with_full_prefetch(tmp_path: Path) -> None:
    request = request_from_bundle(load_json(BUNDLE), PATIENT)
    async with service(make_settings(tmp_path)) as client:
        response = await client.post("/cds-services/calf-pain-review", json=request)
    assert response.status_code == 200
    statin_card(response.json())


async def test_statin_card_without_prefetch_through_fhir_server(tmp_path: Path, fhir_server: FhirTestServer) -> None:
    load_bundle(fhir_server, BUNDLE)
    body = patient_view(PATIENT, fhirServer=fhir_server.base_url)
    body["fhirAuthorization"] = {"access_token": fhir_server.token, "token_type": "Bearer", "expires_in": 300,
                                 "scope": "user/*.read", "subject": "calf-cds"}
    async with service(make_settings(tmp_path)) as client:
        response = await client.post("/cds-services/calf-pain-review", json=body)
    assert response.status_code == 200, response.text
    card = statin_card(response.json())
    # Feedback on the issued card is attributed to its topic and version.
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-21T12:01:00Z"}]}
    async with service(make_settings(tmp_path)) as client:
        stored = await client.post("/cds-services/calf-pain-review/feedback", json=feedback)
    assert stored.status_code == 200
    from cds_service.state import FeedbackStore
    store = FeedbackStore(make_settings(tmp_path).database_url)
    try:
        [row] = store.list_feedback("calf-pain-review")
        assert row.topic == "statin-muscle-symptoms"
    finally:
        store.close()


async def test_card_shape_follows_the_checklist(tmp_path: Path) -> None:
    """C2–C9 on a real card: uuids per instance, suggestions need selectionBehavior,
    override reasons carry display, links and sources are absolute, nothing empty."""
    request = request_from_bundle(load_json(BUNDLE), PATIENT)
    async with service(make_settings(tmp_path)) as client:
        first = statin_card((await client.post("/cds-services/calf-pain-review", json=request)).json())
        second = statin_card((await client.post("/cds-services/calf-pain-review", json=request)).json())
    assert first["uuid"] != second["uuid"]  # C9: unique per card instance
    assert first["suggestions"], "the statin card suggests the missing tests"
    assert first["selectionBehavior"] in ("any", "at-most-one")  # C4
    if first["selectionBehavior"] == "at-most-one":
        assert sum(bool(s.get("isRecommended")) for s in first["suggestions"]) <= 1
    for suggestion in first["suggestions"]:
        assert suggestion["label"] and suggestion["uuid"]  # C5, C9
        for action in suggestion["actions"]:
            assert action["type"] == "create" and action["description"]
            assert action["resource"]["resourceType"] == "ServiceRequest"
    for reason in first["overrideReasons"]:
        assert reason["code"] and reason["system"] and reason["display"]  # C6
    assert first["source"]["url"].startswith("https://")  # C7
    for link in first.get("links", []):
        assert link["type"] in ("absolute", "smart")
        assert link["type"] == "smart" or "appContext" not in link
