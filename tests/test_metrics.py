"""/metrics: requests, FHIR fetches, 412s, 401s, cards and feedback, with safe labels."""

from __future__ import annotations

import socket
from pathlib import Path

from cds_service.evaluate import request_from_bundle
from fhir_server import FhirTestServer, load_bundle
from metrics_support import samples
from support import BASE_URL, FIXTURES, empty_prefetch, load_json, make_settings, patient_view, service
from test_api_auth import auth_settings, token

SERVICE = "/cds-services/calf-pain-review"
FEEDBACK = SERVICE + "/feedback"
MULTI = load_json(FIXTURES / "manifest.json")[0]  # many cards at once
OVERRIDE_SYSTEM = "https://calf-cds.example.org/override-reason"


def _refused_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_cards_and_feedback_are_counted_by_topic_version_and_reason(tmp_path: Path) -> None:
    request = request_from_bundle(load_json(FIXTURES / MULTI["file"]), MULTI["patientId"], MULTI["encounterId"])
    async with service(make_settings(tmp_path)) as client:
        answer = await client.post(SERVICE, json=request)
        cards = answer.json()["cards"]
        assert answer.status_code == 200 and len(cards) >= 3
        first, second = cards[0], cards[1]
        feedback = {"feedback": [
            {"card": first["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-21T10:05:31Z",
             "overrideReason": {"reason": {"code": "not-relevant", "system": OVERRIDE_SYSTEM}}},
            {"card": second["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-21T10:05:31Z",
             "overrideReason": {"userComment": "seen yesterday"}},
            {"card": "00000000-0000-4000-8000-000000000000", "outcome": "overridden",
             "outcomeTimestamp": "2026-11-21T10:05:31Z", "overrideReason": {"userComment": "?"}},
        ]}
        assert (await client.post(FEEDBACK, json=feedback)).status_code == 200
        text = (await client.get("/metrics")).text

    for card in cards:
        topic = card["source"]["topic"]["code"]
        assert samples(text, "calf_cds_cards_issued_total", topic=topic, indicator=card["indicator"],
                       service="calf-pain-review") == 1
    assert samples(text, "calf_cds_cards_issued_total") == len(cards)
    topic = first["source"]["topic"]["code"]
    version = _version_of(topic)
    assert samples(text, "calf_cds_feedback_total", topic=topic, card_version=version, outcome="overridden") == 1
    assert samples(text, "calf_cds_override_reasons_total", topic=topic, card_version=version,
                   reason="not_relevant") == 1
    assert samples(text, "calf_cds_override_reasons_total", topic=second["source"]["topic"]["code"],
                   reason="none") == 1
    # Feedback on a card this service never issued: counted, under "unknown".
    assert samples(text, "calf_cds_feedback_total", topic="unknown", card_version="unknown") == 1
    assert samples(text, "calf_cds_request_duration_seconds_count", endpoint="service",
                   service="calf-pain-review", status="200") == 1
    assert samples(text, "calf_cds_request_duration_seconds_count", endpoint="feedback", status="200") == 1
    assert MULTI["patientId"] not in text and first["uuid"] not in text


def _version_of(topic: str) -> str:
    from support import catalog

    return catalog().card_meta(topic).version


async def test_412_and_fhir_fetch_errors_are_counted(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{_refused_port()}/fhir"
    async with service(make_settings(tmp_path)) as client:
        refused = await client.post(SERVICE, json=patient_view("p-SECRET-1", fhirServer=dead))
        missing = await client.post(SERVICE, json=patient_view("p-SECRET-1"))
        text = (await client.get("/metrics")).text
    assert (refused.status_code, missing.status_code) == (412, 412)
    assert samples(text, "calf_cds_precondition_failed_total", service="calf-pain-review") == 2
    assert samples(text, "calf_cds_request_duration_seconds_count", endpoint="service", status="412") == 2
    # Each missing key was tried once against the refused port.
    errors = samples(text, "calf_cds_outbound_fetch_errors_total", target="fhir", outcome="connect")
    assert errors >= 1
    assert samples(text, "calf_cds_outbound_fetch_duration_seconds_count", target="fhir", outcome="connect") == errors
    assert "p-SECRET-1" not in text and "127.0.0.1" not in text


async def test_fhir_fetch_latency_from_a_real_server(tmp_path: Path, fhir_server: FhirTestServer) -> None:
    load_bundle(fhir_server, MULTI["file"])
    body = patient_view(MULTI["patientId"], fhirServer=fhir_server.base_url, fhirAuthorization={
        "access_token": fhir_server.token, "token_type": "Bearer", "expires_in": 300,
        "scope": "user/*.read", "subject": "calf-cds"})
    async with service(make_settings(tmp_path)) as client:
        assert (await client.post(SERVICE, json=body)).status_code == 200
        text = (await client.get("/metrics")).text
    fetched = samples(text, "calf_cds_outbound_fetch_duration_seconds_count", target="fhir", outcome="2xx")
    assert fetched >= 7  # one per prefetch key at least (Encounter read, searches, Medications)
    assert samples(text, "calf_cds_outbound_fetch_duration_seconds_sum", target="fhir", outcome="2xx") > 0
    assert samples(text, "calf_cds_outbound_fetch_errors_total") == 0


async def test_401s_are_counted_by_reason(tmp_path: Path) -> None:
    async with service(auth_settings(tmp_path)) as client:
        await client.post(SERVICE, json=patient_view(prefetch=empty_prefetch()))
        await client.post(SERVICE, json=patient_view(prefetch=empty_prefetch()),
                          headers={"Authorization": "Bearer not.a.jwt"})
        jwt_value = token("https://elsewhere.example.org/cds-services/calf-pain-review")
        await client.post(SERVICE, json=patient_view(prefetch=empty_prefetch()),
                          headers={"Authorization": f"Bearer {jwt_value}"})
        text = (await client.get("/metrics")).text
    assert samples(text, "calf_cds_unauthorized_total", reason="missing_authorization_header") == 1
    assert samples(text, "calf_cds_unauthorized_total", reason="aud_mismatch") == 1
    assert samples(text, "calf_cds_unauthorized_total") == 3
    assert jwt_value not in text


async def test_unknown_service_ids_do_not_become_labels(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path)) as client:
        for n in range(5):
            assert (await client.post(f"/cds-services/patient-{n}", json={})).status_code == 404
        text = (await client.get("/metrics")).text
    assert samples(text, "calf_cds_request_duration_seconds_count", endpoint="service", service="unknown",
                   status="404") == 5
    assert "patient-3" not in text


async def test_metrics_is_prometheus_text(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path)) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE calf_cds_request_duration_seconds histogram" in response.text
    assert BASE_URL not in response.text
