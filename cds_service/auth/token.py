"""The bearer token and its JOSE header, read before anything is trusted.

Nothing here verifies a signature: it bounds the work an unauthenticated caller can cause
(size, shape) and refuses headers that no trusted key could ever satisfy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jwt

from .jwk import ALLOWED_ALGORITHMS
from .reject import Reject

MAX_TOKEN_CHARS = 16 * 1024  # real client tokens are < 1 KiB; bounds work before verification

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class UnverifiedToken:
    """A well-formed compact JWS whose signature has not been checked yet."""

    compact: str
    header: dict[str, Any]
    payload: dict[str, Any]

    @property
    def alg(self) -> str:
        return str(self.header["alg"])

    @property
    def kid(self) -> str:
        return str(self.header["kid"])


def bearer_token(authorization: str | None) -> str:
    """The compact JWS of an ``Authorization: Bearer`` header value."""
    if not isinstance(authorization, str) or not authorization.strip():
        raise Reject("missing Authorization header")
    parts = authorization.strip().split(" ")
    # RFC 6750 §2.1: "Bearer" SP token; the scheme name is case-insensitive (RFC 7235).
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise Reject("not a Bearer authorization")
    token = parts[1]
    if len(token) > MAX_TOKEN_CHARS:
        raise Reject("token too large")
    if not _COMPACT_JWS.fullmatch(token):
        raise Reject("malformed token")
    return token


def parse_unverified(token: str) -> UnverifiedToken:
    """Decode header and payload (no signature check) and refuse unusable headers."""
    try:
        header = jwt.get_unverified_header(token)
        payload = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError):
        raise Reject("malformed token") from None
    if not isinstance(payload, dict):
        raise Reject("malformed token")
    check_header(header)
    return UnverifiedToken(compact=token, header=header, payload=payload)


def check_header(header: dict[str, Any]) -> None:
    """``alg`` allowed, ``typ`` JWT, ``kid`` present, no extension we would have to honour."""
    alg = header.get("alg")
    # 2.0: "JWTs SHALL NOT use the 'none' algorithm" nor symmetric (HMAC) algorithms.
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        raise Reject("alg not allowed")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() != "jwt":
        raise Reject("typ is not JWT")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Reject("kid missing")
    if "crit" in header or "b64" in header:
        # RFC 7515 §4.1.11: we understand no extensions, so any crit must be refused.
        raise Reject("unsupported critical header")
