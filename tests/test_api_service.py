"""The HTTP surface over ASGI: discovery (D1–D6), hook calls (R1–R9), responses (C1–C10)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import respx

from support import (
    SCHEMAS,
    bundle_of,
    empty_prefetch,
    load_json,
    make_settings,
    patient_view,
    service,
)

SERVICE = "/cds-services/calf-pain-review"
USER_TOKENS = {"userPractitionerId", "userPractitionerRoleId", "userPatientId", "userRelatedPersonId"}
PATIENT_VIEW_TOKENS = {"context.userId", "context.patientId", "context.encounterId"}


def schema(name: str) -> dict[str, Any]:
    return load_json(SCHEMAS / f"{name}.schema.json")


def assert_valid(instance: Any, name: str) -> None:
    jsonschema.Draft202012Validator(
        schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(instance)


def no_empty_values(value: Any, path: str = "$") -> list[str]:
    problems: list[str] = []
    if value is None or value == "" or value == [] or value == {}:
        problems.append(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            problems += no_empty_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problems += no_empty_values(item, f"{path}[{i}]")
    return problems


@pytest.fixture
async def client(tmp_path: Path):
    async with service(make_settings(tmp_path)) as c:
        yield c


# --- discovery -------------------------------------------------------------------------

async def test_discovery_lists_both_services(client: httpx.AsyncClient) -> None:
    response = await client.get("/cds-services")
    assert response.status_code == 200  # D1
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert_valid(body, "discovery-response")
    review, prescribing = body["services"]
    assert review["id"] == "calf-pain-review" and review["hook"] == "patient-view"  # D2
    assert prescribing["id"] == "calf-safe-prescribing" and prescribing["hook"] == "order-sign"
    # issue 10: the same prefetch templates as calf-pain-review
    assert prescribing["prefetch"] == review["prefetch"]
    for svc in (review, prescribing):
        assert svc["title"] and svc["description"]
    assert not no_empty_values(body)  # D4


async def test_discovery_prefetch_uses_only_2_0_tokens(client: httpx.AsyncClient) -> None:
    prefetch = (await client.get("/cds-services")).json()["services"][0]["prefetch"]
    assert {"patient", "encounter", "medicationRequests", "medicationStatements",
            "observations", "conditions", "procedures"} <= set(prefetch)
    for template in prefetch.values():  # D3
        for token in re.findall(r"\{\{(.*?)\}\}", template):
            assert token.strip() in PATIENT_VIEW_TOKENS | USER_TOKENS, token
        assert "today()" not in template and "%" not in template.split("?")[0]
    assert prefetch["encounter"] == "Encounter/{{context.encounterId}}"
    observations = prefetch["observations"]
    assert "_sort=-date" in observations
    for loinc in ("2823-3", "6298-4", "19123-9", "2157-6", "62292-8", "48065-7", "3016-3"):
        assert f"http://loinc.org|{loinc}" in observations


async def test_each_advertised_service_is_reachable(client: httpx.AsyncClient) -> None:
    for svc in (await client.get("/cds-services")).json()["services"]:  # D5
        body = patient_view(prefetch=empty_prefetch())
        if svc["hook"] == "order-sign":
            body["hook"] = "order-sign"
            body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection"}
        response = await client.post(f"/cds-services/{svc['id']}", json=body)
        assert response.status_code == 200


# --- request validation (R1–R3) -------------------------------------------------------

@pytest.mark.parametrize("missing", ["hook", "hookInstance", "context"])
async def test_missing_required_field_is_400_with_operation_outcome(client: httpx.AsyncClient, missing: str) -> None:
    body = patient_view(prefetch=empty_prefetch())
    del body[missing]
    response = await client.post(SERVICE, json=body)
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert any(missing in issue.get("diagnostics", "") for issue in outcome["issue"])


async def test_unknown_service_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/cds-services/nope", json=patient_view())
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_hook_not_registered_for_the_service_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(SERVICE, json=patient_view(prefetch=empty_prefetch(), hook="order-sign"))
    assert response.status_code == 400
    assert "order-sign" in response.text


async def test_fhir_authorization_requires_fhir_server(client: httpx.AsyncClient) -> None:
    auth = {"access_token": "t0k", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read", "subject": "c"}
    response = await client.post(SERVICE, json=patient_view(prefetch=empty_prefetch(), fhirAuthorization=auth))
    assert response.status_code == 400
    assert "fhirServer" in response.text
    assert "t0k" not in response.text


async def test_unknown_fields_and_extension_are_accepted(client: httpx.AsyncClient) -> None:
    body = patient_view(prefetch=empty_prefetch(), extension={"com.example.x": {"a": 1}}, futureField=[1])
    body["context"]["extension"] = {"com.example.y": True}
    response = await client.post(SERVICE, json=body)
    assert response.status_code == 200
    assert response.json() == {"cards": []}


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (lambda b: b["context"].update(userId="COREPRACTITIONER1"), "userId"),
        (lambda b: b["context"].update(userId="Device/1"), "userId"),
        (lambda b: b["context"].pop("patientId"), "patientId"),
        (lambda b: b["context"].update(patientId=12), "patientId"),
        (lambda b: b["context"].update(patientId="../../etc/passwd"), "patientId"),
        (lambda b: b["context"].update(encounterId={"x": 1}), "encounterId"),
        (lambda b: b.update(hook=5), "hook"),
        (lambda b: b.update(context=[]), "context"),
        (lambda b: b.update(prefetch="yes"), "prefetch"),
        (lambda b: b.update(fhirServer="javascript:alert(1)"), "fhirServer"),
    ],
    ids=["userId-no-type", "userId-bad-type", "no-patientId", "patientId-int", "patientId-path",
         "encounterId-object", "hook-int", "context-list", "prefetch-string", "fhirServer-scheme"],
)
async def test_wrong_types_and_hostile_values_are_400(client: httpx.AsyncClient, mutate, expect: str) -> None:
    body = patient_view(prefetch=empty_prefetch())
    mutate(body)
    response = await client.post(SERVICE, json=body)
    assert response.status_code == 400, response.text
    assert expect in response.text


@pytest.mark.parametrize(
    "raw",
    [b"{", b"[]", b"null", b"\"text\"", b"{\"hook\": \"patient-view\",}", b"\xff\xfe", b"", b"[" * 5000],
    ids=["truncated", "array", "null", "string", "trailing-comma", "not-utf8", "empty", "deep-nesting"],
)
async def test_malformed_json_is_400(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post(SERVICE, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert "Traceback" not in response.text


async def test_wrong_content_type_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(SERVICE, content=b"hook=patient-view", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400


async def test_huge_body_is_413_without_reading_it_all(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path, max_body_bytes=10_000)) as c:
        response = await c.post(SERVICE, content=b"{" + b" " * 20_000 + b"}", headers={"Content-Type": "application/json"})
        assert response.status_code == 413
        assert response.json()["resourceType"] == "OperationOutcome"


async def test_broken_fhir_in_prefetch_is_not_a_500(client: httpx.AsyncClient) -> None:
    prefetch = empty_prefetch({"resourceType": "Patient", "id": "p1", "birthDate": 1961, "gender": ["x"]})
    prefetch["conditions"] = bundle_of(
        {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}, "code": "calf pain"},
        {"resourceType": "Condition"},
        "not-a-resource",  # type: ignore[arg-type]
    )
    prefetch["observations"] = {"resourceType": "Bundle", "entry": "nope"}
    prefetch["medicationRequests"] = [1, 2, 3]
    response = await client.post(SERVICE, json=patient_view(prefetch=prefetch))
    assert response.status_code == 200
    assert response.json() == {"cards": []}


# --- prefetch and 412 (R4–R7) ----------------------------------------------------------

async def test_no_prefetch_and_no_fhir_server_is_412(client: httpx.AsyncClient) -> None:
    response = await client.post(SERVICE, json=patient_view())
    assert response.status_code == 412  # R7
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_unreachable_fhir_server_is_412(client: httpx.AsyncClient) -> None:
    with respx.mock:
        respx.get(url__startswith="https://fhir.example.org").mock(side_effect=httpx.ConnectError("down"))
        response = await client.post(SERVICE, json=patient_view(fhirServer="https://fhir.example.org/r4"))
    assert response.status_code == 412


async def test_fhir_server_not_on_allowlist_is_412_and_never_contacted(client: httpx.AsyncClient) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(url__startswith="https://internal.corp").mock(return_value=httpx.Response(200, json={}))
        response = await client.post(SERVICE, json=patient_view(fhirServer="https://internal.corp/fhir"))
    assert response.status_code == 412
    assert not route.called


async def test_null_prefetch_values_mean_no_data(client: httpx.AsyncClient) -> None:
    prefetch = {k: None for k in empty_prefetch()}
    response = await client.post(SERVICE, json=patient_view(prefetch=prefetch))  # R5
    assert response.status_code == 200
    assert response.json() == {"cards": []}


async def test_missing_keys_fetched_with_bearer_token(client: httpx.AsyncClient) -> None:
    prefetch = empty_prefetch({"resourceType": "Patient", "id": "p1"})
    del prefetch["conditions"]
    with respx.mock:
        route = respx.get("https://fhir.example.org/r4/Condition").mock(return_value=httpx.Response(200, json=bundle_of()))
        auth = {"access_token": "opaque-access-token", "token_type": "Bearer", "expires_in": 300,
                "scope": "user/*.read", "subject": "calf-cds"}
        response = await client.post(
            SERVICE,
            json=patient_view(prefetch=prefetch, fhirServer="https://fhir.example.org/r4", fhirAuthorization=auth),
        )
    assert response.status_code == 200  # R4
    assert route.calls[0].request.headers["Authorization"] == "Bearer opaque-access-token"
    assert route.calls[0].request.url.params["clinical-status"] == "active,recurrence,relapse"


# --- responses (C1–C10) ----------------------------------------------------------------

async def test_empty_answer_is_cards_array_only(client: httpx.AsyncClient) -> None:
    response = await client.post(SERVICE, json=patient_view(prefetch=empty_prefetch()))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"  # C10
    assert response.json() == {"cards": []}  # C1
    assert_valid(response.json(), "service-response")


async def test_get_on_service_is_405_outcome(client: httpx.AsyncClient) -> None:
    response = await client.get(SERVICE)
    assert response.status_code == 405
    assert response.json()["resourceType"] == "OperationOutcome"
