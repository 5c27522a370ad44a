"""Tests for the CDS Client JWT verifier (CDS Hooks 2.0 §8.1, checklist S1-S4).

Every token here carries a real signature: the published spec/sandbox vectors, or tokens
signed with keys generated per test module. Clocks are pinned.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm, get_default_algorithms

from cds_service.auth import JKU_MAX_BYTES, JKU_REFETCH_MIN_INTERVAL_S, AuthConfig, JwtVerifier
from cds_service.config import Settings
from cds_service.errors import Unauthorized

EXAMPLES = Path(__file__).resolve().parent / "vectors"
SPEC_JWT = EXAMPLES / "spec-2.0" / "jwt"
SANDBOX = EXAMPLES / "sandbox-client"

ISS = "https://ehr.example.test/fhir"
AUD = "https://cds.example.test/cds-services/calf-pain"
JKU = "https://ehr.example.test/.well-known/jwks.json"
NOW = 1_800_000_000.0
_SSL_CONTEXT = ssl.create_default_context()


# -- helpers ---------------------------------------------------------------------------


class Clock:
    """A pinned, manually advanced clock."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(obj: Any) -> str:
    return _b64(json.dumps(obj).encode("utf-8"))


def sign(header: dict[str, Any], payload: dict[str, Any], key: Any) -> str:
    """Compact JWS signed with ``header['alg']`` (built by hand so any header can be tested)."""
    signing_input = f"{_segment(header)}.{_segment(payload)}"
    algorithm = get_default_algorithms()[header["alg"]]
    signature = algorithm.sign(signing_input.encode("ascii"), key)
    return f"{signing_input}.{_b64(signature)}"


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISS,
        "aud": AUD,
        "iat": int(NOW),
        "exp": int(NOW) + 300,
        "jti": "jti-1",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def header(alg: str = "ES384", kid: str | None = "ec-384", **extra: Any) -> dict[str, Any]:
    h: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        h["kid"] = kid
    h.update(extra)
    return {k: v for k, v in h.items() if v is not None}


def public_jwk(private_key: Any, kid: str, alg: str | None = None) -> dict[str, Any]:
    public = private_key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    jwk = {k: v for k, v in jwk.items() if k != "key_ops"}
    jwk.update({"kid": kid, "use": "sig"})
    if alg:
        jwk["alg"] = alg
    return jwk


def config(
    jwks: dict[str, Any] | str | None = None,
    *,
    issuers: tuple[str, ...] = (ISS,),
    jku_allowlist: tuple[str, ...] = (),
    **kwargs: Any,
) -> AuthConfig:
    issuer_jwks = {} if jwks is None else {ISS: jwks if isinstance(jwks, str) else json.dumps(jwks)}
    return AuthConfig(
        trusted_issuers=issuers,
        issuer_jwks=issuer_jwks,
        jku_allowlist=jku_allowlist,
        **kwargs,
    )


async def reason_of(verifier: JwtVerifier, authorization: str | None, audience: str = AUD) -> str:
    """Run a verification that must fail; return its reason."""
    with pytest.raises(Unauthorized) as info:
        await verifier.verify(authorization, audience)
    return info.value.message


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ec384() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="module")
def ec256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def rsa2048() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks(ec384: Any, ec256: Any, rsa2048: Any) -> dict[str, Any]:
    return {
        "keys": [
            public_jwk(ec384, "ec-384", "ES384"),
            public_jwk(ec256, "ec-256"),
            public_jwk(rsa2048, "rsa", None),
        ]
    }


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # A shared SSL context keeps client creation cheap (building one costs ~40 ms).
    async with httpx.AsyncClient(verify=_SSL_CONTEXT) as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(jwks: dict[str, Any], http: httpx.AsyncClient, clock: Clock) -> JwtVerifier:
    return JwtVerifier(config(jwks), http, clock)


# -- published vectors -----------------------------------------------------------------


def _spec_config(**kwargs: Any) -> tuple[str, dict[str, Any], AuthConfig]:
    token = (SPEC_JWT / "jwt-compact.txt").read_text("utf-8").strip()
    payload = json.loads((SPEC_JWT / "jwt-payload.json").read_text("utf-8"))
    cfg = AuthConfig(
        trusted_issuers=(payload["iss"],),
        issuer_jwks={payload["iss"]: str(SPEC_JWT / "jwks-public.json")},
        jku_allowlist=(),
        **kwargs,
    )
    return token, payload, cfg


