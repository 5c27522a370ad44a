"""Shared test helpers: building the app over real HTTP (ASGI) with injected settings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx

from cds_service.app import create_app
from cds_service.catalog import Catalog
from cds_service.config import Settings
from cds_service.pipeline import DEFAULT_CARDS_DIR, Pipeline
from cds_service.terminology.valuesets import Terminology

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "vectors"  # spec and sandbox bodies; origin in tests/vectors/ORIGIN.md
SCHEMAS = ROOT / "cds_service" / "data" / "schemas"  # the project's CDS Hooks 2.0 JSON Schemas
FIXTURES = ROOT / "fixtures"
BASE_URL = "http://127.0.0.1:8080"
EVALUATION_TIME = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


@lru_cache(maxsize=1)
def terminology() -> Terminology:
    return Terminology.load()


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    return Catalog.load(DEFAULT_CARDS_DIR)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "profile": "dev",
        "auth_enabled": False,
        "database_url": f"sqlite:///{tmp_path / 'feedback.sqlite3'}",
        "public_base_url": BASE_URL,
        "evaluation_time": EVALUATION_TIME,
        "fhir_allowed_hosts": ["127.0.0.1", "localhost", "fhir.example.org"],
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def service(settings: Settings, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The real ASGI app, lifespan included, behind an httpx client."""
    pipeline = Pipeline(settings, terminology(), catalog())
    app = create_app(settings, pipeline=pipeline, **kwargs)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client


def bundle_of(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"resource": r} for r in resources],
    }


def patient_view(patient_id: str = "p1", prefetch: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    body.update(extra)
    return body


def empty_prefetch(patient: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every key of calf-pain-review satisfied with no data."""
    return {
        "patient": patient,
        "encounter": None,
        "medicationRequests": bundle_of(),
        "medicationStatements": bundle_of(),
        "observations": bundle_of(),
        "conditions": bundle_of(),
        "resolvedConditions": bundle_of(),
        "procedures": bundle_of(),
        "recentEncounters": bundle_of(),
        "procedureObservations": bundle_of(),
    }


FEEDBACK_BODY: dict[str, Any] = {
    "feedback": [
        {
            "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
            "outcome": "overridden",
            "overrideReason": {"reason": {"code": "not-relevant", "system": "https://calf-cds.example.org/override-reason"}},
            "outcomeTimestamp": "2026-11-21T10:05:31Z",
        }
    ]
}
