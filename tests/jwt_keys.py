"""Signing keys for client JWTs in tests that run the real service (EC P-384, ES384).

``compact`` builds a JWS from any header and payload, so a test can forge what a hostile
client would send (odd headers, other algorithms, attacker keys).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm, RSAAlgorithm, get_default_algorithms

ISSUER = "https://ehr.example.test/fhir"
KID = "test-es384"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(obj: Any) -> str:
    """A base64url JSON segment (any JSON value, not only objects)."""
    return b64url(json.dumps(obj).encode("utf-8"))


def compact(header: dict[str, Any], payload: Any, private_key: Any) -> str:
    """A compact JWS signed with ``header['alg']`` by ``private_key``."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    algorithm = get_default_algorithms()[header["alg"]]
    signature = algorithm.sign(signing_input.encode("ascii"), private_key)
    return f"{signing_input}.{b64url(signature)}"


def public_jwk(private_key: Any, kid: str, alg: str | None = None) -> dict[str, Any]:
    public = private_key.public_key()
    codec = ECAlgorithm if isinstance(public, ec.EllipticCurvePublicKey) else RSAAlgorithm
    jwk = {k: v for k, v in json.loads(codec.to_jwk(public)).items() if k != "key_ops"}
    jwk.update(kid=kid, use="sig")
    if alg:
        jwk["alg"] = alg
    return jwk


@dataclass
class SigningKey:
    private: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(ec.generate_private_key(ec.SECP384R1()))

    def jwks(self, kid: str = KID) -> dict[str, Any]:
        return {"keys": [public_jwk(self.private, kid, "ES384")]}

    def claims(self, audience: str, *, now: float | None = None, lifetime_s: int = 300,
               **overrides: Any) -> dict[str, Any]:
        """Valid claims for ``audience``; an override of ``None`` removes the claim."""
        issued = int(now if now is not None else time.time())
        claims: dict[str, Any] = {"iss": ISSUER, "aud": audience, "iat": issued,
                                  "exp": issued + lifetime_s, "jti": str(uuid.uuid4())}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, audience: str, *, jti: str | None = None, jku: str | None = None,
              now: float | None = None, lifetime_s: int = 300) -> str:
        issued = int(now if now is not None else time.time())
        claims = {"iss": ISSUER, "aud": audience, "iat": issued, "exp": issued + lifetime_s,
                  "jti": jti or str(uuid.uuid4())}
        headers: dict[str, Any] = {"kid": KID, "typ": "JWT"}
        if jku is not None:
            headers["jku"] = jku
        return jwt.encode(claims, self.private, algorithm="ES384", headers=headers)

    def auth_settings(self) -> dict[str, Any]:
        """``Settings`` fields that make an in-process app trust this key."""
        return {
            "auth_enabled": True,
            "auth_trusted_issuers": [ISSUER],
            "auth_issuer_jwks": {ISSUER: json.dumps(self.jwks())},
        }

    def auth_env(self, public_base_url: str) -> dict[str, str]:
        """``CALF_CDS_*`` variables that make a served instance trust this key."""
        return {
            "CALF_CDS_AUTH_ENABLED": "true",
            "CALF_CDS_AUTH_TRUSTED_ISSUERS": json.dumps([ISSUER]),
            "CALF_CDS_AUTH_ISSUER_JWKS": json.dumps({ISSUER: json.dumps(self.jwks())}),
            "CALF_CDS_PUBLIC_BASE_URL": public_base_url,
        }
