"""Memory back to the OS after a hook call that held large buffers (issue 8, hole 3:
"back to idle after").

The figure itself (RSS before, at peak and after the load) is measured by
``python -m bench.soak``, not here: tests do not time or weigh. These tests pin the
mechanism through the real app and a real hostile server: after a call cut at a byte
limit, or one that carried megabytes, one collection and one ``malloc_trim`` run once the
call is over; an ordinary call triggers neither.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from cds_service import heap
from hostile_server import Request, hostile, respond_json, searchset, stream_chunked
from support import bundle_of, empty_prefetch, make_settings, patient_view, service

PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1960-01-01"}


class Recorder:
    """Stands in for ``gc`` and ``malloc_trim``: records what ran, in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def collect(self) -> int:
        self.calls.append("collect")
        return 0

    def trim(self, pad: int) -> int:
        self.calls.append(f"trim({pad})")
        return 1


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    monkeypatch.setattr(heap, "gc", rec)
    monkeypatch.setattr(heap, "_trim", rec.trim)
    monkeypatch.setattr(heap, "_scheduled", False)
    return rec


async def settle() -> None:
    await asyncio.sleep(heap.RELEASE_DELAY_S + 0.3)


async def chunked_50mb(request: Request, writer: asyncio.StreamWriter) -> bool:
    if "/Patient/" in request.target:
        return await respond_json(writer, PATIENT)
    return await stream_chunked(writer, 50 * 1024 * 1024)


async def declares_26mb(request: Request, writer: asyncio.StreamWriter) -> bool:
    if "/Patient/" in request.target:
        return await respond_json(writer, PATIENT)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 27262976\r\n\r\n" + b" " * (1 << 16))
    await writer.drain()
    return False


async def answers_ok(request: Request, writer: asyncio.StreamWriter) -> bool:
    if "/Patient/" in request.target:
        return await respond_json(writer, PATIENT)
    return await respond_json(writer, searchset())


@pytest.mark.parametrize("handler", [chunked_50mb, declares_26mb], ids=["50mb-chunked", "declared-26mb"])
async def test_a_call_cut_at_the_byte_limit_releases_memory_once_it_is_over(
    tmp_path: Path, recorder: Recorder, handler: Any
) -> None:
    async with hostile(handler) as server, service(make_settings(tmp_path)) as client:
        response = await client.post(
            "/cds-services/calf-pain-review", json=patient_view(fhirServer=server.base + "/fhir")
        )
        assert response.status_code == 412, response.text
        assert recorder.calls == []  # not while the call runs: after it
        await settle()
    assert recorder.calls == ["collect", "trim(0)"]


async def test_a_call_with_a_large_prefetch_body_releases_memory(
    tmp_path: Path, recorder: Recorder
) -> None:
    vitals = [
        {"resourceType": "Observation", "id": f"hr{i}", "status": "final",
         "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-11-01T08:00:00Z",
         "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
         "valueQuantity": {"value": 70 + i % 20, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}
        for i in range(6000)
    ]
    request = patient_view(prefetch={**empty_prefetch(PATIENT), "observations": bundle_of(*vitals)})
    async with service(make_settings(tmp_path)) as client:
        response = await client.post("/cds-services/calf-pain-review", json=request)
        assert response.status_code == 200, response.text
        assert len(response.request.content) > heap.TRIM_AFTER_BYTES
        await settle()
    assert recorder.calls == ["collect", "trim(0)"]


async def test_ordinary_calls_release_nothing(tmp_path: Path, recorder: Recorder) -> None:
    async with hostile(answers_ok) as server, service(make_settings(tmp_path)) as client:
        fetched = await client.post(
            "/cds-services/calf-pain-review", json=patient_view(fhirServer=server.base + "/fhir")
        )
        prefetched = await client.post(
            "/cds-services/calf-pain-review", json=patient_view(prefetch=empty_prefetch(PATIENT))
        )
        await settle()
    assert fetched.status_code == 200, fetched.text
    assert prefetched.status_code == 200, prefetched.text
    assert recorder.calls == []


async def test_large_calls_finishing_together_share_one_release(
    tmp_path: Path, recorder: Recorder
) -> None:
    async with hostile(chunked_50mb) as server, service(make_settings(tmp_path)) as client:
        responses = await asyncio.gather(*(
            client.post("/cds-services/calf-pain-review", json=patient_view(fhirServer=server.base + "/fhir"))
            for _ in range(3)
        ))
        await settle()
    assert [r.status_code for r in responses] == [412, 412, 412]
    assert recorder.calls.count("trim(0)") in (1, 2)  # one per burst, not one per call
    assert recorder.calls[-2:] == ["collect", "trim(0)"]
