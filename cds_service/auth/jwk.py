"""Public signing keys from JWK Sets, and which ``alg`` each may verify.

Design choices:

* Algorithms: 2.0 RECOMMENDS ES384 and RS384. The other ECDSA/RSA variants (ES256, ES512,
  RS256, RS512, PS256, PS384, PS512) are accepted too: all are asymmetric, and the key used
  is always the one named by ``kid`` in a trusted set, whose type and curve must match
  ``alg`` (``ES256``↔P-256, ``ES384``↔P-384, ``ES512``↔P-521, ``RS*``/``PS*``↔RSA of at
  least 2048 bits) and whose own ``alg`` member, if any, must equal the header ``alg``.
  EdDSA and secp256k1 are not accepted (not named by the spec; no client seen using them).
* JWKs carrying private members (``d`` ...), symmetric (``oct``) keys, and keys whose ``use``
  is not ``sig`` are ignored when a set is loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

logger = logging.getLogger(__name__)

# 2.0: "ES384 and RS384 are RECOMMENDED"; see the module docstring for the others.
ALLOWED_ALGORITHMS: frozenset[str] = frozenset(
    {"ES384", "RS384", "ES256", "ES512", "RS256", "RS512", "PS256", "PS384", "PS512"}
)
_EC_CURVE_FOR_ALG: Mapping[str, type[ec.EllipticCurve]] = MappingProxyType(
    {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}
)
MIN_RSA_BITS = 2048
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


@dataclass(frozen=True)
class VerificationKey:
    """A public verification key from a trusted JWK Set."""

    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    jwk_alg: str | None


KeySet = dict[str, VerificationKey]  # by kid


def parse_jwk_set(document: Any) -> KeySet:
    """Extract usable public signing keys (by ``kid``) from a parsed JWK Set document.

    Raises :class:`ValueError` if ``document`` is not a JWK Set at all; unusable entries
    are skipped (one malformed key must not break the whole set).
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set")
    keys: KeySet = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict):
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        key = _public_signing_key(jwk)
        if key is None:
            continue
        if kid in keys:
            # RFC 7517 §4.5 / CDS Hooks: kid is unique within a set; keep the first.
            logger.warning("JWK Set has a duplicate kid; later entry ignored")
            continue
        keys[kid] = key
    return keys


def _public_signing_key(jwk: dict[str, Any]) -> VerificationKey | None:
    if _PRIVATE_JWK_MEMBERS & jwk.keys():
        # A published set must hold public keys only; refuse to use anything secret.
        logger.warning("JWK Set entry ignored: contains private key material")
        return None
    if jwk.get("use", "sig") != "sig":
        return None
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        return None
    jwk_alg = jwk.get("alg")
    if jwk_alg is not None and jwk_alg not in ALLOWED_ALGORITHMS:
        return None
    try:
        if jwk.get("kty") == "EC":
            public_key: Any = ECAlgorithm.from_jwk(jwk)
        elif jwk.get("kty") == "RSA":
            public_key = RSAAlgorithm.from_jwk(jwk)
        else:
            return None  # oct, OKP, unknown: never usable here
    except Exception:  # noqa: BLE001 - one malformed entry must not break the whole set
        logger.warning("JWK Set entry ignored: not a valid EC/RSA public key")
        return None
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        return None
    return VerificationKey(public_key=public_key, jwk_alg=jwk_alg)


def key_fits_alg(key: VerificationKey, alg: str) -> bool:
    """True if ``key`` may verify a signature made with ``alg`` (no cross-type use)."""
    if key.jwk_alg is not None and key.jwk_alg != alg:
        return False
    if alg in _EC_CURVE_FOR_ALG:
        return isinstance(key.public_key, ec.EllipticCurvePublicKey) and isinstance(
            key.public_key.curve, _EC_CURVE_FOR_ALG[alg]
        )
    if alg.startswith(("RS", "PS")):
        return (
            isinstance(key.public_key, rsa.RSAPublicKey)
            and key.public_key.key_size >= MIN_RSA_BITS
        )
    return False
