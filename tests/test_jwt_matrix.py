"""The JWT matrix (issue 8): 44 hostile client tokens against the real ASGI app over HTTP.

Every bad token is answered 401 with an OperationOutcome and ``WWW-Authenticate: Bearer``
(CDS Hooks 2.0 "Trusting CDS Clients"; the service documents no other status for a bad
token), never 500; the verifier logs the expected fixed reason, and no part of the token
appears in any log record. Tokens whose header names a ``jku`` meet two real loopback
listeners: the allowlisted one serves a JWK Set (and a redirect, and a non-JWKS document),
the other is never allowlisted; the test asserts exactly which requests each received, so
"refused without contacting anyone" is proven, not assumed. Valid tokens (configured key,
allowlisted ``jku``, the tolerated trailing slash ...) are answered 200, so the matrix cannot
pass by refusing everything.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from hostile_server import HostileServer, Request, hostile, respond, respond_json
from jwt_keys import ISSUER, KID, SigningKey, b64url, compact, public_jwk, segment
from support import BASE_URL, FEEDBACK_BODY, empty_prefetch, make_settings, patient_view, service

SERVICE_PATH = "/cds-services/calf-pain-review"
AUDIENCE = BASE_URL + SERVICE_PATH
JKU_KID = "jku-es384"

KEY = SigningKey.generate()  # trusted: the issuer's configured JWK Set
JKU_KEY = SigningKey.generate()  # trusted: published at the allowlisted jku
ATTACKER = ec.generate_private_key(ec.SECP384R1())
P256 = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED25519 = ed25519.Ed25519PrivateKey.generate()


@dataclass
class Ctx:
    """What a case needs to forge its token: the clock and the two listeners' URLs."""

    now: int
    allowed: str  # base URL of the allowlisted JWK Set host
    other: str  # base URL of a host that is never allowlisted

    @property
    def jku(self) -> str:
        return f"{self.allowed}/jwks.json"

    def claims(self, **overrides: Any) -> dict[str, Any]:
        return KEY.claims(AUDIENCE, now=self.now, **overrides)


def _header(**extra: Any) -> dict[str, Any]:
    h: dict[str, Any] = {"alg": "ES384", "typ": "JWT", "kid": KID}
    h.update(extra)
    return {k: v for k, v in h.items() if v is not None}


def signed(ctx: Ctx, header: dict[str, Any] | None = None, key: Any = None, **claims: Any) -> str:
    """``Bearer`` + a token signed by ``key`` (default: the trusted key)."""
    return "Bearer " + compact(header or _header(), ctx.claims(**claims), key or KEY.private)


def raw(*segments: str) -> str:
    return "Bearer " + ".".join(segments)


