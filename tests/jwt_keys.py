"""A signing key for client JWTs in tests that run the real service (EC P-384, ES384)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ISSUER = "https://ehr.example.test/fhir"
KID = "test-es384"


@dataclass
class SigningKey:
    private: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(ec.generate_private_key(ec.SECP384R1()))

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        jwk.update(kid=KID, use="sig", alg="ES384")
        return {"keys": [jwk]}

    def token(self, audience: str, *, jti: str | None = None, jku: str | None = None,
              now: float | None = None, lifetime_s: int = 300) -> str:
        issued = int(now if now is not None else time.time())
        claims = {"iss": ISSUER, "aud": audience, "iat": issued, "exp": issued + lifetime_s,
                  "jti": jti or str(uuid.uuid4())}
        headers: dict[str, Any] = {"kid": KID, "typ": "JWT"}
        if jku is not None:
            headers["jku"] = jku
        return jwt.encode(claims, self.private, algorithm="ES384", headers=headers)

    def auth_env(self, public_base_url: str) -> dict[str, str]:
        """``CALF_CDS_*`` variables that make a served instance trust this key."""
        return {
            "CALF_CDS_AUTH_ENABLED": "true",
            "CALF_CDS_AUTH_TRUSTED_ISSUERS": json.dumps([ISSUER]),
            "CALF_CDS_AUTH_ISSUER_JWKS": json.dumps({ISSUER: json.dumps(self.jwks())}),
            "CALF_CDS_PUBLIC_BASE_URL": public_base_url,
        }
