"""order-sign requests: the context is validated (bad draftOrders is a 400 OperationOutcome,
never a 500), and the spec's and the sandbox's order-sign requests answer 200."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from orders_support import RESPONSE_SCHEMA, SERVICE, order_sign
from support import EXAMPLES, SCHEMAS, empty_prefetch, load_json, make_settings, patient_view, service

GOOD_DRAFT = {"resourceType": "MedicationRequest", "id": "d1", "status": "draft", "intent": "order",
              "subject": {"reference": "Patient/p1"},
              "medicationCodeableConcept": {"text": "simvastatin 40 MG Oral Tablet"}}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with service(make_settings(tmp_path)) as c:
        yield c


def body_with(draft_orders: Any) -> dict[str, Any]:
    return order_sign("p1", draft_orders, prefetch=empty_prefetch())


BAD_DRAFT_ORDERS = {
    "not-an-object": ["MedicationRequest/d1"],
    "not-a-bundle": {"resourceType": "MedicationRequest", "id": "d1"},
    "entry-not-a-list": {"resourceType": "Bundle", "entry": {"resource": GOOD_DRAFT}},
    "entry-without-resource": {"resourceType": "Bundle", "entry": [{"fullUrl": "urn:uuid:1"}]},
    "resource-without-type": {"resourceType": "Bundle", "entry": [{"resource": {"id": "d1"}}]},
    "order-without-id": {"resourceType": "Bundle", "entry": [
        {"resource": {k: v for k, v in GOOD_DRAFT.items() if k != "id"}}]},
    "order-with-bad-id": {"resourceType": "Bundle", "entry": [{"resource": {**GOOD_DRAFT, "id": "a b/c"}}]},
}


@pytest.mark.parametrize("case", sorted(BAD_DRAFT_ORDERS))
async def test_bad_draft_orders_are_400_operation_outcome(client: httpx.AsyncClient, case: str) -> None:
    response = await client.post(SERVICE, json=body_with(BAD_DRAFT_ORDERS[case]))
    assert response.status_code == 400, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert any("draftOrders" in issue.get("diagnostics", "") for issue in outcome["issue"])


async def test_missing_draft_orders_is_400(client: httpx.AsyncClient) -> None:
    body = body_with({"resourceType": "Bundle"})
    del body["context"]["draftOrders"]
    response = await client.post(SERVICE, json=body)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("user", ["example", "Device/1", 7])
async def test_user_id_must_be_a_user_reference(client: httpx.AsyncClient, user: Any) -> None:
    body = body_with({"resourceType": "Bundle", "entry": [{"resource": GOOD_DRAFT}]})
    body["context"]["userId"] = user
    assert (await client.post(SERVICE, json=body)).status_code == 400


async def test_patient_view_hook_is_refused_by_the_order_sign_service(client: httpx.AsyncClient) -> None:
    response = await client.post(SERVICE, json=patient_view(prefetch=empty_prefetch()))
    assert response.status_code == 400
    assert "not registered for hook 'patient-view'" in response.text


async def test_a_draft_of_another_patient_is_ignored(client: httpx.AsyncClient) -> None:
    mine = {"resourceType": "Bundle", "entry": [{"resource": {**GOOD_DRAFT,
                                                              "medicationCodeableConcept": {"text": "simvastatin 80 MG Oral Tablet"}}}]}
    theirs = copy.deepcopy(mine)
    theirs["entry"][0]["resource"]["subject"] = {"reference": "Patient/someone-else"}
    fired = (await client.post(SERVICE, json=body_with(mine))).json()["cards"]
    ignored = (await client.post(SERVICE, json=body_with(theirs))).json()["cards"]
    assert [c["source"]["topic"]["code"] for c in fired] == ["rx-statin-interaction"]
    assert ignored == []


ORDER_SIGN_VECTORS = sorted((EXAMPLES / "hooks" / "order-sign").glob("*.json"))


@pytest.mark.parametrize("path", ORDER_SIGN_VECTORS, ids=[p.name for p in ORDER_SIGN_VECTORS])
async def test_hook_library_order_sign_contexts_answer_200(client: httpx.AsyncClient, path: Path) -> None:
    context = load_json(path)["context"]
    jsonschema.Draft202012Validator(load_json(SCHEMAS / "context-order-sign.schema.json")).validate(context)
    body = {"hook": "order-sign", "hookInstance": "0e4bfcb9-1a44-4ac2-8f1d-6a7c31b40c4b",
            "context": context, "prefetch": empty_prefetch()}
    response = await client.post(SERVICE, json=body)
    assert response.status_code == 200, response.text
    jsonschema.Draft202012Validator(RESPONSE_SCHEMA).validate(response.json())


async def test_sandbox_order_sign_capture_answers_200(client: httpx.AsyncClient) -> None:
    # The captured body as the sandbox sent it (no intent, no medication), with the
    # prefetch the sandbox computes from the service's templates.
    body = load_json(EXAMPLES / "sandbox-client" / "order-sign.request.json")
    body["prefetch"] = empty_prefetch()
    response = await client.post(SERVICE, json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"cards": []}


async def test_a_sandbox_style_draft_without_intent_still_gets_its_card(client: httpx.AsyncClient) -> None:
    """The sandbox's Rx Sign view sends MedicationRequests without ``intent``; the draft
    is read as an order (without that, R4 validation drops it and no card fires)."""
    body = load_json(EXAMPLES / "sandbox-client" / "order-sign.request.json")
    draft = body["context"]["draftOrders"]["entry"][0]["resource"]
    draft["medicationCodeableConcept"] = {"text": "Simvastatin 80 MG Oral Tablet",
                                          "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "code": "200345"}]}
    assert "intent" not in draft
    body["prefetch"] = empty_prefetch()
    cards = (await client.post(SERVICE, json=body)).json()["cards"]
    assert [c["source"]["topic"]["code"] for c in cards] == ["rx-statin-interaction"]
    assert "MedicationRequest/request-123" in cards[0]["detail"]


async def test_a_defect_in_a_field_the_rules_do_not_read_does_not_hide_the_draft(
        client: httpx.AsyncClient) -> None:
    """The sandbox's Rx Sign view (seen in the real sandbox) sends ``category`` as an
    object, invalid R4; the draft must still be read."""
    draft = {**GOOD_DRAFT, "medicationCodeableConcept": {"text": "Simvastatin 80 MG Oral Tablet"},
             "category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                                      "code": "community"}]}}
    cards = (await client.post(SERVICE, json=body_with({"resourceType": "Bundle", "entry": [{"resource": draft}]}))).json()["cards"]
    assert [c["source"]["topic"]["code"] for c in cards] == ["rx-statin-interaction"]
    broken = {**draft, "medicationCodeableConcept": {"text": "Simvastatin 80 MG Oral Tablet", "coding": "198211"}}
    cards = (await client.post(SERVICE, json=body_with({"resourceType": "Bundle", "entry": [{"resource": broken}]}))).json()["cards"]
    assert cards == []  # a broken field the rules read: skipped, as for the chart
