"""Every CDS Hooks 2.0 example and sandbox capture in tests/vectors (origin: ORIGIN.md there) as a vector."""

from __future__ import annotations

from pathlib import Path

import httpx
import jsonschema
import pytest
import respx

from cds_service.models.request import PatientViewContext
from support import EXAMPLES, SCHEMAS, load_json, make_settings, service

SERVICE = "/cds-services/calf-pain-review"
FHIR_HOSTS = ["hooks.smarthealthit.org", "fhir.example.org", "127.0.0.1"]

ANSWERED = {  # patient-view requests we can answer: missing prefetch keys are fetched
    "spec-2.0/request-patient-view-with-prefetch-and-fhirAuthorization.json",
    "docs-site/quickstart-request.json",
    "sandbox-cds-services/patient-greeting.request.json",
    "sandbox-client/patient-view.request.json",
}
REJECTED_400 = {  # not a patient-view request this service can take
    "spec-2.0/request-with-extension.json": "patientId",
    "spec-2.0/request-prefetch-data-partial.json": "hook",
    "docs-site/legacy-opioid-request-pre1.0-prefetch-format.json": "order-sign",
    "sandbox-cds-services/cms-price-check.request.json": "order-select",
    "sandbox-cds-services/pama-imaging-appropriate.request.json": "order-select",
    "sandbox-cds-services/pama-imaging-suggest-mri.request.json": "order-select",
    "sandbox-client/order-select.request.json": "order-select",
    "sandbox-client/order-sign.request.json": "order-sign",
    "docs-site/radiology-order-select-request.json": "order-select",
}
PRECONDITION_412 = {"sandbox-cds-services/patient-greeting-no-prefetch-no-fhirServer.request.json"}


def test_every_request_example_is_covered() -> None:
    found = {
        str(p.relative_to(EXAMPLES))
        for p in EXAMPLES.rglob("*.json")
        if "request" in p.name and "schemas" not in p.parts and "spec-3.0-ballot" not in p.parts
    }
    assert found == ANSWERED | set(REJECTED_400) | PRECONDITION_412


def fake_fhir(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if "/Patient/" in path:
        return httpx.Response(200, json={"resourceType": "Patient", "id": path.rsplit("/", 1)[1]})
    if "/Encounter/" in path:
        return httpx.Response(404)
    return httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset", "entry": []})


@pytest.mark.parametrize("name", sorted(ANSWERED))
async def test_patient_view_examples_are_answered(tmp_path: Path, name: str) -> None:
    body = load_json(EXAMPLES / name)
    response_schema = load_json(SCHEMAS / "service-response.schema.json")
    with respx.mock:
        route = respx.route(host__in=tuple(FHIR_HOSTS)).mock(side_effect=fake_fhir)
        async with service(make_settings(tmp_path, fhir_allowed_hosts=FHIR_HOSTS)) as client:
            response = await client.post(SERVICE, json=body)
    assert response.status_code == 200, response.text
    jsonschema.Draft202012Validator(response_schema).validate(response.json())
    assert route.called  # our keys were not in their prefetch: fetched from fhirServer
    token = (body.get("fhirAuthorization") or {}).get("access_token")
    for call in route.calls:
        if token:
            assert call.request.headers["Authorization"] == f"Bearer {token}"
        else:
            assert "Authorization" not in call.request.headers


@pytest.mark.parametrize("name", sorted(REJECTED_400))
async def test_other_requests_are_400(tmp_path: Path, name: str) -> None:
    async with service(make_settings(tmp_path)) as client:
        response = await client.post(SERVICE, json=load_json(EXAMPLES / name))
    assert response.status_code == 400
    assert REJECTED_400[name] in response.text


@pytest.mark.parametrize("name", sorted(PRECONDITION_412))
async def test_no_prefetch_no_server_is_412(tmp_path: Path, name: str) -> None:
    async with service(make_settings(tmp_path)) as client:
        response = await client.post(SERVICE, json=load_json(EXAMPLES / name))
    assert response.status_code == 412
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("path", sorted((EXAMPLES / "hooks" / "patient-view").glob("*.json")), ids=lambda p: p.name)
def test_hook_library_contexts_validate(path: Path) -> None:
    context = load_json(path)["context"]
    PatientViewContext.model_validate(context)
    jsonschema.Draft202012Validator(load_json(SCHEMAS / "context-patient-view.schema.json")).validate(context)
