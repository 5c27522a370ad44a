"""The suggestions of the order-sign cards, applied to the draft Bundle they act on, give
valid FHIR R4 resources (fhir.resources R4B models), and do what they say: ``delete``
removes the named draft, ``update`` replaces it with the changed medication, ``create``
adds a coded ServiceRequest for the patient."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from orders_support import MANIFEST, SERVICE, draft_bundle, with_prefetch
from support import make_settings, service

FIRING = [e for e in MANIFEST if e["expectTopics"]]


def ref(resource: dict[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource.get('id')}"


def apply(bundle: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply CDS Hooks actions to a draft-orders Bundle, as an EHR would (transaction-like)."""
    out = copy.deepcopy(bundle)
    entries = out["entry"]
    for action in actions:
        if action["type"] == "delete":
            before = len(entries)
            entries[:] = [e for e in entries if ref(e["resource"]) != action["resourceId"]]
            assert len(entries) == before - 1, "delete names exactly one draft of the Bundle"
        elif action["type"] == "update":
            target = ref(action["resource"])
            hits = [i for i, e in enumerate(entries) if ref(e["resource"]) == target]
            assert len(hits) == 1, "update replaces a draft of the Bundle"
            entries[hits[0]] = {"resource": action["resource"]}
        else:
            entries.append({"resource": action["resource"]})
    return out


def validate_r4(bundle: dict[str, Any]) -> None:
    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle["entry"]:
        resource = dict(entry["resource"])
        resource.setdefault("intent", "order")  # the sandbox-style drafts only; ours all have it
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


@pytest.mark.parametrize("entry", FIRING, ids=[e["file"] for e in FIRING])
async def test_applied_suggestions_give_valid_r4_resources(tmp_path: Path, entry: dict[str, Any]) -> None:
    async with service(make_settings(tmp_path)) as client:
        cards = (await client.post(SERVICE, json=with_prefetch(entry))).json()["cards"]
    drafts = draft_bundle(entry)
    applied = 0
    for card in cards:
        for suggestion in card.get("suggestions", []):
            result = apply(drafts, suggestion["actions"])
            validate_r4(result)
            for action in suggestion["actions"]:
                refs = [ref(e["resource"]) for e in result["entry"]]
                if action["type"] == "delete":
                    assert action["resourceId"] not in refs
                elif action["type"] == "update":
                    new = next(e["resource"] for e in result["entry"] if ref(e["resource"]) == ref(action["resource"]))
                    old = next(r for r in entry["draftOrders"] if ref(r) == ref(action["resource"]))
                    assert new["medicationCodeableConcept"] != old["medicationCodeableConcept"]
                    assert new["medicationCodeableConcept"]["coding"][0]["system"] == \
                        "http://www.nlm.nih.gov/research/umls/rxnorm"
                else:
                    created = action["resource"]
                    assert created["resourceType"] == "ServiceRequest"
                    assert created["subject"] == {"reference": f"Patient/{entry['patientId']}"}
                    assert created["code"]["coding"][0]["system"] in (
                        "http://loinc.org", "http://www.ama-assn.org/go/cpt")
            applied += 1
    assert applied, "every firing fixture offers at least one suggestion"


def test_apply_refuses_a_delete_of_an_order_not_in_the_bundle() -> None:
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": {"resourceType": "MedicationRequest", "id": "a"}}]}
    with pytest.raises(AssertionError):
        apply(bundle, [{"type": "delete", "description": "x", "resourceId": "MedicationRequest/b"}])
