"""Fail fast on configuration (issue 9): every setting is checked when settings are built,
and a setting that cannot work is refused with one line naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cds_service.config import Settings
from cds_service.settings_checks import ConfigError, load_settings
from support import EXAMPLES

SANDBOX_ISS = "https://sandbox.cds-hooks.org"
SANDBOX_JWKS = str(EXAMPLES / "sandbox-client" / "sandbox-jwks.json")
INLINE_JWKS = json.dumps({"keys": []})

BAD: dict[str, tuple[dict[str, Any], str, str]] = {
    # case: (overrides, the setting named, words of the reason)
    "jwks path missing": (
        {"auth_trusted_issuers": [SANDBOX_ISS], "auth_issuer_jwks": {SANDBOX_ISS: "/nonexistent/jwks.json"}},
        "CALF_CDS_AUTH_ISSUER_JWKS", "not found"),
    "jwks file not a key set": (
        {"auth_trusted_issuers": [SANDBOX_ISS], "auth_issuer_jwks": {SANDBOX_ISS: str(EXAMPLES / "spec-2.0/response-empty.json")}},
        "CALF_CDS_AUTH_ISSUER_JWKS", "not a JWK Set"),
    "inline jwks not json": (
        {"auth_trusted_issuers": [SANDBOX_ISS], "auth_issuer_jwks": {SANDBOX_ISS: "{keys"}},
        "CALF_CDS_AUTH_ISSUER_JWKS", "not JSON"),
    "prod without trusted issuer": ({"profile": "prod"}, "CALF_CDS_AUTH_TRUSTED_ISSUERS", "prod profile"),
    "auth on without trusted issuer": ({"auth_enabled": True}, "CALF_CDS_AUTH_TRUSTED_ISSUERS", "trusted issuer"),
    "issuer with no key source": (
        {"profile": "prod", "auth_trusted_issuers": [SANDBOX_ISS]}, "CALF_CDS_AUTH_ISSUER_JWKS", "never verify"),
    "aud base url relative": ({"public_base_url": "cds.example.org/cds"}, "CALF_CDS_PUBLIC_BASE_URL", "absolute"),
    "aud base url with query": ({"public_base_url": "https://cds.example.org/?x=1"}, "CALF_CDS_PUBLIC_BASE_URL", "query"),
    "unknown log level": ({"log_level": "VERBOSE"}, "CALF_CDS_LOG_LEVEL", "unknown log level"),
    "port out of range": ({"port": 70000}, "CALF_CDS_PORT", "1-65535"),
    "port not a number": ({"port": "abc"}, "CALF_CDS_PORT", "integer"),
    "profile unknown": ({"profile": "staging"}, "CALF_CDS_PROFILE", "'dev' or 'prod'"),
    "cards dir missing": ({"cards_dir": "/nonexistent/cards"}, "CALF_CDS_CARDS_DIR", "not found"),
    "database url": ({"database_url": "not a url"}, "CALF_CDS_DATABASE_URL", "database URL"),
    "body limit": ({"max_body_bytes": 0}, "CALF_CDS_MAX_BODY_BYTES", "greater than 0"),
    "fhir timeout": ({"fhir_request_timeout_s": -1}, "CALF_CDS_FHIR_REQUEST_TIMEOUT_S", "greater than 0"),
    "fhir host with scheme": ({"fhir_allowed_hosts": ["https://fhir.example.org"]}, "CALF_CDS_FHIR_ALLOWED_HOSTS", "host name"),
    "observation code token": ({"extra_observation_codes": ["41979-6"]}, "CALF_CDS_EXTRA_OBSERVATION_CODES", "system|code"),
    "cors origin with path": ({"cors_allow_origins": ["https://sandbox.cds-hooks.org/"]}, "CALF_CDS_CORS_ALLOW_ORIGINS", "origin"),
    "jku not absolute": ({"auth_jku_allowlist": ["/jwks.json"]}, "CALF_CDS_AUTH_JKU_ALLOWLIST", "absolute"),
    "cache size": ({"validation_cache_size": -1}, "CALF_CDS_VALIDATION_CACHE_SIZE", "negative"),
    "clinical threshold": ({"clinical": {"potassium_low_mmol_l": 0}}, "CALF_CDS_CLINICAL__POTASSIUM_LOW_MMOL_L", "greater than 0"),
    "clinical type": ({"clinical": {"ck_window_days": "soon"}}, "CALF_CDS_CLINICAL__CK_WINDOW_DAYS", "integer"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_setting_that_cannot_work_is_refused_with_one_line_naming_it(case: str) -> None:
    overrides, setting, reason = BAD[case]
    with pytest.raises(ConfigError) as caught:
        load_settings(**overrides)
    line = str(caught.value)
    assert line.startswith(setting + ": "), line
    assert reason in line
    assert "\n" not in line


def test_settings_built_directly_are_checked_too() -> None:
    """create_app() in a uvicorn worker builds Settings() itself: the same checks apply."""
    with pytest.raises(ValueError, match="CALF_CDS_AUTH_TRUSTED_ISSUERS"):
        Settings(profile="prod")


@pytest.mark.parametrize(
    ("variable", "value", "setting"),
    [
        ("CALF_CDS_PORT", "abc", "CALF_CDS_PORT"),
        ("CALF_CDS_LOG_LEVEL", "noisy", "CALF_CDS_LOG_LEVEL"),
        ("CALF_CDS_AUTH_TRUSTED_ISSUERS", "https://not-a-json-list", "CALF_CDS_AUTH_TRUSTED_ISSUERS"),
        ("CALF_CDS_CLINICAL__CK_WINDOW_DAYS", "x", "CALF_CDS_CLINICAL__CK_WINDOW_DAYS"),
    ],
)
def test_environment_values_are_named_by_their_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, setting: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(setting + ": ")


def test_a_database_password_is_never_repeated() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(database_url="postgresql+psycopg://calf:s3cret-pw@db:notaport/calf")
    assert "s3cret-pw" not in str(caught.value)
    assert str(caught.value).startswith("CALF_CDS_DATABASE_URL: ")


def test_working_configurations_start(tmp_path: Path) -> None:
    assert load_settings().profile == "dev"
    jwks = tmp_path / "jwks.json"
    jwks.write_text(INLINE_JWKS)
    prod = load_settings(
        profile="prod",
        public_base_url="https://cds.example.org/",
        log_level="warning",
        auth_trusted_issuers=[SANDBOX_ISS, "https://ehr.example.org", "https://other.example.org"],
        auth_issuer_jwks={SANDBOX_ISS: SANDBOX_JWKS, "https://ehr.example.org": INLINE_JWKS},
        auth_issuer_jku={"https://other.example.org": ["https://other.example.org/jwks.json"]},
        cors_allow_origins=["https://sandbox.cds-hooks.org", "http://localhost:3000"],
        fhir_allowed_hosts=["*.example.org", "127.0.0.1"],
        extra_observation_codes=["http://loinc.org|41979-6"],
        cards_dir=str(Path(__file__).resolve().parent.parent / "cards"),
    )
    assert prod.auth_is_enabled
