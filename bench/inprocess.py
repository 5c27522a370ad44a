"""In-process evaluation: parsed prefetch JSON → PatientRecord → cards, no HTTP.

OURS is the service's own path: ``prefetch.gather`` (every key present, so the client
factory is never asked for a FHIR client) then ``Pipeline.cards``. NAIVE first validates
every prefetched resource as an R4B model (``bench.naive``), then does the same.

Each repetition parses the request bytes afresh *outside* the timed region, so no run
sees dicts another run touched. The two paths run interleaved at each size, so a noisy
neighbour slows both alike and their ratio holds.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from bench.data import EVALUATION_TIME, hook_request
from bench.naive import validate_prefetch
from bench.stats import Timing
from cds_service.config import Settings
from cds_service.hooks.calf_pain_review import definition
from cds_service.pipeline import Pipeline
from cds_service.prefetch import gather
from cds_service.record import PatientRecord

SIZES = (10, 100, 300, 1000, 10_000)
TYPICAL_SIZE = 300


@dataclass(frozen=True, slots=True)
class SizeResult:
    size: int
    body_bytes: int
    ours: Timing
    naive: Timing
    card_topics: tuple[str, ...]

    @property
    def ratio(self) -> float:
        return self.naive.p50 / self.ours.p50


class Evaluator:
    """Holds the loaded pipeline and the service's prefetch templates."""

    def __init__(self, settings: Settings | None = None) -> None:
        # Validation verdict cache off: every run validates what the rules read, as a
        # chart seen for the first time would (the HTTP section runs with the default).
        self.settings = settings or Settings(
            auth_enabled=False, database_url="sqlite://", evaluation_time=EVALUATION_TIME,
            validation_cache_size=0,
        )
        self.pipeline = Pipeline.load(self.settings)
        self.templates = definition(self.pipeline.terminology.observation_search_codes()).prefetch
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.loop.close()

    async def _record(self, request: dict[str, Any]) -> PatientRecord:
        return await gather(
            self.templates, request["context"], request["prefetch"], lambda: None, deadline_s=8.0
        )

    async def _ours(self, request: dict[str, Any]) -> tuple[float, list[dict[str, Any]]]:
        start = time.perf_counter()
        record = await self._record(request)
        cards, _ = self.pipeline.cards(record, EVALUATION_TIME)
        return time.perf_counter() - start, cards

    async def _naive(self, request: dict[str, Any]) -> tuple[float, list[dict[str, Any]]]:
        start = time.perf_counter()
        validate_prefetch(request["prefetch"])
        record = await self._record(request)
        cards, _ = self.pipeline.cards(record, EVALUATION_TIME)
        return time.perf_counter() - start, cards

    def ours(self, body: bytes) -> tuple[float, list[dict[str, Any]]]:
        """One timed evaluation of freshly parsed ``body`` (parse not timed)."""
        return self.loop.run_until_complete(self._ours(orjson.loads(body)))

    def naive(self, body: bytes) -> tuple[float, list[dict[str, Any]]]:
        return self.loop.run_until_complete(self._naive(orjson.loads(body)))

    async def _orders(self, request: dict[str, Any]) -> tuple[float, list[dict[str, Any]]]:
        start = time.perf_counter()
        record = await self._record(request)
        record.drafts = [e["resource"] for e in request["context"]["draftOrders"]["entry"]]
        cards, _ = self.pipeline.cards(record, EVALUATION_TIME, orders=True)
        return time.perf_counter() - start, cards

    def orders(self, body: bytes) -> tuple[float, list[dict[str, Any]]]:
        """One timed order-sign evaluation (calf-safe-prescribing) of ``body``."""
        return self.loop.run_until_complete(self._orders(orjson.loads(body)))


# A draft simvastatin 40 mg (RxNorm 198211) for the order-sign measurement: the typical
# chart holds a statin, a diuretic and the labs, so the order-sign rules all have work.
DRAFT_STATIN = {
    "resourceType": "MedicationRequest", "id": "bench-draft-statin", "status": "draft",
    "intent": "order", "subject": {"reference": "Patient/bench-calf-01"},
    "medicationCodeableConcept": {"coding": [{
        "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "198211",
        "display": "simvastatin 40 MG Oral Tablet"}], "text": "simvastatin 40 MG Oral Tablet"},
    "dosageInstruction": [{"text": "1 tablet once daily"}],
}


def order_sign_request(size: int) -> dict[str, Any]:
    request = hook_request(size)
    request["hook"] = "order-sign"
    patient = request["context"]["patientId"]
    draft = {**DRAFT_STATIN, "subject": {"reference": f"Patient/{patient}"}}
    request["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                                         "entry": [{"resource": draft}]}
    return request


@dataclass(frozen=True, slots=True)
class OrderResult:
    size: int
    timing: Timing
    card_topics: tuple[str, ...]


def measure_orders(evaluator: Evaluator, size: int = TYPICAL_SIZE, *, budget_s: float = 2.5) -> OrderResult:
    """order-sign (calf-safe-prescribing) on the typical chart with one draft statin."""
    body = orjson.dumps(order_sign_request(size))
    evaluator.orders(body)
    est, cards = evaluator.orders(body)
    n = _reps(est, budget_s, 30, 3000)
    gc.collect()
    times = [evaluator.orders(body)[0] for _ in range(n)]
    return OrderResult(size, Timing(tuple(times)), _topics(cards))


def _topics(cards: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(sorted(str(c.get("source", {}).get("topic", {}).get("code")) for c in cards))


def _reps(estimate_s: float, budget_s: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, int(budget_s / max(estimate_s, 1e-6))))


def measure_size(
    evaluator: Evaluator,
    size: int,
    *,
    budget_s: float,
    log: Callable[[str], None] = lambda _: None,
) -> SizeResult:
    """Time OURS and NAIVE at one chart size, interleaved, within about ``2 * budget_s``."""
    body = orjson.dumps(hook_request(size))
    # Warm-up (first call imports R4B models, fills caches), then estimate the cost.
    evaluator.ours(body)
    evaluator.naive(body)
    est_ours, cards = evaluator.ours(body)
    est_naive, naive_cards = evaluator.naive(body)
    topics = _topics(cards)
    if _topics(naive_cards) != topics:
        raise RuntimeError(f"naive and ours disagree at n={size}: {_topics(naive_cards)} vs {topics}")
    n_ours = _reps(est_ours, budget_s, 30, 3000)
    n_naive = _reps(est_naive, budget_s, 5, 500)
    log(f"  n={size}: {n_ours} x ours, {n_naive} x naive")
    ours: list[float] = []
    naive: list[float] = []
    gc.collect()
    for i in range(n_ours):
        ours.append(evaluator.ours(body)[0])
        # Spread the naive runs evenly among ours so both see the same machine noise.
        while len(naive) < (i + 1) * n_naive // n_ours:
            naive.append(evaluator.naive(body)[0])
    return SizeResult(size, len(body), Timing(tuple(ours)), Timing(tuple(naive)), topics)


def run(
    sizes: Sequence[int] = SIZES,
    *,
    budget_s: float = 2.5,
    log: Callable[[str], None] = lambda _: None,
) -> list[SizeResult]:
    evaluator = Evaluator()
    try:
        return [measure_size(evaluator, n, budget_s=budget_s, log=log) for n in sizes]
    finally:
        evaluator.close()


def run_orders(*, budget_s: float = 2.5) -> OrderResult:
    evaluator = Evaluator()
    try:
        return measure_orders(evaluator, budget_s=budget_s)
    finally:
        evaluator.close()
