"""The NAIVE path the benchmark compares against: validate every prefetched resource as a
``fhir.resources.R4B`` model (``model_validate`` by resource type), then evaluate.

This is what a service that "parses the prefetch into FHIR models first" pays; the real
service validates only the few resources its rules select (``clinical/extract/``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from functools import cache
from typing import Any

from cds_service.fhir_client import bundle_resources


@cache
def model_for(resource_type: str) -> Any:
    """The R4B model class of a resource type (``fhir.resources.R4B.<lowercase>``)."""
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)


def validate_all(resources: Iterable[dict[str, Any]]) -> int:
    """Validate each resource as its R4B model; raises on the first invalid one."""
    count = 0
    for resource in resources:
        model_for(resource["resourceType"]).model_validate(resource)
        count += 1
    return count


def validate_prefetch(prefetch: dict[str, Any]) -> int:
    """Validate every resource of every prefetch value (Bundles unpacked)."""
    count = 0
    for value in prefetch.values():
        if isinstance(value, dict):
            count += validate_all(bundle_resources(value))
    return count
