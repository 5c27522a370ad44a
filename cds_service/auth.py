"""Verification of the JWT a CDS Client (EHR) sends with every call.

CDS Hooks 2.0 §"Trusting CDS Clients"; reference notes: ``shared/reference/cds-hooks-2.0.md``
§8.1 and checklist S1-S4.

What is checked, in order (every failure raises :class:`~cds_service.errors.Unauthorized`
with a short fixed reason that never contains the token or claim values):

1. ``Authorization: Bearer <compact JWS>`` (size-limited, three base64url segments).
2. Header: ``alg`` on :data:`ALLOWED_ALGORITHMS` (never ``none`` nor ``HS*``: 2.0 "SHALL NOT"),
   ``typ`` = ``JWT`` (case-insensitive), ``kid`` present, no ``crit``/``b64`` extensions.
3. ``iss`` (unverified at this point) is on the allowlist - before any key lookup or network call.
4. Key: ``kid`` in the issuer's configured JWK Set; else, if the header's ``jku`` is *exactly*
   on the allowlist, in the JWK Set fetched from it (cached, refetched at most every
   :data:`JKU_REFETCH_MIN_INTERVAL_S` on an unknown ``kid``). The key type/curve must fit ``alg``:
   the token never chooses the kind of key.
5. Signature (PyJWT with a single-element algorithm list).
6. Claims, with the injected clock: ``aud`` (string or array) contains the endpoint URL
   (trailing slash tolerated), ``exp``/``iat`` present and sane, lifetime bounded, ``jti``
   present and not seen before while the token could still be valid.

Design choices:

* Algorithms: 2.0 RECOMMENDS ES384 and RS384. The other ECDSA/RSA variants (ES256, ES512,
  RS256, RS512, PS256, PS384, PS512) are accepted too: all are asymmetric, and the key used
  is always the one named by ``kid`` in a trusted set, whose type and curve must match
  ``alg`` (``ES256``↔P-256, ``ES384``↔P-384, ``ES512``↔P-521, ``RS*``/``PS*``↔RSA of at
  least 2048 bits) and whose own ``alg`` member, if any, must equal the header ``alg``.
  EdDSA and secp256k1 are not accepted (not named by the spec; no client seen using them).
* JWKs carrying private members (``d`` ...), symmetric (``oct``) keys, and keys whose ``use``
  is not ``sig`` are ignored when a set is loaded.
* The replay cache is shared by every worker and replica (``cds_service.state``: the
  database or Redis, one atomic set-if-absent per token); the in-process default fails
  closed when full (rejects new tokens) rather than evicting entries, since eviction
  would let an evicted ``jti`` be replayed.
* Documents fetched from a ``jku`` are shared through the state layer's JWK Set cache,
  so one fetch serves every worker; a shared document is parsed and checked like a
  fetched one.
* ``jku`` URLs can be bound to an issuer (``issuer_jku``): a bound URL serves only its
  issuer, and an issuer with bound URLs may use only those; the global allowlist serves
  the others. Redirects are not followed because a redirect would leave the allowlist.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from cds_service.errors import OutboundError, Unauthorized
from cds_service.outbound import FetchLimits, fetch, parse_url
from cds_service.state.replay import (
    DEFAULT_REPLAY_CACHE_SIZE,
    MemoryReplayCache,
    ReplayCache,
    ReplayCacheFull,
    jti_key,
)

if TYPE_CHECKING:
    from cds_service.config import Settings
    from cds_service.state.jwks import JwksCache

__all__ = [
    "ALLOWED_ALGORITHMS",
    "AuthConfig",
    "JwtVerifier",
]

logger = logging.getLogger(__name__)

# 2.0: "ES384 and RS384 are RECOMMENDED"; see module docstring for the others.
ALLOWED_ALGORITHMS: frozenset[str] = frozenset(
    {"ES384", "RS384", "ES256", "ES512", "RS256", "RS512", "PS256", "PS384", "PS512"}
)
_EC_CURVE_FOR_ALG: Mapping[str, type[ec.EllipticCurve]] = MappingProxyType(
    {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}
)
MIN_RSA_BITS = 2048

MAX_TOKEN_CHARS = 16 * 1024  # real client tokens are < 1 KiB; bounds work before verification
JKU_FETCH_TIMEOUT_S = 5.0
JKU_MAX_BYTES = 256 * 1024
# Do not refetch a jku more often than this, whatever unknown kids arrive (anti-hammering).
JKU_REFETCH_MIN_INTERVAL_S = 30.0

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


@dataclass(frozen=True)
class AuthConfig:
    """Trust configuration for client JWTs.

    ``issuer_jwks`` maps an issuer to either a path of a JWK Set file or an inline JWK Set
    JSON string (a value starting with ``{`` is taken as inline JSON).
    """

    trusted_issuers: tuple[str, ...]
    issuer_jwks: Mapping[str, str]
    jku_allowlist: tuple[str, ...]
    jwks_cache_s: int = 3600
    clock_skew_s: int = 60
    max_token_lifetime_s: int = 3600
    # issuer -> the only jku URLs its tokens may name. A jku bound to one issuer is never
    # accepted for another, so one trusted client cannot vouch keys for another.
    issuer_jku: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthConfig:
        """Build the config from the ``CALF_CDS_AUTH_*`` settings."""
        return cls(
            trusted_issuers=tuple(settings.auth_trusted_issuers),
            issuer_jwks=MappingProxyType(dict(settings.auth_issuer_jwks)),
            jku_allowlist=tuple(settings.auth_jku_allowlist),
            jwks_cache_s=settings.auth_jwks_cache_s,
            clock_skew_s=settings.auth_clock_skew_s,
            max_token_lifetime_s=settings.auth_max_token_lifetime_s,
            issuer_jku=MappingProxyType(
                {iss: tuple(urls) for iss, urls in settings.auth_issuer_jku.items()}
            ),
        )


@dataclass(frozen=True)
class _Key:
    """A public verification key from a trusted JWK Set."""

    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    jwk_alg: str | None


@dataclass
class _RemoteSet:
    """Cache entry for one ``jku``."""

    keys: dict[str, _Key] = field(default_factory=dict)
    fetched_at: float | None = None  # last successful fetch
    attempted_at: float = -math.inf  # last fetch attempt, successful or not
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class _Reject(Exception):
    """Internal: verification failed for ``reason`` (becomes Unauthorized, logged once)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _parse_jwk_set(document: Any) -> dict[str, _Key]:
    """Extract usable public signing keys (by ``kid``) from a parsed JWK Set document."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set")
    keys: dict[str, _Key] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict):
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        if _PRIVATE_JWK_MEMBERS & jwk.keys():
            # A published set must hold public keys only; refuse to use anything secret.
            logger.warning("JWK Set entry ignored: contains private key material")
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        key_ops = jwk.get("key_ops")
        if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
            continue
        jwk_alg = jwk.get("alg")
        if jwk_alg is not None and jwk_alg not in ALLOWED_ALGORITHMS:
            continue
        try:
            if jwk.get("kty") == "EC":
                public_key: Any = ECAlgorithm.from_jwk(jwk)
            elif jwk.get("kty") == "RSA":
                public_key = RSAAlgorithm.from_jwk(jwk)
            else:
                continue  # oct, OKP, unknown: never usable here
        except Exception:  # noqa: BLE001 - one malformed entry must not break the whole set
            logger.warning("JWK Set entry ignored: not a valid EC/RSA public key")
            continue
        if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            continue
        if kid in keys:
            # RFC 7517 §4.5 / CDS Hooks: kid is unique within a set; keep the first.
            logger.warning("JWK Set has a duplicate kid; later entry ignored")
            continue
        keys[kid] = _Key(public_key=public_key, jwk_alg=jwk_alg)
    return keys


def _key_fits_alg(key: _Key, alg: str) -> bool:
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


def _is_number(value: Any) -> bool:
    """A finite JSON number (bool excluded: ``True`` is an int in Python)."""
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    )


def _norm_url(url: str) -> str:
    # CDS Hooks aud pitfall (reference §8.1): tolerate a trailing slash difference only.
    return url.rstrip("/")


def _safe_for_log(value: Any) -> str:
    """Short printable rendering of an identifier (jti) for log lines."""
    if not isinstance(value, str):
        return "-"
    text = value if len(value) <= 64 else value[:64] + "..."
    return text.encode("ascii", "backslashreplace").decode("ascii").replace("\n", "\\n")


class JwtVerifier:
    """Verifies CDS Client JWTs; one instance per application (it owns the caches)."""

    def __init__(
        self,
        config: AuthConfig,
        http: httpx.AsyncClient,
        clock: Callable[[], float] = time.time,
        *,
        replay_cache_size: int = DEFAULT_REPLAY_CACHE_SIZE,
        replay_cache: ReplayCache | None = None,
        jwks_cache: JwksCache | None = None,
    ) -> None:
        self._config = config
        self._http = http
        self._clock = clock
        self._trusted = frozenset(config.trusted_issuers)
        self._jku_allowed = frozenset(config.jku_allowlist)
        self._issuer_jku = {iss: frozenset(urls) for iss, urls in config.issuer_jku.items()}
        self._bound_jku = frozenset(u for urls in config.issuer_jku.values() for u in urls)
        self._issuer_keys: dict[str, dict[str, _Key]] = {}
        self._remote: dict[str, _RemoteSet] = {}
        # Shared across workers when the app passes the state layer's cache.
        self._replay = replay_cache or MemoryReplayCache(replay_cache_size)
        self._jwks_cache = jwks_cache

    async def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """Verify the raw ``Authorization`` header for a call to ``audience`` (exact endpoint URL).

        Returns the token's claims, or raises :class:`Unauthorized` with a short reason.
        """
        iss: str | None = None
        jti: Any = None
        try:
            token = self._bearer_token(authorization)
            header, unverified = self._unverified_parts(token)
            iss = self._check_issuer(unverified)
            jti = unverified.get("jti")
            key = await self._resolve_key(iss, header)
            claims = self._verify_signature(token, key, header["alg"])
            self._check_claims(claims, iss, audience)
            await self._remember_jti(iss, claims)
        except _Reject as rejected:
            logger.info(
                "client JWT rejected: %s (iss=%s, jti=%s)",
                rejected.reason,
                iss or "-",
                _safe_for_log(jti) if iss else "-",
            )
            raise Unauthorized(rejected.reason) from None
        logger.debug("client JWT accepted (iss=%s, jti=%s)", iss, _safe_for_log(jti))
        return claims

    # -- parsing -------------------------------------------------------------------------

    @staticmethod
    def _bearer_token(authorization: str | None) -> str:
        if not isinstance(authorization, str) or not authorization.strip():
            raise _Reject("missing Authorization header")
        parts = authorization.strip().split(" ")
        # RFC 6750 §2.1: "Bearer" SP token; the scheme name is case-insensitive (RFC 7235).
        if len(parts) != 2 or parts[0].lower() != "bearer":
            raise _Reject("not a Bearer authorization")
        token = parts[1]
        if len(token) > MAX_TOKEN_CHARS:
            raise _Reject("token too large")
        if not _COMPACT_JWS.fullmatch(token):
            raise _Reject("malformed token")
        return token

    @staticmethod
    def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            header = jwt.get_unverified_header(token)
            payload = jwt.decode(token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, TypeError, RecursionError):
            raise _Reject("malformed token") from None
        if not isinstance(payload, dict):
            raise _Reject("malformed token")
        alg = header.get("alg")
        # 2.0: "JWTs SHALL NOT use the 'none' algorithm" nor symmetric (HMAC) algorithms.
        if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
            raise _Reject("alg not allowed")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() != "jwt":
            raise _Reject("typ is not JWT")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _Reject("kid missing")
        if "crit" in header or "b64" in header:
            # RFC 7515 §4.1.11: we understand no extensions, so any crit must be refused.
            raise _Reject("unsupported critical header")
        return header, payload

    def _check_issuer(self, unverified: dict[str, Any]) -> str:
        iss = unverified.get("iss")
        # Best practice (reference §8.1): allowlisted iss, checked before any key fetch.
        if not isinstance(iss, str) or iss not in self._trusted:
            raise _Reject("issuer not trusted")
        return iss

    # -- keys ----------------------------------------------------------------------------

    async def _resolve_key(self, iss: str, header: dict[str, Any]) -> _Key:
        kid: str = header["kid"]
        alg: str = header["alg"]
        key = self._configured_keys(iss).get(kid)
        if key is None:
            jku = header.get("jku")
            if jku is None:
                raise _Reject("unknown kid")
            if not isinstance(jku, str) or not self._jku_allowed_for(iss, jku):
                raise _Reject("jku not allowed")
            key = await self._remote_key(jku, kid)
        if not _key_fits_alg(key, alg):
            raise _Reject("key does not fit alg")
        return key

    def _jku_allowed_for(self, iss: str, jku: str) -> bool:
        """An issuer with bound jku URLs may use only those; any other issuer may use the
        global allowlist minus URLs bound to someone else."""
        bound = self._issuer_jku.get(iss)
        if bound is not None:
            return jku in bound
        return jku in self._jku_allowed and jku not in self._bound_jku

    def _configured_keys(self, iss: str) -> dict[str, _Key]:
        cached = self._issuer_keys.get(iss)
        if cached is not None:
            return cached
        source = self._config.issuer_jwks.get(iss)
        if source is None:
            return {}
        try:
            text = source if source.lstrip().startswith("{") else Path(source).read_text("utf-8")
            keys = _parse_jwk_set(json.loads(text))
        except (OSError, ValueError, RecursionError):
            # A configuration error: logged (without content) and retried on the next call.
            logger.error("configured JWK Set for a trusted issuer is unreadable or invalid")
            raise _Reject("issuer JWK Set unavailable") from None
        self._issuer_keys[iss] = keys
        return keys

    async def _remote_key(self, jku: str, kid: str) -> _Key:
        entry = self._remote.setdefault(jku, _RemoteSet())
        key = self._fresh_remote_key(entry, kid)
        if key is not None:
            return key
        async with entry.lock:
            # Another request may have refreshed the set while we waited.
            key = self._fresh_remote_key(entry, kid)
            if key is not None:
                return key
            key = await self._shared_remote_key(jku, entry, kid)
            if key is not None:
                return key
            if self._clock() - entry.attempted_at < JKU_REFETCH_MIN_INTERVAL_S:
                raise _Reject("unknown kid")
            entry.attempted_at = self._clock()
            entry.keys, body = await self._fetch_jwks(jku)
            entry.fetched_at = self._clock()
            await self._share_jwks(jku, body, entry.fetched_at)
        key = entry.keys.get(kid)
        if key is None:
            raise _Reject("unknown kid")
        return key

    async def _shared_remote_key(self, jku: str, entry: _RemoteSet, kid: str) -> _Key | None:
        """A set another worker fetched more recently than this one, if it is fresh."""
        if self._jwks_cache is None:
            return None
        try:
            shared = await self._jwks_cache.get(jku)
        except Exception as exc:  # noqa: BLE001 - fall back to fetching it ourselves
            logger.warning("shared JWK Set cache unavailable (%s)", type(exc).__name__)
            return None
        if shared is None or shared.fetched_at <= (entry.fetched_at or -math.inf):
            return None
        if self._clock() - shared.fetched_at >= self._config.jwks_cache_s:
            return None
        try:
            entry.keys = _parse_jwk_set(json.loads(shared.document))
        except (ValueError, RecursionError):
            return None
        entry.fetched_at = shared.fetched_at
        return entry.keys.get(kid)

    async def _share_jwks(self, jku: str, body: bytes, fetched_at: float) -> None:
        if self._jwks_cache is None:
            return
        try:
            await self._jwks_cache.put(jku, body, fetched_at)
        except Exception as exc:  # noqa: BLE001 - sharing is an optimisation
            logger.warning("shared JWK Set cache unavailable (%s)", type(exc).__name__)

    def _fresh_remote_key(self, entry: _RemoteSet, kid: str) -> _Key | None:
        if entry.fetched_at is None:
            return None
        if self._clock() - entry.fetched_at >= self._config.jwks_cache_s:
            return None
        return entry.keys.get(kid)

    async def _fetch_jwks(self, jku: str) -> tuple[dict[str, _Key], bytes]:
        """The keys of the JWK Set at ``jku``, and the document as fetched."""
        # Through the outbound guard: the address check after DNS, the call's deadline
        # and byte budget, raw-byte limits; no redirect (it would leave the allowlist); no
        # retry (the refetch interval above is this fetcher's retry policy).
        limits = FetchLimits(
            request_timeout_s=JKU_FETCH_TIMEOUT_S,
            max_bytes=JKU_MAX_BYTES,
            max_retries=0,
            max_redirects=0,
            default_deadline_s=JKU_FETCH_TIMEOUT_S,
        )

        def check(url: httpx.URL) -> httpx.URL:
            return parse_url(url, require_https=False)

        try:
            result = await fetch(
                self._http,
                check(httpx.URL(jku)),
                check=check,
                headers={"Accept": "application/json, application/jwk-set+json"},
                limits=limits,
            )
            if result.status != 200:
                raise _Reject("jku fetch failed")
            return _parse_jwk_set(json.loads(bytes(result.body))), bytes(result.body)
        except _Reject:
            logger.warning("JWK Set fetch from an allowlisted jku failed")
            raise
        except (OutboundError, httpx.InvalidURL, ValueError, RecursionError) as exc:
            logger.warning(
                "JWK Set fetch from an allowlisted jku failed: %s",
                exc.message if isinstance(exc, OutboundError) else type(exc).__name__,
            )
            raise _Reject("jku fetch failed") from None

    # -- signature and claims -------------------------------------------------------------

    @staticmethod
    def _verify_signature(token: str, key: _Key, alg: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[alg],
                options={
                    # Time and audience claims are checked below with the injected clock.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.InvalidSignatureError:
            raise _Reject("bad signature") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise _Reject("invalid token") from None
        if not isinstance(claims, dict):
            raise _Reject("invalid token")
        return claims

    def _check_claims(self, claims: dict[str, Any], iss: str, audience: str) -> None:
        now = self._clock()
        skew = self._config.clock_skew_s
        if claims.get("iss") != iss:
            raise _Reject("issuer not trusted")
        aud = claims.get("aud")
        auds = [aud] if isinstance(aud, str) else aud
        if not isinstance(auds, list) or not all(isinstance(a, str) for a in auds):
            raise _Reject("aud missing")
        # 2.0: aud "MUST be the URL of the CDS Service endpoint being invoked".
        if _norm_url(audience) not in {_norm_url(a) for a in auds}:
            raise _Reject("aud mismatch")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not _is_number(exp) or not _is_number(iat):
            raise _Reject("exp or iat missing")
        exp, iat = float(exp), float(iat)  # type: ignore[arg-type]
        # Comparisons are written so that any odd value fails them (fail closed).
        if not now < exp + skew:
            raise _Reject("token expired")
        if not iat <= now + skew:
            raise _Reject("iat in the future")
        if "nbf" in claims and not (_is_number(claims["nbf"]) and claims["nbf"] <= now + skew):
            raise _Reject("token not yet valid")
        if exp < iat:
            raise _Reject("exp before iat")
        if exp - iat > self._config.max_token_lifetime_s:
            raise _Reject("token lifetime too long")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise _Reject("jti missing")

    async def _remember_jti(self, iss: str, claims: dict[str, Any]) -> None:
        """Claim the jti until the token can no longer be valid (exp + skew): one atomic
        set-if-absent, so of two workers seeing the same token only one accepts it."""
        until = float(claims["exp"]) + self._config.clock_skew_s
        try:
            first = await self._replay.first_use(jti_key(iss, claims["jti"]), until, self._clock())
        except ReplayCacheFull:
            logger.warning("JWT replay cache full; rejecting new tokens")
            raise _Reject("replay cache full") from None
        except Exception as exc:  # the shared store is down: fail closed
            logger.error("JWT replay cache unavailable (%s); rejecting", type(exc).__name__)
            raise _Reject("replay cache unavailable") from None
        if not first:
            raise _Reject("jti replayed")
