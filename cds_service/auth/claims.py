"""Issuer allowlist, signature, and the registered claims (RFC 7519 §4.1).

Time claims use the verifier's injected clock, with ``clock_skew_s`` of tolerance; every
comparison is written so that an odd value (NaN, string, bool) fails it (fail closed).
"""

from __future__ import annotations

import math
from typing import Any, TypeGuard

import jwt

from .config import AuthConfig
from .jwk import VerificationKey
from .reject import Reject


def _is_number(value: Any) -> TypeGuard[int | float]:
    """A finite JSON number (bool excluded: ``True`` is an int in Python)."""
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    )


def _norm_url(url: str) -> str:
    # CDS Hooks aud pitfall (reference §8.1): tolerate a trailing slash difference only.
    return url.rstrip("/")


def trusted_issuer(unverified_payload: dict[str, Any], trusted: frozenset[str]) -> str:
    """The (still unverified) ``iss``, if allowlisted: checked before any key fetch
    (best practice, reference §8.1), so an unknown caller causes no network call."""
    iss = unverified_payload.get("iss")
    if not isinstance(iss, str) or iss not in trusted:
        raise Reject("issuer not trusted")
    return iss


def verify_signature(token: str, key: VerificationKey, alg: str) -> dict[str, Any]:
    """The verified payload; ``alg`` is the only algorithm PyJWT may use."""
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=[alg],
            options={
                # Time and audience claims are checked by ClaimChecks with the injected clock.
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
                "enforce_minimum_key_length": True,
            },
        )
    except jwt.InvalidSignatureError:
        raise Reject("bad signature") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise Reject("invalid token") from None
    if not isinstance(claims, dict):
        raise Reject("invalid token")
    return claims


class ClaimChecks:
    """``iss``, ``aud``, ``exp``/``iat``/``nbf``, lifetime and ``jti`` of a verified payload."""

    def __init__(self, config: AuthConfig) -> None:
        self._skew = config.clock_skew_s
        self._max_lifetime = config.max_token_lifetime_s

    def check(self, claims: dict[str, Any], iss: str, audience: str, now: float) -> None:
        if claims.get("iss") != iss:
            raise Reject("issuer not trusted")
        self._check_audience(claims.get("aud"), audience)
        self._check_times(claims, now)
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise Reject("jti missing")

    @staticmethod
    def _check_audience(aud: Any, audience: str) -> None:
        auds = [aud] if isinstance(aud, str) else aud
        if not isinstance(auds, list) or not all(isinstance(a, str) for a in auds):
            raise Reject("aud missing")
        # 2.0: aud "MUST be the URL of the CDS Service endpoint being invoked".
        if _norm_url(audience) not in {_norm_url(a) for a in auds}:
            raise Reject("aud mismatch")

    def _check_times(self, claims: dict[str, Any], now: float) -> None:
        skew = self._skew
        raw_exp, raw_iat = claims.get("exp"), claims.get("iat")
        if not _is_number(raw_exp) or not _is_number(raw_iat):
            raise Reject("exp or iat missing")
        exp, iat = float(raw_exp), float(raw_iat)
        if not now < exp + skew:
            raise Reject("token expired")
        if not iat <= now + skew:
            raise Reject("iat in the future")
        if "nbf" in claims and not (_is_number(claims["nbf"]) and claims["nbf"] <= now + skew):
            raise Reject("token not yet valid")
        if exp < iat:
            raise Reject("exp before iat")
        if exp - iat > self._max_lifetime:
            raise Reject("token lifetime too long")
