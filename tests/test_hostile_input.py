"""Hostile request bodies (issue 8): bad fhirServer URLs and duplicate JSON keys are 400
OperationOutcomes, never a 500, and never silently resolved one way or the other."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from cds_service.api.body import reject_duplicate_keys
from cds_service.errors import BadRequest
from support import FEEDBACK_BODY, empty_prefetch, make_settings, patient_view, service

SERVICE = "/cds-services/calf-pain-review"


@pytest.fixture
async def client(tmp_path: Path):
    async with service(make_settings(tmp_path)) as client:
        yield client


@pytest.mark.parametrize(
    "url",
    ["http://localhost:abc/fhir", "http://localhost:1:2/fhir", "http://localhost:99999/fhir",
     "http://localhost:0/fhir", "http://[::1/fhir", "http://exa mple.org/fhir", "http:///fhir"],
)
async def test_bad_fhir_server_url_is_400_not_500(client: httpx.AsyncClient, url: str) -> None:
    response = await client.post(SERVICE, json=patient_view(fhirServer=url))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert "fhirServer" in body["issue"][0]["diagnostics"]


async def test_bad_fhir_server_url_with_full_prefetch_is_still_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        SERVICE, json=patient_view(prefetch=empty_prefetch(), fhirServer="http://localhost:99999/f")
    )
    assert response.status_code == 400


def raw(body: str) -> bytes:
    return body.encode()


DUPLICATES = [
    '{"hook":"patient-view","hookInstance":"x","context":{"userId":"Practitioner/a","patientId":"p1","patientId":"p2"}}',
    '{"hook":"patient-view","hook":"order-sign","hookInstance":"x","context":{"userId":"Practitioner/a","patientId":"p1"}}',
    '{"hook":"patient-view","hookInstance":"x","context":{"userId":"Practitioner/a","patientId":"p1"},'
    '"prefetch":{"patient":{"resourceType":"Patient","id":"p1","id":"p2"}}}',
    '{"hook" : "patient-view" ,\n "hookInstance":"x", "context" :{"userId":"Practitioner/a", "patientId" : "p1",\n'
    '"patientId"\t:\t"p1"}}',
    # an escaped colon takes the slow exact path
    '{"hook":"patient-view","hookInstance":"x\\u003a","context":{"userId":"Practitioner/a","patientId":"p1","patientId":"p2"}}',
    # the same key spelled once plainly and once escaped ("source", "\\u0073ource"), nested
    '{"hook":"patient-view","hookInstance":"x","context":{"userId":"Practitioner/a","patientId":"p1"},'
    '"prefetch":{"patient":{"resourceType":"Patient","id":"p1","meta":{"source":"a","\\u0073ource":"b"}}}}',
    # compact, written the way orjson writes it (the byte-comparison path), duplicate deep inside
    '{"hook":"patient-view","hookInstance":"x","context":{"userId":"Practitioner/a","patientId":"p1"},'
    '"prefetch":{"conditions":{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Condition",'
    '"id":"c","code":{"text":"x","text":"y"}}}]}}}',
]


@pytest.mark.parametrize("body", DUPLICATES)
async def test_duplicate_keys_are_400(client: httpx.AsyncClient, body: str) -> None:
    response = await client.post(SERVICE, content=raw(body), headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert "duplicate JSON key" in response.json()["issue"][0]["diagnostics"]


async def test_duplicate_keys_in_feedback_are_400(client: httpx.AsyncClient) -> None:
    body = json.dumps(FEEDBACK_BODY)[:-1] + ', "feedback": []}'
    response = await client.post(SERVICE + "/feedback", content=body.encode(),
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "duplicate JSON key 'feedback'" in response.text


NOT_DUPLICATES = [
    '{"a": "x:y", "b": {"a": ":"}, "c": ["\\":", "\\\\", ":::"]}',
    '{"a\\u003a": 1, "a:": 2}',  # different keys once decoded? no: both are "a:" -> duplicate
    '{"a": "\\u003a", "b": 1}',
    '{"x": {"y": 1}, "y": {"x": 1}, "z": [{"k": 1}, {"k": 2}]}',
    '{"é": 1, "\\u00e9x": 2}',
]


@pytest.mark.parametrize("body", NOT_DUPLICATES)
def test_duplicate_detection_is_exact(body: str) -> None:
    pairs_seen: list[bool] = []

    def hook(pairs: list) -> dict:
        pairs_seen.append(len(dict(pairs)) != len(pairs))
        return dict(pairs)

    json.loads(body, object_pairs_hook=hook)
    has_duplicates = any(pairs_seen)
    data = json.loads(body)
    if has_duplicates:
        with pytest.raises(BadRequest):
            reject_duplicate_keys(body.encode(), data)
    else:
        reject_duplicate_keys(body.encode(), data)


def _random_json(rng, depth: int = 0, spaces: tuple[str, ...] = ("", " ", chr(10))) -> str:
    """JSON text that may repeat keys, with colons, quotes and escapes in strings."""
    atoms = ['"a"', '"a:b"', '"\\":"', '"\\u003a"', "1", "null", '"é:"', '"\\\\"']
    if depth > 3 or rng.random() < 0.3:
        return rng.choice(atoms)
    if rng.random() < 0.3:
        return "[" + ",".join(_random_json(rng, depth + 1, spaces) for _ in range(rng.randint(0, 3))) + "]"
    keys = ['"k"', '"\\u006b"', '"k:"', '"\\u003a"', '":"', '"q\\""', '"é"']
    members = [f"{rng.choice(keys)}{rng.choice(spaces)}:{_random_json(rng, depth + 1, spaces)}"
               for _ in range(rng.randint(0, 4))]
    return "{" + ",".join(members) + "}"


@pytest.mark.parametrize("compact", [False, True], ids=["spaced", "compact"])
@pytest.mark.parametrize("seed", range(40))
def test_duplicate_detection_matches_an_exact_parser(seed: int, compact: bool) -> None:
    """Compact texts (no whitespace, as orjson writes them) reach the byte-comparison path."""
    import random

    rng = random.Random(seed)
    for _ in range(50):
        text = '{"root":' + _random_json(rng, spaces=("",) if compact else ("", " ", chr(10))) + "}"
        duplicate = []
        json.loads(text, object_pairs_hook=lambda p: duplicate.append(len(dict(p)) != len(p)) or dict(p))
        data = json.loads(text)
        if any(duplicate):
            with pytest.raises(BadRequest):
                reject_duplicate_keys(text.encode(), data)
        else:
            reject_duplicate_keys(text.encode(), data)
