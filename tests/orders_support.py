"""Helpers for the order-sign (calf-safe-prescribing) tests: the fixture manifest, request
bodies with prefetch or for the FHIR server, and the checks every answer must pass."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema

from cds_service.evaluate import request_from_bundle
from support import FIXTURES, SCHEMAS, load_json

SERVICE = "/cds-services/calf-safe-prescribing"
MANIFEST: list[dict[str, Any]] = load_json(FIXTURES / "orders" / "manifest.json")
RESPONSE_SCHEMA = load_json(SCHEMAS / "service-response.schema.json")
# The ABI fixtures use a site-local code (no LOINC for ABI is verified): a site configures it.
SITE_CODES = ["https://example.org/calf-cds/CodeSystem/vascular-lab|ABI-L"]


def draft_bundle(entry: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": copy.deepcopy(r)} for r in entry["draftOrders"]]}


def order_sign(patient_id: str, drafts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "order-sign",
        "hookInstance": "5b0b2a3c-7e59-4cf5-9d51-0f0c3c1f6a11",
        "context": {"userId": "Practitioner/example", "patientId": patient_id, "draftOrders": drafts},
    }
    body.update(extra)
    return body


def with_prefetch(entry: dict[str, Any]) -> dict[str, Any]:
    chart = load_json(FIXTURES / entry["file"])
    prefetch = request_from_bundle(chart, entry["patientId"])["prefetch"]
    return order_sign(entry["patientId"], draft_bundle(entry), prefetch=prefetch)


def topics(body: dict[str, Any]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in body["cards"]]


def check(entry: dict[str, Any], body: dict[str, Any]) -> None:
    """Schema, topics, indicators, wording, and that every card names its draft order."""
    jsonschema.Draft202012Validator(RESPONSE_SCHEMA).validate(body)
    assert sorted(topics(body)) == sorted(entry["expectTopics"]), entry["description"]
    assert not set(topics(body)) & {s["topic"] for s in entry["silentTopics"]}
    drafts = {f"{r['resourceType']}/{r['id']}" for r in entry["draftOrders"]}
    by_topic = {card["source"]["topic"]["code"]: card for card in body["cards"]}
    for topic, indicator in entry.get("expectIndicators", {}).items():
        assert by_topic[topic]["indicator"] == indicator, topic
    for topic, text in entry.get("expectDetail", {}).items():
        assert text in by_topic[topic]["detail"], topic
    for topic, kinds in entry.get("expectSuggestions", {}).items():
        got = [a["type"] for s in by_topic[topic].get("suggestions", []) for a in s["actions"]]
        assert got == kinds, topic
    for card in body["cards"]:
        named = [d for d in drafts if f"**{d}**" in card["detail"]]
        assert len(named) == 1, "the detail names the draft order it concerns"
        for suggestion in card.get("suggestions", []):
            for action in suggestion["actions"]:
                assert named[0] in action["description"], action
                if action["type"] == "delete":
                    assert action["resourceId"] == named[0]
                if action["type"] == "update":
                    assert f"{action['resource']['resourceType']}/{action['resource']['id']}" == named[0]
        assert "Decision support, not a diagnosis" in card["detail"]
        assert f"Patient/{entry['patientId']}" not in card["detail"]
