"""Prometheus metrics: a small API the rest of the service calls, one instance per app.

Labels are low-cardinality by construction: service ids come from the registry (anything
else is ``unknown``), statuses are HTTP codes, topics and versions come from the card
catalogue, reasons from fixed vocabularies (normalised and capped). Never a patient id,
never a URL.

Workers: ``calf-cds serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at an empty directory
before the workers start (see ``cli.py``); each worker then writes its samples to files
there and ``/metrics`` on any worker aggregates all of them. Without that variable (tests,
``evaluate``) each app keeps its own in-memory registry.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "calf_cds"
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_FETCH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_MAX_REASONS = 32
_LABEL_UNSAFE = re.compile(r"[^a-z0-9]+")
_VERSION_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]+")


def _label(text: str, limit: int = 48) -> str:
    cleaned = _LABEL_UNSAFE.sub("_", text.lower()).strip("_")
    return cleaned[:limit] or "none"


class Metrics:
    """The service's metrics. ``render()`` is the ``/metrics`` body."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, known_services: Iterable[str] = (), known_topics: Iterable[str] = ()) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        # In multiprocess mode the samples live in files; the registry only serves local
        # reads. Either way each app has its own registry, so apps in one process (tests)
        # never collide on metric names.
        self._registry = CollectorRegistry(auto_describe=True)
        self._services = frozenset(known_services)
        self._topics = frozenset(known_topics)
        self._reasons: dict[str, set[str]] = {"auth": set(), "override": set()}
        r = self._registry
        self.requests = Histogram(
            f"{PREFIX}_request_duration_seconds",
            "HTTP request latency by endpoint, service and status code",
            ["endpoint", "service", "status"],
            buckets=_REQUEST_BUCKETS,
            registry=r,
        )
        self.fetches = Histogram(
            f"{PREFIX}_outbound_fetch_duration_seconds",
            "Outbound fetch latency (FHIR server, JWK Set) by target and outcome",
            ["target", "outcome"],
            buckets=_FETCH_BUCKETS,
            registry=r,
        )
        self.fetch_errors = Counter(
            f"{PREFIX}_outbound_fetch_errors",
            "Outbound fetches that failed (transport error or HTTP status >= 400)",
            ["target", "outcome"],
            registry=r,
        )
        self.preconditions = Counter(
            f"{PREFIX}_precondition_failed",
            "Hook calls answered 412 (required data could not be had)",
            ["service"],
            registry=r,
        )
        self.unauthorized = Counter(
            f"{PREFIX}_unauthorized",
            "Requests refused 401, by reason",
            ["reason"],
            registry=r,
        )
        self.cards = Counter(
            f"{PREFIX}_cards_issued",
            "Cards returned to the EHR, by topic and indicator",
            ["service", "topic", "indicator"],
            registry=r,
        )
        self.feedback = Counter(
            f"{PREFIX}_feedback",
            "Feedback entries received, by topic, card version and outcome",
            ["service", "topic", "card_version", "outcome"],
            registry=r,
        )
        self.overrides = Counter(
            f"{PREFIX}_override_reasons",
            "Overridden cards by topic, card version and override reason code",
            ["service", "topic", "card_version", "reason"],
            registry=r,
        )

    # -- label hygiene -------------------------------------------------------------------

    def service_label(self, service_id: str | None) -> str:
        if service_id is None:
            return "none"
        return service_id if service_id in self._services else "unknown"

    def topic_label(self, topic: str | None) -> str:
        if topic is None:
            return "unknown"
        return topic if not self._topics or topic in self._topics else "other"

    def _reason_label(self, kind: str, reason: str) -> str:
        """A normalised reason; past ``_MAX_REASONS`` distinct ones (client-chosen override
        codes), the rest count as ``other`` so a client cannot grow the series."""
        label = _label(reason)
        seen = self._reasons[kind]
        if label not in seen:
            if len(seen) >= _MAX_REASONS:
                return "other"
            seen.add(label)
        return label

    # -- the API the service calls ---------------------------------------------------------

    def observe_request(self, endpoint: str, service_id: str | None, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, self.service_label(service_id), str(status)).observe(seconds)

    def observe_fetch(self, target: str, outcome: str, seconds: float, *, failed: bool) -> None:
        self.fetches.labels(target, outcome).observe(seconds)
        if failed:
            self.fetch_errors.labels(target, outcome).inc()

    def precondition_failed(self, service_id: str | None) -> None:
        self.preconditions.labels(self.service_label(service_id)).inc()

    def unauthorized_request(self, reason: str) -> None:
        self.unauthorized.labels(self._reason_label("auth", reason or "unspecified")).inc()

    def card_issued(self, service_id: str, topic: str | None, indicator: str) -> None:
        indicator = indicator if indicator in ("info", "warning", "critical") else "other"
        self.cards.labels(self.service_label(service_id), self.topic_label(topic), indicator).inc()

    def feedback_received(
        self,
        service_id: str,
        topic: str | None,
        card_version: str | None,
        outcome: str,
        override_reason: str | None,
    ) -> None:
        service = self.service_label(service_id)
        topic_label = self.topic_label(topic)
        version = _VERSION_UNSAFE.sub("_", card_version)[:32] if card_version else "unknown"
        self.feedback.labels(service, topic_label, version, _label(outcome, 16)).inc()
        if outcome == "overridden":
            reason = self._reason_label("override", override_reason) if override_reason else "none"
            self.overrides.labels(service, topic_label, version, reason).inc()

    def render(self) -> bytes:
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self._registry)
