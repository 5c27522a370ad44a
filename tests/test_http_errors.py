"""Every error is an OperationOutcome: CORS refusals, trailing slashes (issue #8, hole 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import make_settings, service


async def test_preflight_with_a_disallowed_method_is_an_outcome(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path)) as client:
        response = await client.options("/cds-services/calf-pain-review", headers={
            "Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "DELETE"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/fhir+json"
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "method" in outcome["issue"][0]["diagnostics"]
    assert response.headers["access-control-allow-methods"] == "GET, POST, OPTIONS"


async def test_preflight_from_a_disallowed_origin_is_an_outcome(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cors_allow_origins=["https://sandbox.cds-hooks.org"])
    async with service(settings) as client:
        response = await client.options("/cds-services", headers={
            "Origin": "https://evil.example.org", "Access-Control-Request-Method": "GET"})
    assert response.status_code == 400
    assert response.json()["issue"][0]["diagnostics"] == "CORS preflight refused: origin"


async def test_allowed_preflight_is_unchanged(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path)) as client:
        response = await client.options("/cds-services", headers={
            "Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST"})
    assert response.status_code == 200


@pytest.mark.parametrize(("method", "path", "right"), [
    ("GET", "/cds-services/", "/cds-services"),
    ("POST", "/cds-services/calf-pain-review/", "/cds-services/calf-pain-review"),
    ("POST", "/cds-services/calf-pain-review/feedback/", "/cds-services/calf-pain-review/feedback"),
    ("GET", "/healthz/", "/healthz"),
])
async def test_trailing_slash_is_a_404_naming_the_right_path(tmp_path: Path, method: str, path: str, right: str) -> None:
    async with service(make_settings(tmp_path)) as client:
        response = await client.request(method, path, json={})
    assert response.status_code == 404  # not a 307 with an empty body
    assert response.headers["content-type"] == "application/fhir+json"
    diagnostics = response.json()["issue"][0]["diagnostics"]
    assert f"did you mean {right} " in diagnostics


async def test_plain_unknown_paths_are_a_404_outcome(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path)) as client:
        response = await client.get("/nothing/here/")
    assert response.status_code == 404
    assert response.json()["issue"][0]["diagnostics"] == "not found"