async def test_spec_example_token_valid_with_pinned_clock(http: httpx.AsyncClient) -> None:
    token, payload, _ = _spec_config()
    # The spec token lives ~3.5 years (2011-2015), so this test widens the lifetime bound.
    _, _, cfg = _spec_config(max_token_lifetime_s=payload["exp"] - payload["iat"])
    verifier = JwtVerifier(cfg, http, Clock(payload["iat"] + 60))
    with respx.mock:  # its jku is not allowlisted and must never be fetched
        got = await verifier.verify(f"Bearer {token}", payload["aud"])
    assert got == payload
    assert got["aud"] == "https://cds.example.org/cds-services/some-service"


async def test_spec_example_token_expired_with_real_clock(http: httpx.AsyncClient) -> None:
    token, payload, _ = _spec_config()
    _, _, cfg = _spec_config(max_token_lifetime_s=payload["exp"] - payload["iat"])
    verifier = JwtVerifier(cfg, http)  # real time.time
    assert await reason_of(verifier, f"Bearer {token}", payload["aud"]) == "token expired"


async def test_spec_example_token_rejected_by_default_lifetime_bound(
    http: httpx.AsyncClient,
) -> None:
    token, payload, cfg = _spec_config()
    verifier = JwtVerifier(cfg, http, Clock(payload["iat"] + 60))
    reason = await reason_of(verifier, f"Bearer {token}", payload["aud"])
    assert reason == "token lifetime too long"


async def test_spec_1_0_example_token_verifies_with_same_key(http: httpx.AsyncClient) -> None:
    token = (EXAMPLES / "spec-1.0" / "jwt-compact-1.0.txt").read_text("utf-8").strip()
    _, payload, _ = _spec_config()
    _, _, cfg = _spec_config(max_token_lifetime_s=10**10)
    verifier = JwtVerifier(cfg, http, Clock(payload["iat"] + 60))
    got = await verifier.verify(f"Bearer {token}", payload["aud"])
    assert got["sub"] == "client_id"  # 1.0 carried sub; unknown claims are ignored


def _sandbox_captures() -> list[Path]:
    found = []
    for path in sorted(SANDBOX.glob("*.http.json")):
        data = json.loads(path.read_text("utf-8"))
        # cors-preflights.http.json is a list of OPTIONS requests without a JWT.
        if isinstance(data, dict) and "Authorization" in data.get("headers", {}):
            found.append(path)
    return found


@pytest.mark.parametrize("capture", _sandbox_captures(), ids=lambda p: p.name)
async def test_sandbox_captured_tokens(capture: Path, http: httpx.AsyncClient) -> None:
    data = json.loads(capture.read_text("utf-8"))
    decoded = data["jwt_decoded"]["payload"]
    cfg = AuthConfig(
        trusted_issuers=("https://sandbox.cds-hooks.org",),
        issuer_jwks={"https://sandbox.cds-hooks.org": str(SANDBOX / "sandbox-jwks.json")},
        jku_allowlist=(),
    )
    verifier = JwtVerifier(cfg, http, Clock(decoded["iat"]))
    # The audience the web layer computes: configured public base URL + request path.
    audience = "http://127.0.0.1:9000" + data["path"]
    with respx.mock:  # the internet jku is never fetched: the key is pinned out of band
        got = await verifier.verify(data["headers"]["Authorization"], audience)
    assert got == decoded


def test_sandbox_captures_cover_discovery_service_and_feedback() -> None:
    paths = {json.loads(p.read_text("utf-8"))["path"] for p in _sandbox_captures()}
    assert "/cds-services" in paths
    assert any(p.endswith("/feedback") for p in paths)
    assert any(p.startswith("/cds-services/") and not p.endswith("/feedback") for p in paths)


async def test_sandbox_token_rejected_at_another_endpoint(http: httpx.AsyncClient) -> None:
    data = json.loads((SANDBOX / "discovery.http.json").read_text("utf-8"))
    cfg = AuthConfig(
        trusted_issuers=("https://sandbox.cds-hooks.org",),
        issuer_jwks={"https://sandbox.cds-hooks.org": str(SANDBOX / "sandbox-jwks.json")},
        jku_allowlist=(),
    )
    verifier = JwtVerifier(cfg, http, Clock(data["jwt_decoded"]["payload"]["iat"]))
    reason = await reason_of(
        verifier, data["headers"]["Authorization"], "http://127.0.0.1:9000/cds-services/pv-test"
    )
    assert reason == "aud mismatch"


