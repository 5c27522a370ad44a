"""calf-safe-prescribing end to end through HTTP: every order-sign fixture, with full
prefetch and with no prefetch through the real FHIR server (sekmet), gives exactly the
cards its manifest entry names (firing fixtures and near-misses), valid against the
CDS Hooks 2.0 response schema, each naming its draft order in the detail and every action."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from fhir_server import FhirTestServer, load_bundle
from orders_support import MANIFEST, SERVICE, SITE_CODES, check, draft_bundle, order_sign, with_prefetch
from support import make_settings, service

IDS = [e["file"] for e in MANIFEST]


def settings_for(tmp_path: Path, entry: dict[str, Any], **extra: Any):
    at = datetime.fromisoformat(entry["evaluationTime"].replace("Z", "+00:00"))
    return make_settings(tmp_path, evaluation_time=at, **extra)


def test_manifest_has_firing_fixtures_and_near_misses_for_every_topic() -> None:
    from cds_service.clinical.orders.engine import ORDER_TOPICS

    for topic in ORDER_TOPICS:
        assert any(topic in e["expectTopics"] for e in MANIFEST), topic
        assert any(topic in {s["topic"] for s in e["silentTopics"]} for e in MANIFEST), topic


@pytest.mark.parametrize("entry", MANIFEST, ids=IDS)
async def test_order_fixture_with_full_prefetch(tmp_path: Path, entry: dict[str, Any]) -> None:
    async with service(settings_for(tmp_path, entry)) as client:
        response = await client.post(SERVICE, json=with_prefetch(entry))
    assert response.status_code == 200, response.text
    check(entry, response.json())


@pytest.mark.parametrize("entry", MANIFEST, ids=IDS)
async def test_order_fixture_through_fhir_server(tmp_path: Path, entry: dict[str, Any],
                                                 fhir_server: FhirTestServer) -> None:
    load_bundle(fhir_server, entry["file"])
    body = order_sign(entry["patientId"], draft_bundle(entry), fhirServer=fhir_server.base_url)
    body["fhirAuthorization"] = {
        "access_token": fhir_server.token, "token_type": "Bearer", "expires_in": 300,
        "scope": "user/*.read", "subject": "calf-cds",
    }
    async with service(settings_for(tmp_path, entry, extra_observation_codes=SITE_CODES)) as client:
        response = await client.post(SERVICE, json=body)
    assert response.status_code == 200, response.text
    check(entry, response.json())
