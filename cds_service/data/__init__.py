"""Package data: generated terminology (tools/build_terminology.py) and the CDS Hooks 2.0
JSON Schemas derived by this project (``schemas/``, see the README there)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

SCHEMA_NAMES = (
    "context-order-select", "context-order-sign", "context-patient-view", "discovery-response",
    "feedback-request", "service-request", "service-response",
)


@cache
def schema(name: str) -> dict[str, Any]:
    """One CDS Hooks 2.0 body schema by name (e.g. ``"service-response"``), read from the package."""
    if name not in SCHEMA_NAMES:
        raise KeyError(f"no schema {name!r}; known: {', '.join(SCHEMA_NAMES)}")
    text = resources.files(__package__).joinpath("schemas", f"{name}.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
