"""Feedback over HTTP (F1–F3) and CORS for browser clients such as the sandbox (S5, D6)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from support import EXAMPLES, empty_prefetch, load_json, make_settings, patient_view, service
from cds_service.state import FeedbackStore

FEEDBACK = "/cds-services/calf-pain-review/feedback"
SANDBOX = EXAMPLES / "sandbox-client"
SPEC = EXAMPLES / "spec-2.0"
FEEDBACK_BODIES = [
    load_json(SPEC / "feedback-accepted.json"),
    load_json(SPEC / "feedback-overridden.json"),
    load_json(SPEC / "feedback-overridden-with-reason.json"),
    *(load_json(SANDBOX / f"feedback-{n}.http.json")["body"] for n in ("accepted", "overridden", "overridden-with-reason")),
]


@pytest.fixture
async def client(tmp_path: Path):
    async with service(make_settings(tmp_path)) as c:
        yield c


@pytest.mark.parametrize("body", FEEDBACK_BODIES, ids=["spec-accepted", "spec-overridden", "spec-reason",
                                                       "sandbox-accepted", "sandbox-overridden", "sandbox-reason-no-display"])
async def test_feedback_examples_are_accepted_and_idempotent(tmp_path: Path, body: dict) -> None:
    settings = make_settings(tmp_path)
    async with service(settings) as client:
        first = await client.post(FEEDBACK, json=body)
        again = await client.post(FEEDBACK, json=body)
    assert first.status_code == 200 and again.status_code == 200
    assert first.json()["stored"] == len(body["feedback"])
    assert again.json()["stored"] == 0  # repeats are idempotent
    store = FeedbackStore(settings.database_url)
    try:
        assert len(store.list_feedback("calf-pain-review")) == len(body["feedback"])  # survives restart
    finally:
        store.close()


@pytest.mark.parametrize(
    "body",
    [
        {"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-21T10:00:00Z"}]},
        {"feedback": [{"card": "c", "outcome": "maybe", "outcomeTimestamp": "2026-11-21T10:00:00Z"}]},
        {"feedback": [{"card": 7, "outcome": "overridden", "outcomeTimestamp": "2026-11-21T10:00:00Z"}]},
        {"feedback": [{"card": "c", "outcome": "overridden"}]},
        {"feedback": "all good"},
        {},
    ],
    ids=["accepted-without-suggestions", "bad-outcome", "card-int", "no-timestamp", "feedback-string", "empty-object"],
)
async def test_bad_feedback_is_400_and_keeps_stored_rows(tmp_path: Path, body: dict) -> None:
    settings = make_settings(tmp_path)
    async with service(settings) as client:
        ok = await client.post(FEEDBACK, json=FEEDBACK_BODIES[1])
        bad = await client.post(FEEDBACK, json=body)
    assert ok.status_code == 200
    assert bad.status_code == 400
    assert bad.json()["resourceType"] == "OperationOutcome"
    store = FeedbackStore(settings.database_url)
    try:
        assert len(store.list_feedback()) == 1
    finally:
        store.close()


async def test_feedback_for_unknown_service_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/cds-services/nope/feedback", json=FEEDBACK_BODIES[0])
    assert response.status_code == 404


@pytest.mark.parametrize("preflight", load_json(SANDBOX / "cors-preflights.http.json")[:3], ids=["discovery", "service", "feedback"])
async def test_sandbox_preflights_are_answered_without_jwt(tmp_path: Path, preflight: dict) -> None:
    path = preflight["path"].replace("pv-test", "calf-pain-review")
    async with service(make_settings(tmp_path, auth_enabled=True, auth_trusted_issuers=["https://x"],
                                     auth_issuer_jwks={"https://x": '{"keys": []}'})) as client:
        response = await client.options(path, headers=preflight["headers"])
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", preflight["headers"]["Origin"])
    methods = response.headers["access-control-allow-methods"]
    assert "GET" in methods and "POST" in methods and "OPTIONS" in methods
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


async def test_error_responses_carry_allow_origin(client: httpx.AsyncClient) -> None:
    headers = {"Origin": "http://127.0.0.1:8080"}
    for response in (
        await client.post("/cds-services/calf-pain-review", json=patient_view(), headers=headers),  # 412
        await client.post("/cds-services/calf-pain-review", content=b"{", headers=headers),  # 400
        await client.post("/cds-services/calf-pain-review", json=patient_view(prefetch=empty_prefetch()), headers=headers),
    ):
        assert response.headers.get("access-control-allow-origin") in ("*", headers["Origin"])


async def test_cors_origins_are_configurable(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path, cors_allow_origins=["https://sandbox.cds-hooks.org"])) as client:
        good = await client.options("/cds-services", headers={"Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "GET"})
        bad = await client.options("/cds-services", headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"})
    assert good.headers["access-control-allow-origin"] == "https://sandbox.cds-hooks.org"
    assert "access-control-allow-origin" not in bad.headers
