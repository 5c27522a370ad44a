"""JWT verification on discovery, service calls and feedback, through HTTP (S1–S4, F3, D6)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from support import BASE_URL, FEEDBACK_BODY, empty_prefetch, make_settings, patient_view, service

ISSUER = "https://ehr.example.org"
KID = "test-key-1"
PRIVATE = ec.generate_private_key(ec.SECP384R1())
PUBLIC_JWK = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(PRIVATE.public_key()))
PUBLIC_JWK.update({"kid": KID, "alg": "ES384", "use": "sig"})
JWKS = json.dumps({"keys": [PUBLIC_JWK]})


def token(aud: str, **claims: Any) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {"iss": ISSUER, "aud": aud, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    payload.update(claims)
    return jwt.encode(payload, PRIVATE, algorithm="ES384", headers={"kid": KID, "typ": "JWT"})


def auth_settings(tmp_path: Path, **extra: Any):
    return make_settings(
        tmp_path, evaluation_time=None, auth_enabled=True, auth_trusted_issuers=[ISSUER],
        auth_issuer_jwks={ISSUER: JWKS}, **extra,
    )


ENDPOINTS = [
    ("GET", "/cds-services", None),
    ("POST", "/cds-services/calf-pain-review", patient_view(prefetch=empty_prefetch())),
    ("POST", "/cds-services/calf-pain-review/feedback", FEEDBACK_BODY),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=["discovery", "service", "feedback"])
async def test_valid_jwt_is_accepted_on_every_endpoint(tmp_path: Path, method: str, path: str, body: Any) -> None:
    async with service(auth_settings(tmp_path)) as client:
        headers = {"Authorization": f"Bearer {token(BASE_URL + path)}"}
        response = await client.request(method, path, json=body, headers=headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=["discovery", "service", "feedback"])
@pytest.mark.parametrize(
    "make_header",
    [
        lambda aud: None,
        lambda aud: "Bearer",
        lambda aud: "Bearer not.a.jwt",
        lambda aud: f"Bearer {token(aud + '/elsewhere')}",
        lambda aud: f"Bearer {token(aud, iss='https://rogue.example.org')}",
        lambda aud: f"Bearer {token(aud, exp=int(time.time()) - 600)}",
        lambda aud: "Bearer " + jwt.encode({"iss": ISSUER, "aud": aud, "iat": int(time.time()), "exp": int(time.time()) + 60, "jti": "x"}, "a-shared-secret-that-is-long-enough-for-hs256", algorithm="HS256", headers={"kid": KID}),
    ],
    ids=["missing", "empty-bearer", "garbage", "wrong-aud", "untrusted-iss", "expired", "hmac"],
)
async def test_bad_jwt_is_401_without_detail(tmp_path: Path, method: str, path: str, body: Any, make_header) -> None:
    header = make_header(BASE_URL + path)
    async with service(auth_settings(tmp_path)) as client:
        headers = {"Authorization": header} if header else {}
        response = await client.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert "diagnostics" not in response.text  # no detail about why
    assert response.headers.get("www-authenticate") == "Bearer"


async def test_replayed_jwt_is_401(tmp_path: Path) -> None:
    path = "/cds-services"
    header = {"Authorization": f"Bearer {token(BASE_URL + path)}"}
    async with service(auth_settings(tmp_path)) as client:
        assert (await client.get(path, headers=header)).status_code == 200
        assert (await client.get(path, headers=header)).status_code == 401


async def test_audience_uses_configured_public_base_url(tmp_path: Path) -> None:
    public = "https://cds.example.org/calf"
    async with service(auth_settings(tmp_path, public_base_url=public)) as client:
        ok = await client.get("/cds-services", headers={"Authorization": f"Bearer {token(public + '/cds-services')}"})
        wrong = await client.get("/cds-services", headers={"Authorization": f"Bearer {token(BASE_URL + '/cds-services')}"})
    assert ok.status_code == 200
    assert wrong.status_code == 401


async def test_auth_is_on_by_default_outside_dev(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, profile="prod", auth_enabled=None, auth_trusted_issuers=[ISSUER],
                             auth_issuer_jwks={ISSUER: JWKS})
    assert settings.auth_is_enabled
    async with service(settings) as client:
        assert (await client.get("/cds-services")).status_code == 401
    assert not make_settings(tmp_path, auth_enabled=None).auth_is_enabled  # dev profile
