"""Access tokens, JWTs and patient identifiers never reach a log line (R8)."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
import respx

from cds_service.logging_setup import RedactingFilter, scrub
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