# -- algorithms and keys ---------------------------------------------------------------


async def test_es384_accepted(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header("ES384", "ec-384"), claims(tenant="t1"), ec384)
    got = await verifier.verify(f"Bearer {token}", AUD)
    assert got["iss"] == ISS and got["tenant"] == "t1"


async def test_rs384_accepted(verifier: JwtVerifier, rsa2048: Any) -> None:
    token = sign(header("RS384", "rsa"), claims(), rsa2048)
    assert (await verifier.verify(f"Bearer {token}", AUD))["jti"] == "jti-1"


@pytest.mark.parametrize("alg", ["RS256", "RS512", "PS256", "PS384", "PS512"])
async def test_other_rsa_algorithms_accepted(verifier: JwtVerifier, rsa2048: Any, alg: str) -> None:
    token = sign(header(alg, "rsa"), claims(), rsa2048)
    assert (await verifier.verify(f"Bearer {token}", AUD))["iss"] == ISS


async def test_es256_accepted_with_p256_key(verifier: JwtVerifier, ec256: Any) -> None:
    token = sign(header("ES256", "ec-256"), claims(), ec256)
    assert (await verifier.verify(f"Bearer {token}", AUD))["iss"] == ISS


async def test_bearer_scheme_case_insensitive(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header(), claims(), ec384)
    assert (await verifier.verify(f"bearer {token}", AUD))["iss"] == ISS


async def test_alg_none_rejected(verifier: JwtVerifier) -> None:
    token = f"{_segment({'alg': 'none', 'typ': 'JWT', 'kid': 'ec-384'})}.{_segment(claims())}."
    assert await reason_of(verifier, f"Bearer {token}") == "alg not allowed"


async def test_hs256_signed_with_public_key_pem_rejected(
    http: httpx.AsyncClient, clock: Clock, rsa2048: Any
) -> None:
    # Classic key-confusion attack: HMAC over the token using the server's *public* key as secret.
    pem = rsa2048.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_segment(header('HS256', 'rsa'))}.{_segment(claims())}"
    mac = hmac.new(pem, signing_input.encode("ascii"), hashlib.sha256).digest()
    token = f"{signing_input}.{_b64(mac)}"
    # Configure the key both as PEM-derived JWK and as a (wrongly published) oct key.
    oct_jwk = {"kty": "oct", "kid": "oct", "k": _b64(pem)}
    verifier = JwtVerifier(
        config({"keys": [public_jwk(rsa2048, "rsa"), oct_jwk]}), http, clock
    )
    assert await reason_of(verifier, f"Bearer {token}") == "alg not allowed"
    oct_token = f"{_segment(header('HS256', 'oct'))}.{_segment(claims())}.{_b64(mac)}"
    assert await reason_of(verifier, f"Bearer {oct_token}") == "alg not allowed"


@pytest.mark.parametrize("alg", ["HS384", "HS512", "EdDSA", "ES256K"])
async def test_other_unlisted_algorithms_rejected(verifier: JwtVerifier, alg: str) -> None:
    token = f"{_segment(header(alg))}.{_segment(claims())}.c2ln"
    assert await reason_of(verifier, f"Bearer {token}") == "alg not allowed"


