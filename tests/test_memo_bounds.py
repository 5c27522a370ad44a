"""What the service remembers across calls is bounded in bytes, not only in entries
(issue 8: memory stays bounded). Charts repeat their resources, concepts, dates and units,
so verdicts and classifications are remembered; a client sending large resources, concepts
or strings must not make the worker keep them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from cds_service.app import create_app
from cds_service.clinical.extract.verdicts import MAX_ENTRY_BYTES, VerdictCache
from cds_service.pipeline import Pipeline
from cds_service.terminology import units
from support import BASE_URL, bundle_of, catalog, empty_prefetch, make_settings, patient_view, terminology


def test_verdict_cache_skips_large_resources_and_keeps_to_its_byte_budget() -> None:
    cache = VerdictCache(size=1000, max_bytes=10_000)
    cache.put(b"x" * (MAX_ENTRY_BYTES + 1), True)
    assert len(cache) == 0 and cache.bytes == 0
    for n in range(30):
        cache.put(f"{n:04d}".encode() * 250, True)  # 1,000 bytes each
        assert cache.bytes <= 10_000
    assert 1 <= len(cache) <= 10
    cache.put(b"0029" * 250, False)  # the same key again: replaced, not counted twice
    assert cache.get(b"0029" * 250) is False and cache.bytes <= 10_000


def test_terminology_memo_does_not_store_large_keys() -> None:
    t = terminology()
    t.remember(b"obs:" + b"x" * (t.MEMO_KEY_LIMIT + 1), (None, None, frozenset()))
    t.remember(b"obs:small", (None, None, frozenset()))
    assert b"obs:small" in t.memo
    assert not any(isinstance(k, bytes) and len(k) > t.MEMO_KEY_LIMIT for k in t.memo)


def test_unit_spelling_memo_keeps_only_unit_sized_strings() -> None:
    before = units._remembered_spelling.cache_info().currsize
    assert units._clean(" MCG/mL" + " " * 200) == "ug/ml"
    assert units._remembered_spelling.cache_info().currsize == before
    assert units._clean("mcg/mL") == "ug/ml"


def _large_patient(n: int) -> dict[str, Any]:
    narrative = f'<div xmlns="http://www.w3.org/1999/xhtml">{"calf " * 20_000}{n}</div>'
    return {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1960-01-01",
            "text": {"status": "generated", "div": narrative}}


def _large_observation(n: int) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": f"o{n}", "status": "final",
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-11-01",
            "code": {"text": "potassium " + "k" * 10_000 + str(n),
                     "coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
            "valueQuantity": {"value": 4.1, "unit": "mmol/L" + " " * 500, "code": "mmol/L"}}


async def test_large_resources_over_http_are_answered_and_not_kept(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    pipeline = Pipeline(settings, terminology(), catalog())
    app = create_app(settings, pipeline=pipeline)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
            for n in range(6):
                prefetch = empty_prefetch(_large_patient(n))
                prefetch["observations"] = bundle_of(_large_observation(n))
                response = await client.post("/cds-services/calf-pain-review", json=patient_view(prefetch=prefetch))
                assert response.status_code == 200, response.text
    assert all(len(raw) <= MAX_ENTRY_BYTES for raw in pipeline.verdicts._verdicts)
    assert pipeline.verdicts.bytes <= pipeline.verdicts.max_bytes
    memo = pipeline.terminology.memo
    assert not any(isinstance(k, bytes) and len(k) > pipeline.terminology.MEMO_KEY_LIMIT for k in memo)


@pytest.mark.parametrize("size", [100, MAX_ENTRY_BYTES])
def test_ordinary_resources_are_still_remembered(size: int) -> None:
    cache = VerdictCache(size=10)
    cache.put(b"r" * size, True)
    assert cache.get(b"r" * size) is True
