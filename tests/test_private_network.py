"""Private Network Access (issue 9): Chrome's preflight from a public page (the hosted CDS
Hooks sandbox) to this service on a private address is answered when CORS allows the origin."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import EXAMPLES, load_json, make_settings, service

SANDBOX = "https://sandbox.cds-hooks.org"
# The browser's own preflights (captured from the sandbox), plus the PNA request header.
PREFLIGHTS = load_json(EXAMPLES / "sandbox-client" / "cors-preflights.http.json")[:3]


def pna(preflight: dict, origin: str) -> dict[str, str]:
    return {**preflight["headers"], "Origin": origin, "Access-Control-Request-Private-Network": "true"}


@pytest.mark.parametrize("preflight", PREFLIGHTS, ids=["discovery", "service", "feedback"])
async def test_an_allowed_origin_gets_the_private_network_answer(tmp_path: Path, preflight: dict) -> None:
    path = preflight["path"].replace("pv-test", "calf-pain-review")
    async with service(make_settings(tmp_path, cors_allow_origins=[SANDBOX])) as client:
        response = await client.options(path, headers=pna(preflight, SANDBOX))
    assert response.status_code == 200
    assert response.headers["access-control-allow-private-network"] == "true"
    assert response.headers["access-control-allow-origin"] == SANDBOX


async def test_a_disallowed_origin_is_refused(tmp_path: Path) -> None:
    """The preflight fails (400, no Access-Control-Allow-Origin), so the browser never sends
    the call, whatever else the failed preflight carries."""
    async with service(make_settings(tmp_path, cors_allow_origins=[SANDBOX])) as client:
        response = await client.options("/cds-services", headers=pna(PREFLIGHTS[0], "https://evil.example.com"))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_any_origin_when_cors_allows_any(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path)) as client:  # default: ["*"]
        response = await client.options("/cds-services", headers=pna(PREFLIGHTS[0], "https://ehr.example.org"))
    assert response.status_code == 200
    assert response.headers["access-control-allow-private-network"] == "true"


async def test_only_preflights_that_ask_get_it(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path, cors_allow_origins=[SANDBOX])) as client:
        plain = await client.options("/cds-services", headers={**PREFLIGHTS[0]["headers"], "Origin": SANDBOX})
        not_preflight = await client.get("/cds-services", headers={"Origin": SANDBOX,
                                                                   "Access-Control-Request-Private-Network": "true"})
    assert plain.status_code == 200 and "access-control-allow-private-network" not in plain.headers
    assert not_preflight.status_code == 200
    assert "access-control-allow-private-network" not in not_preflight.headers
