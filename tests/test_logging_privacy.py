"""Access tokens, JWTs and patient identifiers never reach a log line (R8)."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from cds_service.logging_setup import RedactingFilter, scrub, uvicorn_log_config
from support import BASE_URL, make_settings, patient_view, service
from test_api_auth import auth_settings, token

ACCESS_TOKEN = "access-token-SENSITIVE-123"
PATIENT_ID = "patient-SENSITIVE-9"


def test_scrub_removes_bearer_tokens_and_jwts() -> None:
    jwt_like = "eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"
    assert "SECRET" not in scrub("Authorization: Bearer SECRET")
    assert jwt_like not in scrub(f"token {jwt_like} seen")


async def test_no_secret_or_patient_id_in_any_log_record(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    jwt_value = token(BASE_URL + "/cds-services/calf-pain-review")
    auth = {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 300,
            "scope": "user/*.read", "subject": "calf-cds", "patient": PATIENT_ID}
    body = patient_view(PATIENT_ID, fhirServer="https://fhir.example.org/r4", fhirAuthorization=auth)
    with respx.mock:
        respx.get(url__startswith="https://fhir.example.org").mock(return_value=httpx.Response(500, text=f"error for {PATIENT_ID}"))
        async with service(auth_settings(tmp_path, fhir_allowed_hosts=["fhir.example.org"])) as client:
            ok = await client.post("/cds-services/calf-pain-review", json=body, headers={"Authorization": f"Bearer {jwt_value}"})
            replay = await client.post("/cds-services/calf-pain-review", json=body, headers={"Authorization": f"Bearer {jwt_value}"})
            bad = await client.post("/cds-services/calf-pain-review", json=dict(body, hook=7), headers={"Authorization": f"Bearer {token(BASE_URL + '/cds-services/calf-pain-review')}"})
    assert (ok.status_code, replay.status_code, bad.status_code) == (412, 401, 400)
    assert caplog.records, "the service should log something for these events"
    for record in caplog.records:
        text = record.getMessage() + str(record.exc_info or "")
        assert ACCESS_TOKEN not in text
        assert jwt_value not in text
        assert PATIENT_ID not in text
    assert PATIENT_ID not in ok.text and ACCESS_TOKEN not in ok.text


def test_redacting_filter_rewrites_library_messages() -> None:
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "headers %s", ("Bearer abc.def",), None)
    RedactingFilter().filter(record)
    assert "abc.def" not in record.getMessage()


# --- JSON lines and the request id ---------------------------------------------------------

@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The service's real log set-up (dictConfig as given to uvicorn), writing to a buffer."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logging.config.dictConfig(uvicorn_log_config("DEBUG", "json"))
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).propagate = True


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def test_every_line_of_a_request_is_json_with_its_request_id(tmp_path: Path, json_log: io.StringIO) -> None:
    async with service(make_settings(tmp_path)) as client:
        response = await client.post("/cds-services/calf-pain-review", json=patient_view(PATIENT_ID),
                                     headers={"X-Request-ID": "ehr-req.42"})
    assert response.status_code == 412
    assert response.headers["x-request-id"] == "ehr-req.42"
    lines = _lines(json_log)
    mine = [line for line in lines if line["request_id"] == "ehr-req.42"]
    assert {line["logger"] for line in mine} >= {"cds_service", "cds_service.access"}
    warning = next(line for line in mine if line["level"] == "WARNING")
    assert warning["message"].startswith("412 precondition failed")
    access = next(line for line in mine if line["logger"] == "cds_service.access")
    assert (access["endpoint"], access["status"], access["method"]) == ("service", 412, "POST")
    assert set(access) >= {"time", "level", "message", "duration_ms", "service"}
    assert PATIENT_ID not in json_log.getvalue()


@pytest.mark.parametrize("given", ["x" * 65, "a b", "id\nforged: line", "<script>", "é"])
async def test_unsafe_request_ids_are_replaced(tmp_path: Path, given: str, json_log: io.StringIO) -> None:
    async with service(make_settings(tmp_path)) as client:
        response = await client.get("/cds-services", headers={"X-Request-ID": given.encode("utf-8")})
    generated = response.headers["x-request-id"]
    assert generated != given and len(generated) == 32 and generated.isalnum()
    assert any(line["request_id"] == generated for line in _lines(json_log))
    assert given not in json_log.getvalue()


async def test_requests_without_an_id_get_distinct_ones(tmp_path: Path) -> None:
    async with service(make_settings(tmp_path)) as client:
        ids = {(await client.get("/healthz")).headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


async def test_json_lines_hold_no_token_jwt_or_patient_id(tmp_path: Path, json_log: io.StringIO) -> None:
    jwt_value = token(BASE_URL + "/cds-services/calf-pain-review")
    auth = {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 300,
            "scope": "user/*.read", "subject": "calf-cds", "patient": PATIENT_ID}
    body = patient_view(PATIENT_ID, fhirServer="https://fhir.example.org/r4", fhirAuthorization=auth)
    with respx.mock:
        respx.get(url__startswith="https://fhir.example.org").mock(return_value=httpx.Response(500, text=f"error for {PATIENT_ID}"))
        async with service(auth_settings(tmp_path, fhir_allowed_hosts=["fhir.example.org"])) as client:
            headers = {"Authorization": f"Bearer {jwt_value}"}
            await client.post("/cds-services/calf-pain-review", json=body, headers=headers)
            await client.post("/cds-services/calf-pain-review", json=body, headers=headers)  # replay
            await client.post("/cds-services/calf-pain-review/feedback", json={"feedback": "x"}, headers=headers)
    text = json_log.getvalue()
    assert len(_lines(json_log)) >= 4
    for secret in (ACCESS_TOKEN, jwt_value, PATIENT_ID, jwt_value.split(".")[1]):
        assert secret not in text


def test_a_logged_traceback_is_one_scrubbed_json_line(json_log: io.StringIO) -> None:
    try:
        raise ValueError("Bearer abc.def.ghi in the error")
    except ValueError:
        logging.getLogger("cds_service").exception("failed")
    (line,) = _lines(json_log)
    assert line["error"] == "ValueError" and "Traceback" in line["traceback"]
    assert "abc.def.ghi" not in json_log.getvalue()


def test_text_format_is_available_and_unknown_formats_refused() -> None:
    config = uvicorn_log_config("INFO", "text")
    assert "%(request_id)s" in config["formatters"]["default"]["format"]
    with pytest.raises(ValueError):
        uvicorn_log_config("INFO", "xml")
