"""Broken FHIR never becomes a 500: seeded random corruption of real fixture charts.

Each case takes a fixture patient, corrupts a few values anywhere in its resources (wrong
types, nulls, huge numbers, hostile strings, empty containers) and posts it with full
prefetch. The answer must be 200 (bad resources skipped) or a clear 4xx/412.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest

from cds_service.evaluate import request_from_bundle
from support import FIXTURES, load_json, make_settings, service

MANIFEST = load_json(FIXTURES / "manifest.json")
JUNK: list[Any] = [None, 0, -1, 1e308, True, "", "x" * 5000, "<script>alert(1)</script>", "'; DROP TABLE feedback; --",
                   [], {}, [None], {"a": {"b": [1, {"c": None}]}}, "2026-13-45T99:99:99Z", "NaN", "\u0000\ud7ff"]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def corrupt(resource: dict[str, Any], rng: random.Random, times: int) -> dict[str, Any]:
    broken = copy.deepcopy(resource)
    for _ in range(times):
        candidates = [p for p in paths(broken) if p[0] not in ("resourceType", "id")]
        if not candidates:
            break
        path = rng.choice(candidates)
        target = broken
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = copy.deepcopy(rng.choice(JUNK))
    return broken


@pytest.mark.parametrize("seed", range(150))
async def test_corrupted_charts_never_500(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    entry = MANIFEST[seed % len(MANIFEST)]
    bundle = load_json(FIXTURES / entry["file"])
    for item in bundle["entry"]:
        if rng.random() < 0.5:
            item["resource"] = corrupt(item["resource"], rng, rng.randint(1, 4))
    request = request_from_bundle(bundle, entry["patientId"], entry["encounterId"])
    async with service(make_settings(tmp_path)) as client:
        response = await client.post("/cds-services/calf-pain-review", json=request)
    assert response.status_code in (200, 400, 412), response.text
    if response.status_code == 200:
        assert isinstance(response.json()["cards"], list)


@pytest.mark.parametrize("seed", range(60))
async def test_corrupted_requests_and_feedback_are_4xx_never_500(tmp_path: Path, seed: int) -> None:
    rng = random.Random(1000 + seed)
    entry = MANIFEST[seed % len(MANIFEST)]
    request = request_from_bundle(load_json(FIXTURES / entry["file"]), entry["patientId"], entry["encounterId"])
    shell = {k: v for k, v in request.items() if k != "prefetch"}
    broken = corrupt(shell, rng, rng.randint(1, 3))
    broken["prefetch"] = request["prefetch"]
    feedback = corrupt({"feedback": [{"card": "c1", "outcome": "accepted", "acceptedSuggestions": [{"id": "s1"}],
                                      "overrideReason": {"reason": {"code": "x", "system": "https://e"}, "userComment": "y"},
                                      "outcomeTimestamp": "2026-11-21T10:00:00Z"}]}, rng, rng.randint(1, 3))
    async with service(make_settings(tmp_path)) as client:
        hook = await client.post("/cds-services/calf-pain-review", json=broken)
        fed = await client.post("/cds-services/calf-pain-review/feedback", json=feedback)
    assert hook.status_code in (200, 400, 412), hook.text
    assert fed.status_code in (200, 400), fed.text
    assert hook.json().get("resourceType") == "OperationOutcome" or "cards" in hook.json()
