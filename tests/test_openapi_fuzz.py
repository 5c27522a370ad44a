"""schemathesis against the served /openapi.json (issue #8, issue #9 item 5).

At least 1,000 generated cases per endpoint that takes a body (positive and negative data),
every documented operation fuzzed in-process over ASGI: no 5xx, every 4xx an
OperationOutcome, every answer conforming to the documented status codes, media types and
response schemas. No network: ``fhirServer`` may name no host (empty allowlist), so a call
without prefetch data is the spec's 412.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cds_service.app import create_app
from cds_service.pipeline import Pipeline
from support import catalog, make_settings, terminology

pytestmark = pytest.mark.fuzz

CASES = {GenerationMode.POSITIVE: 600, GenerationMode.NEGATIVE: 400}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
_DB_DIR = tempfile.TemporaryDirectory(prefix="calf-cds-fuzz-")


def _app():  # type: ignore[no-untyped-def]
    config = make_settings(Path(_DB_DIR.name), fhir_allowed_hosts=[], validation_cache_size=0)
    return create_app(config, pipeline=Pipeline(config, terminology(), catalog()))


SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", _app())
OPERATIONS = [(op.path, op.method) for op in (r.ok() for r in SCHEMA.get_all_operations())]
WITH_BODY = {(path, method) for path, method in OPERATIONS if method == "post"}


def _assert_outcome(response, label: str) -> None:  # type: ignore[no-untyped-def]
    if 400 <= response.status_code < 500:
        assert response.headers.get("content-type", [""])[0].startswith("application/fhir+json"), label
        body = response.json()
        assert body["resourceType"] == "OperationOutcome", label
        assert body["issue"] and all(i["severity"] == "error" for i in body["issue"]), label


def test_every_route_is_documented() -> None:
    assert set(OPERATIONS) == {
        ("/cds-services", "get"), ("/healthz", "get"), ("/readyz", "get"), ("/metrics", "get"),
        ("/cds-services/calf-pain-review", "post"), ("/cds-services/calf-pain-review/feedback", "post"),
        ("/cds-services/calf-safe-prescribing", "post"),
        ("/cds-services/calf-safe-prescribing/feedback", "post"),
    }


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_fuzz_operation(path: str, method: str) -> None:
    operation = SCHEMA[path][method]
    statuses: Counter[int] = Counter()
    # An operation without inputs has one possible case, and no negative one.
    modes = CASES if (path, method) in WITH_BODY else {GenerationMode.POSITIVE: 10}
    for mode, examples in modes.items():
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call()
            statuses[response.status_code] += 1
            label = f"{mode.value} {case.method} {case.path}: {response.status_code} {response.text[:300]}"
            checks = CHECKS if mode is GenerationMode.POSITIVE else [not_a_server_error]
            case.validate_response(response, checks=checks)
            _assert_outcome(response, label)

        run()
    assert not [s for s in statuses if s >= 500], statuses
    if (path, method) in WITH_BODY:
        assert sum(statuses.values()) >= 1000, statuses