def _hs256_with_public_key(ctx: Ctx) -> str:
    """Algorithm confusion: HMAC keyed with the server's own public key (PEM)."""
    pem = KEY.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{segment(_header(alg='HS256'))}.{segment(ctx.claims())}"
    mac = hmac.new(pem, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"Bearer {signing_input}.{b64url(mac)}"


def _tampered(ctx: Ctx) -> str:
    """A valid signature over other claims: the payload is swapped after signing."""
    header_seg, _, signature = compact(_header(), ctx.claims(), KEY.private).split(".")
    forged = segment(ctx.claims(aud=[AUDIENCE], jti="tampered"))
    return raw(header_seg, forged, signature)


def _valid_parts(ctx: Ctx) -> list[str]:
    return compact(_header(), ctx.claims(), KEY.private).split(".")


@dataclass(frozen=True)
class Case:
    id: str
    authorization: Callable[[Ctx], str | None]
    reason: str  # what the verifier logs ("client JWT rejected: <reason>")
    # Requests each listener must have received, as (listener, path); default: none at all.
    fetched: tuple[tuple[str, str], ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)


CASES: list[Case] = [
    # -- the Authorization header ---------------------------------------------------------
    Case("no-authorization", lambda c: None, "missing Authorization header"),
    # The log redaction masks the word after "Bearer", the reason's own word included.
    Case("bearer-without-token", lambda c: "Bearer", "not a Bearer [redacted]"),
    Case("basic-scheme", lambda c: "Basic " + "".join(_valid_parts(c)), "not a Bearer [redacted]"),
    # -- algorithms -----------------------------------------------------------------------
    Case("alg-none", lambda c: raw(segment(_header(alg="none")), segment(c.claims()), ""), "alg not allowed"),
    Case("alg-None-capitalised", lambda c: raw(segment(_header(alg="None")), segment(c.claims()), ""),
         "alg not allowed"),
    Case("alg-missing", lambda c: raw(segment(_header(alg=None)), segment(c.claims()), "c2ln"), "alg not allowed"),
    Case("hs256-keyed-with-public-key", _hs256_with_public_key, "alg not allowed"),
    Case("hs512-shared-secret", lambda c: signed(c, _header(alg="HS512"), b"a-shared-secret-of-sufficient-length-for-hs512-000000000000"),
         "alg not allowed"),
    Case("eddsa-unsupported", lambda c: signed(c, _header(alg="EdDSA"), ED25519), "alg not allowed"),
    Case("rs384-with-ec-kid", lambda c: signed(c, _header(alg="RS384"), RSA_KEY), "key does not fit alg"),
    Case("es256-with-p384-kid", lambda c: signed(c, _header(alg="ES256"), P256), "key does not fit alg"),
    # -- typ, kid and key sources ---------------------------------------------------------
    Case("typ-not-jwt", lambda c: signed(c, _header(typ="at+jwt")), "typ is not JWT"),
    Case("kid-missing", lambda c: signed(c, _header(kid=None)), "kid missing"),
    Case("kid-unknown", lambda c: signed(c, _header(kid="rotated-away")), "unknown kid"),
    Case("kid-path-traversal", lambda c: signed(c, _header(kid="../../../../etc/passwd")), "unknown kid"),
    Case("kid-absolute-path", lambda c: signed(c, _header(kid="/proc/self/environ")), "unknown kid"),
    Case("jku-unknown-host", lambda c: signed(c, _header(kid=JKU_KID, jku=f"{c.other}/jwks.json"), JKU_KEY.private),
         "jku not allowed"),
    Case("jku-off-allowlist-path", lambda c: signed(c, _header(kid=JKU_KID, jku=f"{c.allowed}/evil.json"), JKU_KEY.private),
         "jku not allowed"),
    Case("jku-allowlisted-plus-query", lambda c: signed(c, _header(kid=JKU_KID, jku=c.jku + "?x=1"), JKU_KEY.private),
         "jku not allowed"),
    Case("jku-userinfo-trick",
         lambda c: signed(c, _header(kid=JKU_KID, jku=c.allowed.replace("http://", "http://x@") + "/jwks.json"),
                          JKU_KEY.private), "jku not allowed"),
    Case("jku-not-a-string", lambda c: signed(c, _header(kid=JKU_KID, jku=[c.jku]), JKU_KEY.private), "jku not allowed"),
    Case("jku-loopback-refused-by-guard", lambda c: signed(c, _header(kid=JKU_KID, jku=c.jku), JKU_KEY.private),
         "jku fetch failed", settings={"outbound_allow_private": False}),
    Case("jku-redirect", lambda c: signed(c, _header(kid=JKU_KID, jku=f"{c.allowed}/redirect.json"), JKU_KEY.private),
         "jku fetch failed", fetched=(("allowed", "/redirect.json"),)),
    Case("jku-not-a-jwk-set", lambda c: signed(c, _header(kid=JKU_KID, jku=f"{c.allowed}/page.html"), JKU_KEY.private),
         "jku fetch failed", fetched=(("allowed", "/page.html"),)),
    Case("jku-set-lacks-kid", lambda c: signed(c, _header(kid="not-published", jku=c.jku), JKU_KEY.private),
         "unknown kid", fetched=(("allowed", "/jwks.json"),)),
    # -- embedded keys and extensions -----------------------------------------------------
    Case("x5u-header", lambda c: signed(c, _header(kid="attacker", x5u=f"{c.other}/cert.pem"), ATTACKER), "unknown kid"),
    Case("jwk-embedded-new-kid", lambda c: signed(c, _header(kid="attacker", jwk=public_jwk(ATTACKER, "attacker")), ATTACKER),
         "unknown kid"),
    Case("jwk-embedded-trusted-kid", lambda c: signed(c, _header(jwk=public_jwk(ATTACKER, KID, "ES384")), ATTACKER),
         "bad signature"),
    # PyJWT itself refuses these (unsupported crit; b64=false leaves a payload that is not
    # base64 JSON) before the service's own check of crit/b64, which stays as a second wall.
    Case("crit-header", lambda c: signed(c, _header(crit=["exp"])), "malformed token"),
    Case("b64-false-header", lambda c: signed(c, _header(b64=False)), "malformed token"),
    # -- signature ------------------------------------------------------------------------
    Case("signed-by-another-key", lambda c: signed(c, key=ATTACKER), "bad signature"),
    Case("payload-swapped-after-signing", _tampered, "bad signature"),
    # -- shape of the compact JWS ---------------------------------------------------------
    Case("two-segments", lambda c: raw(*_valid_parts(c)[:2]), "malformed token"),
    Case("four-segments", lambda c: raw(*_valid_parts(c), "AAAA"), "malformed token"),
    Case("not-base64url", lambda c: raw("eyJ*bad*", "e30", "AAAA"), "malformed token"),
    Case("non-json-header", lambda c: raw(b64url(b"not json at all"), segment(c.claims()), "AAAA"), "malformed token"),
    Case("header-json-array", lambda c: raw(segment([_header()]), segment(c.claims()), "AAAA"), "malformed token"),
    Case("huge-token", lambda c: signed(c, padding="x" * 40_000), "token too large"),
    # -- claims ---------------------------------------------------------------------------
    Case("iss-untrusted", lambda c: signed(c, iss="https://rogue.example.test"), "issuer not trusted"),
    Case("expired", lambda c: signed(c, iat=c.now - 600, exp=c.now - 300), "token expired"),
    Case("iat-in-future-beyond-skew", lambda c: signed(c, iat=c.now + 600, exp=c.now + 900), "iat in the future"),
    Case("nbf-in-future-beyond-skew", lambda c: signed(c, nbf=c.now + 600), "token not yet valid"),
    Case("exp-missing", lambda c: signed(c, exp=None), "exp or iat missing"),
    Case("lifetime-too-long", lambda c: signed(c, exp=c.now + 2 * 3600), "token lifetime too long"),
    Case("aud-other-endpoint", lambda c: signed(c, aud=BASE_URL + "/cds-services"), "aud mismatch"),
    Case("aud-parent-with-trailing-slash", lambda c: signed(c, aud=BASE_URL + "/cds-services/"), "aud mismatch"),
    Case("aud-base-with-trailing-slash", lambda c: signed(c, aud=BASE_URL + "/"), "aud mismatch"),
    Case("aud-encoded-slash", lambda c: signed(c, aud=AUDIENCE + "%2F"), "aud mismatch"),
    Case("aud-missing", lambda c: signed(c, aud=None), "aud missing"),
    Case("jti-missing", lambda c: signed(c, jti=None), "jti missing"),
]


def test_the_matrix_has_at_least_the_44_bad_tokens_of_issue_8() -> None:
    assert len(CASES) == len({case.id for case in CASES}) >= 44


# -- the listeners and the app ----------------------------------------------------------


@dataclass
class Listeners:
    allowed: HostileServer
    other: HostileServer

    def fetched(self) -> set[tuple[str, str]]:
        return {("allowed", r.target) for r in self.allowed.requests} | {
            ("other", r.target) for r in self.other.requests
        }


def _jwks_host(other: list[HostileServer]) -> Callable[[Request, asyncio.StreamWriter], Any]:
    async def handler(request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.target == "/jwks.json":
            return await respond_json(writer, JKU_KEY.jwks(JKU_KID))
        if request.target == "/redirect.json":  # to a host that would serve a usable set
            return await respond(writer, 302, headers={"Location": f"{other[0].base}/jwks.json"})
        if request.target == "/page.html":
            return await respond(writer, 200, b"<html>not a key set</html>", {"Content-Type": "text/html"})
        return await respond(writer, 404)

    return handler


async def _serve_attacker_set(request: Request, writer: asyncio.StreamWriter) -> bool:
    return await respond_json(writer, JKU_KEY.jwks(JKU_KID))


@pytest.fixture
async def listeners() -> AsyncIterator[Listeners]:
    holder: list[HostileServer] = []
    async with hostile(_serve_attacker_set) as other:
        holder.append(other)
        async with hostile(_jwks_host(holder)) as allowed:
            yield Listeners(allowed=allowed, other=other)


def _settings(tmp_path: Path, listeners: Listeners, **extra: Any):
    base = listeners.allowed.base
    return make_settings(
        tmp_path, evaluation_time=None, **KEY.auth_settings(),
        auth_jku_allowlist=[f"{base}/jwks.json", f"{base}/redirect.json", f"{base}/page.html"],
        **extra,
    )


def _ctx(listeners: Listeners) -> Ctx:
    return Ctx(now=int(time.time()), allowed=listeners.allowed.base, other=listeners.other.base)


def _assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers.get("www-authenticate") == "Bearer"
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"] and "diagnostics" not in response.text  # no detail about why


def _assert_not_logged(caplog: pytest.LogCaptureFixture, authorization: str | None) -> None:
    if not authorization or " " not in authorization:
        return  # no token to leak ("Bearer" alone)
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    token = authorization.split(" ", 1)[1]
    assert token not in text
    for part in token.split("."):
        if len(part) >= 12:  # shorter pieces ("AAAA", "e30") are not token text worth the name
            assert part not in text


def _rejections(caplog: pytest.LogCaptureFixture) -> list[str]:
    prefix = "client JWT rejected: "
    return [
        m[len(prefix):].split(" (", 1)[0]
        for m in (r.getMessage() for r in caplog.records)
        if m.startswith(prefix)
    ]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_token_is_401_with_an_operation_outcome(
    case: Case, tmp_path: Path, listeners: Listeners, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    authorization = case.authorization(_ctx(listeners))
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with service(_settings(tmp_path, listeners, **case.settings)) as client:
        response = await client.post(SERVICE_PATH, json=patient_view(prefetch=empty_prefetch()), headers=headers)
    _assert_refused(response)
    assert _rejections(caplog) == [case.reason]
    assert listeners.fetched() == set(case.fetched)
    assert listeners.other.connections == 0
    if case.settings.get("outbound_allow_private") is False:
        assert listeners.allowed.connections == 0  # refused after DNS, before connecting
    _assert_not_logged(caplog, authorization)


async def test_replayed_jti_is_401(tmp_path: Path, listeners: Listeners, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    authorization = signed(_ctx(listeners))
    async with service(_settings(tmp_path, listeners)) as client:
        body = patient_view(prefetch=empty_prefetch())
        first = await client.post(SERVICE_PATH, json=body, headers={"Authorization": authorization})
        again = await client.post(SERVICE_PATH, json=body, headers={"Authorization": authorization})
    assert first.status_code == 200, first.text
    _assert_refused(again)
    assert _rejections(caplog) == ["jti replayed"]
    _assert_not_logged(caplog, authorization)


# -- valid tokens: the matrix must not pass by refusing everything -----------------------

VALID: list[tuple[str, str, Callable[[Ctx, str], str], tuple[tuple[str, str], ...]]] = [
    ("service", SERVICE_PATH, lambda c, aud: signed(c, aud=aud), ()),
    ("discovery", "/cds-services", lambda c, aud: signed(c, aud=aud), ()),
    ("feedback", SERVICE_PATH + "/feedback", lambda c, aud: signed(c, aud=aud), ()),
    ("allowlisted-jku", SERVICE_PATH,
     lambda c, aud: signed(c, _header(kid=JKU_KID, jku=c.jku), JKU_KEY.private, aud=aud),
     (("allowed", "/jwks.json"),)),
    ("aud-trailing-slash-tolerated", SERVICE_PATH, lambda c, aud: signed(c, aud=aud + "/"), ()),
    ("aud-array", SERVICE_PATH, lambda c, aud: signed(c, aud=["https://other.example.test", aud]), ()),
    ("expired-within-skew", SERVICE_PATH, lambda c, aud: signed(c, aud=aud, iat=c.now - 330, exp=c.now - 30), ()),
    ("lowercase-bearer", SERVICE_PATH, lambda c, aud: "bearer " + signed(c, aud=aud).split(" ", 1)[1], ()),
]


@pytest.mark.parametrize(("name", "path", "make", "fetched"), VALID, ids=[v[0] for v in VALID])
async def test_valid_token_is_answered_200(
    name: str, path: str, make: Callable[[Ctx, str], str], fetched: tuple[tuple[str, str], ...],
    tmp_path: Path, listeners: Listeners, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    authorization = make(_ctx(listeners), BASE_URL + path)
    body = {
        SERVICE_PATH: patient_view(prefetch=empty_prefetch()),
        "/cds-services": None,
        SERVICE_PATH + "/feedback": FEEDBACK_BODY,
    }[path]
    async with service(_settings(tmp_path, listeners)) as client:
        method = "GET" if body is None else "POST"
        response = await client.request(method, path, json=body, headers={"Authorization": authorization})
    assert response.status_code == 200, response.text
    assert _rejections(caplog) == []
    assert listeners.fetched() == set(fetched)
    _assert_not_logged(caplog, authorization)