async def test_missing_kid_rejected(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header(kid=None), claims(), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "kid missing"


async def test_unknown_kid_rejected(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header(kid="nope"), claims(), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "unknown kid"


@pytest.mark.parametrize("typ", ["JOSE", "at+jwt", None, 1])
async def test_typ_must_be_jwt(verifier: JwtVerifier, ec384: Any, typ: Any) -> None:
    h = header()
    if typ is None:
        del h["typ"]
    else:
        h["typ"] = typ
    token = sign(h, claims(), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "typ is not JWT"


async def test_typ_is_case_insensitive(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header(typ="jwt"), claims(), ec384)
    assert (await verifier.verify(f"Bearer {token}", AUD))["iss"] == ISS


async def test_key_type_must_fit_alg(verifier: JwtVerifier, ec256: Any, ec384: Any) -> None:
    # ES384 header naming a P-256 key: the token may not choose a key of another kind.
    token = sign(header("ES384", "ec-256"), claims(), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "key does not fit alg"
    # ES256 header naming a P-384 key.
    token = sign(header("ES256", "ec-384"), claims(), ec256)
    assert await reason_of(verifier, f"Bearer {token}") == "key does not fit alg"
    # EC algorithm naming an RSA key.
    token = sign(header("ES384", "rsa"), claims(), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "key does not fit alg"


async def test_jwk_alg_member_binds_key(
    http: httpx.AsyncClient, clock: Clock, rsa2048: Any
) -> None:
    verifier = JwtVerifier(config({"keys": [public_jwk(rsa2048, "rsa", "RS384")]}), http, clock)
    token = sign(header("PS384", "rsa"), claims(), rsa2048)
    assert await reason_of(verifier, f"Bearer {token}") == "key does not fit alg"


async def test_short_rsa_key_rejected(http: httpx.AsyncClient, clock: Clock) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    verifier = JwtVerifier(config({"keys": [public_jwk(weak, "weak")]}), http, clock)
    token = sign(header("RS384", "weak"), claims(), weak)
    assert await reason_of(verifier, f"Bearer {token}") == "key does not fit alg"


async def test_private_jwk_in_set_is_ignored(
    http: httpx.AsyncClient, clock: Clock, ec384: Any, caplog: pytest.LogCaptureFixture
) -> None:
    private = ECAlgorithm.to_jwk(ec384, as_dict=True)
    private.update({"kid": "ec-384"})
    verifier = JwtVerifier(config({"keys": [private]}), http, clock)
    token = sign(header(), claims(), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "unknown kid"
    assert any("private key material" in r.getMessage() for r in caplog.records)
    assert private["d"] not in caplog.text


async def test_bad_signature_rejected(verifier: JwtVerifier, ec384: Any) -> None:
    other = ec.generate_private_key(ec.SECP384R1())
    token = sign(header(), claims(), other)
    assert await reason_of(verifier, f"Bearer {token}") == "bad signature"
    good = sign(header(), claims(), ec384)
    h, _, s = good.split(".")
    tampered = f"{h}.{_segment(claims(aud=[AUD, 'x']))}.{s}"
    assert await reason_of(verifier, f"Bearer {tampered}") == "bad signature"


async def test_crit_header_rejected(verifier: JwtVerifier, ec384: Any) -> None:
    # An unknown critical extension is refused while parsing (RFC 7515 §4.1.11) ...
    token = sign(header(crit=["exp"]), claims(), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "malformed token"
    # ... and so is the one PyJWT knows (b64, RFC 7797): CDS Hooks tokens use no extension.
    token = sign(header(crit=["b64"], b64=True), claims(jti="j2"), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "unsupported critical header"


async def test_jwks_from_file_and_unreadable_file(
    tmp_path: Path, http: httpx.AsyncClient, clock: Clock, jwks: Any, ec384: Any
) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks), "utf-8")
    token = sign(header(), claims(), ec384)
    assert (await JwtVerifier(config(str(path)), http, clock).verify(f"Bearer {token}", AUD))
    # Loaded once: the set stays usable after the file goes away.
    cached = JwtVerifier(config(str(path)), http, clock)
    assert await cached.verify(f"Bearer {token}", AUD)
    path.unlink()
    assert await cached.verify(f"Bearer {sign(header(), claims(jti='j2'), ec384)}", AUD)
    missing = JwtVerifier(config(str(tmp_path / "absent.json")), http, clock)
    assert await reason_of(missing, f"Bearer {token}") == "issuer JWK Set unavailable"
    broken = JwtVerifier(config('{"keys": 3}'), http, clock)
    assert await reason_of(broken, f"Bearer {token}") == "issuer JWK Set unavailable"


# -- claims ----------------------------------------------------------------------------


async def test_issuer_not_allowed_and_no_network(
    jwks: Any, http: httpx.AsyncClient, clock: Clock, ec384: Any
) -> None:
    verifier = JwtVerifier(config(jwks, jku_allowlist=(JKU,)), http, clock)
    token = sign(header(kid="elsewhere", jku=JKU), claims(iss="https://evil.test"), ec384)
    with respx.mock(assert_all_called=False) as router:
        route = router.get(JKU).mock(return_value=httpx.Response(200, json=jwks))
        assert await reason_of(verifier, f"Bearer {token}") == "issuer not trusted"
        assert not route.called
    no_iss = sign(header(), claims(iss=None), ec384)
    assert await reason_of(verifier, f"Bearer {no_iss}") == "issuer not trusted"


async def test_aud_mismatch(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header(), claims(aud="https://cds.example.test/cds-services/other"), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "aud mismatch"
    token = sign(header(), claims(aud=None, jti="j2"), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "aud missing"


async def test_aud_array_accepted(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header(), claims(aud=["https://other.test", AUD]), ec384)
    assert (await verifier.verify(f"Bearer {token}", AUD))["aud"][1] == AUD
    token = sign(header(), claims(aud=["https://other.test"], jti="j2"), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "aud mismatch"


async def test_aud_trailing_slash_tolerated(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header(), claims(aud=AUD + "/"), ec384)
    assert await verifier.verify(f"Bearer {token}", AUD)
    token = sign(header(), claims(jti="j2"), ec384)
    assert await verifier.verify(f"Bearer {token}", AUD + "/")


async def test_expired_with_skew_boundary(verifier: JwtVerifier, clock: Clock, ec384: Any) -> None:
    token = sign(header(), claims(exp=int(NOW) - 10, iat=int(NOW) - 300), ec384)
    clock.now = NOW - 10 + 60  # exactly exp + default skew: no longer valid
    assert await reason_of(verifier, f"Bearer {token}") == "token expired"
    clock.now = NOW - 10 + 59  # within the skew
    assert await verifier.verify(f"Bearer {token}", AUD)


async def test_iat_in_the_future(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header(), claims(iat=int(NOW) + 61, exp=int(NOW) + 300), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "iat in the future"
    token = sign(header(), claims(iat=int(NOW) + 59, exp=int(NOW) + 300, jti="j2"), ec384)
    assert await verifier.verify(f"Bearer {token}", AUD)


async def test_nbf_in_the_future(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header(), claims(nbf=int(NOW) + 120), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "token not yet valid"


async def test_lifetime_too_long(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header(), claims(exp=int(NOW) + 3601), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "token lifetime too long"
    token = sign(header(), claims(exp=int(NOW) + 3600, jti="j2"), ec384)
    assert await verifier.verify(f"Bearer {token}", AUD)


async def test_exp_before_iat(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header(), claims(iat=int(NOW), exp=int(NOW) - 1), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "exp before iat"


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"exp": None}, "exp or iat missing"),
        ({"iat": None}, "exp or iat missing"),
        ({"exp": "1800000300"}, "exp or iat missing"),
        ({"exp": True}, "exp or iat missing"),
        ({"exp": math.nan}, "exp or iat missing"),
        ({"exp": math.inf}, "exp or iat missing"),
        ({"jti": None}, "jti missing"),
        ({"jti": ""}, "jti missing"),
    ],
)
async def test_required_claims(
    verifier: JwtVerifier, ec384: Any, override: dict[str, Any], reason: str
) -> None:
    token = sign(header(), claims(**override), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == reason


async def test_jti_replay_rejected_second_time(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header(), claims(), ec384)
    assert await verifier.verify(f"Bearer {token}", AUD)
    assert await reason_of(verifier, f"Bearer {token}") == "jti replayed"
    # Same jti re-signed in a fresh token is a replay too.
    again = sign(header(), claims(iat=int(NOW) + 1), ec384)
    assert await reason_of(verifier, f"Bearer {again}") == "jti replayed"


async def test_jti_only_remembered_after_full_success(verifier: JwtVerifier, ec384: Any) -> None:
    token = sign(header(), claims(), ec384)
    assert await reason_of(verifier, f"Bearer {token}", AUD + "/x") == "aud mismatch"
    assert await verifier.verify(f"Bearer {token}", AUD)


async def test_jti_scoped_by_issuer(http: httpx.AsyncClient, clock: Clock, ec384: Any) -> None:
    other = "https://other-ehr.test"
    jwk_set = json.dumps({"keys": [public_jwk(ec384, "ec-384")]})
    cfg = AuthConfig(
        trusted_issuers=(ISS, other), issuer_jwks={ISS: jwk_set, other: jwk_set}, jku_allowlist=()
    )
    verifier = JwtVerifier(cfg, http, clock)
    assert await verifier.verify(f"Bearer {sign(header(), claims(), ec384)}", AUD)
    assert await verifier.verify(f"Bearer {sign(header(), claims(iss=other), ec384)}", AUD)


async def test_replay_cache_bounded_fails_closed_then_purges(
    jwks: Any, http: httpx.AsyncClient, clock: Clock, ec384: Any
) -> None:
    verifier = JwtVerifier(config(jwks), http, clock, replay_cache_size=2)
    for jti in ("a", "b"):
        assert await verifier.verify(f"Bearer {sign(header(), claims(jti=jti), ec384)}", AUD)
    third = sign(header(), claims(jti="c"), ec384)
    assert await reason_of(verifier, f"Bearer {third}") == "replay cache full"
    clock.now = NOW + 300 + 60  # first two tokens can no longer be valid: entries purged
    fresh = sign(header(), claims(jti="c", iat=int(clock.now), exp=int(clock.now) + 300), ec384)
    assert await verifier.verify(f"Bearer {fresh}", AUD)


# -- malformed input -------------------------------------------------------------------


def _garbage() -> list[str | None]:
    hdr = _segment(header())
    body = _segment(claims())
    return [
        None,
        "",
        "   ",
        "Bearer",
        "Bearer ",
        "Basic x",
        "Basic dXNlcjpwYXNz",
        "Bearer a.b",
        "Bearer a.b.c",
        "Bearer a.b.c.d",
        "Bearer !!!.???.***",
        "Bearer ééé.ééé.ééé",
        "Bearer x y",
        "Bearer  " + f"{hdr}.{body}.sig",
        f"Bearer {_b64(b'not json')}.{body}.c2ln",
        f"Bearer {_segment([1, 2])}.{body}.c2ln",
        f"Bearer {_segment('str')}.{body}.c2ln",
        f"Bearer {hdr}.{_segment([1])}.c2ln",
        f"Bearer {hdr}.{_b64(b'{')}.c2ln",
        f"Bearer {_segment(header(kid=None) | {'kid': 7})}.{body}.c2ln",
        f"Bearer {_segment({'typ': 'JWT', 'kid': 'ec-384'})}.{body}.c2ln",
        f"Bearer {_segment(header(alg=None) | {'alg': ['ES384']})}.{body}.c2ln",
        f"Bearer {_b64(b'[' * 5000 + b']' * 5000)}.{body}.c2ln",
        f"Bearer {hdr}.{body}.c2ln=",
        f"Bearer {hdr}.{body}." + "A" * 20_000,
        f"Bearer {hdr}.{body}.c2ln",  # well-formed, but the signature is junk
    ]


@pytest.mark.parametrize("authorization", _garbage())
async def test_malformed_input_gives_unauthorized(
    verifier: JwtVerifier, authorization: str | None
) -> None:
    with respx.mock:
        with pytest.raises(Unauthorized):
            await verifier.verify(authorization, AUD)


# -- jku -------------------------------------------------------------------------------


@pytest.fixture
def jku_verifier(http: httpx.AsyncClient, clock: Clock) -> JwtVerifier:
    return JwtVerifier(config(None, jku_allowlist=(JKU,)), http, clock)


def _jku_token(key: Any, jti: str, kid: str = "ec-384", jku: str = JKU) -> str:
    return "Bearer " + sign(header(kid=kid, jku=jku), claims(jti=jti), key)


async def test_jku_fetched_and_cached(jku_verifier: JwtVerifier, jwks: Any, ec384: Any) -> None:
    with respx.mock:
        route = respx.get(JKU).mock(return_value=httpx.Response(200, json=jwks))
        assert await jku_verifier.verify(_jku_token(ec384, "1"), AUD)
        assert await jku_verifier.verify(_jku_token(ec384, "2"), AUD)
        assert route.call_count == 1


async def test_jku_cache_expires(
    jku_verifier: JwtVerifier, clock: Clock, jwks: Any, ec384: Any
) -> None:
    with respx.mock:
        route = respx.get(JKU).mock(return_value=httpx.Response(200, json=jwks))
        assert await jku_verifier.verify(_jku_token(ec384, "1"), AUD)
        clock.now += 3600
        fresh = sign(
            header(jku=JKU), claims(jti="2", iat=int(clock.now), exp=int(clock.now) + 60), ec384
        )
        assert await jku_verifier.verify(f"Bearer {fresh}", AUD)
        assert route.call_count == 2


async def test_jku_unknown_kid_refetch_is_rate_limited(
    jku_verifier: JwtVerifier, clock: Clock, jwks: Any, ec384: Any
) -> None:
    rotated = ec.generate_private_key(ec.SECP384R1())
    with respx.mock:
        route = respx.get(JKU).mock(return_value=httpx.Response(200, json=jwks))
        assert await jku_verifier.verify(_jku_token(ec384, "1"), AUD)
        # Unknown kid right after a fetch: no refetch (anti-hammering).
        reason = await reason_of(jku_verifier, _jku_token(rotated, "2", kid="new"))
        assert reason == "unknown kid"
        assert route.call_count == 1
        # Key rotated at the client; after the interval one refetch finds it.
        route.mock(
            return_value=httpx.Response(
                200, json={"keys": [*jwks["keys"], public_jwk(rotated, "new")]}
            )
        )
        clock.now += JKU_REFETCH_MIN_INTERVAL_S
        assert await jku_verifier.verify(_jku_token(rotated, "3", kid="new"), AUD)
        assert route.call_count == 2
        # Still-unknown kids shortly after do not trigger more fetches.
        for i in range(3):
            clock.now += 1
            assert await reason_of(jku_verifier, _jku_token(rotated, f"x{i}", kid="zz")) == (
                "unknown kid"
            )
        assert route.call_count == 2


async def test_configured_key_wins_over_jku(
    jwks: Any, http: httpx.AsyncClient, clock: Clock, ec384: Any
) -> None:
    verifier = JwtVerifier(config(jwks, jku_allowlist=(JKU,)), http, clock)
    with respx.mock(assert_all_called=False):
        route = respx.get(JKU).mock(return_value=httpx.Response(200, json=jwks))
        assert await verifier.verify(_jku_token(ec384, "1"), AUD)
        assert not route.called


@pytest.mark.parametrize(
    "jku",
    [
        "https://attacker.test/jwks.json",
        JKU + "?x=1",
        JKU.upper(),
        "https://ehr.example.test/.well-known/jwks.json/",
    ],
)
async def test_jku_not_allowlisted_rejected_without_request(
    jku_verifier: JwtVerifier, jwks: Any, ec384: Any, jku: str
) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.route().mock(return_value=httpx.Response(200, json=jwks))
        reason = await reason_of(jku_verifier, _jku_token(ec384, "1", jku=jku))
        assert not route.called
    assert reason == "jku not allowed"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, json={"keys": []}),
        httpx.Response(302, headers={"Location": "https://attacker.test/jwks.json"}),
        httpx.Response(200, content=b"<html>not json</html>"),
        httpx.Response(200, json={"no": "keys"}),
        httpx.Response(200, json=[1, 2]),
        httpx.Response(200, content=b'{"keys": []' + b" " * (JKU_MAX_BYTES + 1) + b"}"),
        httpx.ConnectTimeout("timed out"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("refused"),
    ],
    ids=["500", "redirect", "not-json", "not-jwks", "array", "too-large", "connect-timeout",
         "read-timeout", "connect-error"],
)
async def test_jku_fetch_failure_gives_unauthorized(
    jku_verifier: JwtVerifier, ec384: Any, response: httpx.Response | Exception
) -> None:
    with respx.mock as router:
        route = router.get(JKU)
        if isinstance(response, Exception):
            route.side_effect = response
        else:
            route.return_value = response
        assert await reason_of(jku_verifier, _jku_token(ec384, "1")) == "jku fetch failed"
        # A failed fetch is not retried at once for each new request.
        assert await reason_of(jku_verifier, _jku_token(ec384, "2")) == "unknown kid"
        assert route.call_count == 1


async def test_jku_fetch_recovers_after_interval(
    jku_verifier: JwtVerifier, clock: Clock, jwks: Any, ec384: Any
) -> None:
    with respx.mock:
        route = respx.get(JKU).mock(return_value=httpx.Response(503))
        assert await reason_of(jku_verifier, _jku_token(ec384, "1")) == "jku fetch failed"
        route.mock(return_value=httpx.Response(200, json=jwks))
        clock.now += JKU_REFETCH_MIN_INTERVAL_S
        assert await jku_verifier.verify(_jku_token(ec384, "2"), AUD)
        assert route.call_count == 2


# -- logging and config ----------------------------------------------------------------


async def test_tokens_never_logged(
    verifier: JwtVerifier, ec384: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cds_service.auth")
    good = sign(header(), claims(jti="log-ok"), ec384)
    bad = sign(header(), claims(jti="log-bad", aud="https://wrong.test"), ec384)
    assert await verifier.verify(f"Bearer {good}", AUD)
    await reason_of(verifier, f"Bearer {bad}")
    await reason_of(verifier, f"Bearer {good}")  # replay
    messages = [r.getMessage() for r in caplog.records]
    assert any("rejected: aud mismatch" in m for m in messages)
    assert any("accepted" in m and "log-ok" in m for m in messages)
    text = caplog.text + "\n".join(messages)
    for token in (good, bad):
        for part in token.split("."):
            assert part not in text


def test_config_from_settings(tmp_path: Path) -> None:
    (tmp_path / "jwks.json").write_text('{"keys": []}')  # settings refuse a missing JWK Set file
    settings = Settings(
        auth_trusted_issuers=[ISS],
        auth_issuer_jwks={ISS: str(tmp_path / "jwks.json")},
        auth_jku_allowlist=[JKU],
        auth_jwks_cache_s=60,
        auth_clock_skew_s=5,
        auth_max_token_lifetime_s=600,
    )
    cfg = AuthConfig.from_settings(settings)
    assert cfg.trusted_issuers == (ISS,)
    assert dict(cfg.issuer_jwks) == {ISS: str(tmp_path / "jwks.json")}
    assert cfg.jku_allowlist == (JKU,)
    assert (cfg.jwks_cache_s, cfg.clock_skew_s, cfg.max_token_lifetime_s) == (60, 5, 600)


async def test_config_skew_and_lifetime_are_used(
    jwks: Any, http: httpx.AsyncClient, clock: Clock, ec384: Any
) -> None:
    verifier = JwtVerifier(
        config(jwks, clock_skew_s=0, max_token_lifetime_s=100), http, clock
    )
    token = sign(header(), claims(exp=int(NOW) + 101), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "token lifetime too long"
    token = sign(header(), claims(iat=int(NOW) + 1, exp=int(NOW) + 50, jti="j2"), ec384)
    assert await reason_of(verifier, f"Bearer {token}") == "iat in the future"


async def test_jku_bound_to_an_issuer_is_refused_for_another(
    http: httpx.AsyncClient, clock: Clock, jwks: Any, ec384: Any
) -> None:
    """One trusted client's published keys cannot vouch for another client's tokens."""
    other = "https://other-ehr.example.test"
    other_jku = "https://other-ehr.example.test/jwks.json"
    verifier = JwtVerifier(
        config(None, issuers=(ISS, other), jku_allowlist=(JKU, other_jku),
               issuer_jku={ISS: (JKU,), other: (other_jku,)}),
        http, clock,
    )
    with respx.mock:
        route = respx.get(JKU).mock(return_value=httpx.Response(200, json=jwks))
        respx.get(other_jku).mock(return_value=httpx.Response(200, json=jwks))
        assert await verifier.verify(_jku_token(ec384, "1"), AUD)  # ISS with its own jku
        forged = sign(header(jku=JKU), claims(iss=other, jti="2"), ec384)
        assert await reason_of(verifier, f"Bearer {forged}") == "jku not allowed"
        assert route.call_count == 1
        unbound = JwtVerifier(config(None, issuers=(ISS, other), jku_allowlist=(JKU,),
                                     issuer_jku={ISS: (JKU,)}), http, clock)
        assert await reason_of(unbound, f"Bearer {sign(header(jku=JKU), claims(iss=other, jti='3'), ec384)}") == "jku not allowed"


def test_issuer_jku_comes_from_settings() -> None:
    from cds_service.config import Settings

    settings = Settings(auth_issuer_jku={ISS: [JKU]}, database_url="sqlite://")
    assert AuthConfig.from_settings(settings).issuer_jku == {ISS: (JKU,)}
