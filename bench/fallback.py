"""Fallback fetch: a request with NO prefetch, the service fetching from the delayed stub.

Compared with ONE round trip to the same stub (the biggest search, the Observations, from
this process): if the service's queries (one per prefetch template) run concurrently, the call costs
about one round trip plus evaluation; run one after another they would cost one each.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from bench.data import ENCOUNTER_ID, PATIENT_ID
from bench.http import HOOK_PATH
from bench.stats import Timing

REPS = 20
WARMUP = 3


@dataclass(frozen=True, slots=True)
class Fallback:
    round_trip: Timing  # one GET of the Observation search from this process
    fallback: Timing  # the hook call without prefetch
    cards: int

    @property
    def ratio(self) -> float:
        return self.fallback.p50 / self.round_trip.p50


def no_prefetch_request(fhir_base: str) -> dict[str, Any]:
    return {
        "hook": "patient-view",
        "hookInstance": "0b7c1a52-7e1f-4d44-8f0e-5a3c2d9e1f10",
        "fhirServer": fhir_base,
        "context": {"userId": "Practitioner/bench-clinician", "patientId": PATIENT_ID,
                    "encounterId": ENCOUNTER_ID},
    }


def measure(service_url: str, fhir_base: str) -> Fallback:
    body = orjson.dumps(no_prefetch_request(fhir_base))
    search = f"{fhir_base}/Observation?patient={PATIENT_ID}&_sort=-date&_count=200"
    rtt: list[float] = []
    calls: list[float] = []
    cards = 0
    with httpx.Client(trust_env=False, timeout=30.0) as client:
        for i in range(WARMUP + REPS):
            # Alternate the two measurements so machine noise hits both alike.
            start = time.perf_counter()
            fhir = client.get(search, headers={"Accept": "application/fhir+json"})
            fhir.read()
            elapsed_rtt = time.perf_counter() - start
            start = time.perf_counter()
            response = client.post(service_url + HOOK_PATH, content=body,
                                   headers={"Content-Type": "application/json"})
            elapsed_call = time.perf_counter() - start
            if fhir.status_code != 200 or response.status_code != 200:
                raise RuntimeError(f"fallback: FHIR {fhir.status_code}, service {response.status_code}: "
                                   f"{response.text[:300]}")
            if i >= WARMUP:
                rtt.append(elapsed_rtt)
                calls.append(elapsed_call)
                cards = len(response.json()["cards"])
    return Fallback(Timing(tuple(rtt)), Timing(tuple(calls)), cards)
