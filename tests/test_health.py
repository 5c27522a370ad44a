"""/healthz (process up) and /readyz (catalogue loaded, database reachable)."""

from __future__ import annotations

import shutil
from pathlib import Path

from support import make_settings, service


async def test_healthz_and_readyz_answer_when_all_is_well(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path)) as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_readyz_is_503_with_an_outcome_when_the_database_is_gone(tmp_path: Path) -> None:
    data = tmp_path / "db"
    data.mkdir()
    settings = make_settings(tmp_path, database_url=f"sqlite:///{data / 'feedback.sqlite3'}")
    async with service(settings) as client:
        assert (await client.get("/readyz")).status_code == 200
        app_state = client._transport.app.state.cds  # type: ignore[attr-defined]
        app_state.feedback_store.engine.dispose()  # no pooled connection left to reuse
        shutil.rmtree(data)
        ready = await client.get("/readyz")
        health = await client.get("/healthz")
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/fhir+json"
    outcome = ready.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "database" in outcome["issue"][0]["diagnostics"]
    assert health.status_code == 200  # the process itself is fine


async def test_readyz_asks_the_store_when_it_has_a_readiness_check(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path)) as client:
        store = client._transport.app.state.cds.shared  # type: ignore[attr-defined]
        store.readiness = lambda: ["database schema behind: run calf-cds db upgrade"]
        behind = await client.get("/readyz")
        store.readiness = lambda: None
        current = await client.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["issue"][0]["diagnostics"] == "database schema behind: run calf-cds db upgrade"
    assert current.status_code == 200
