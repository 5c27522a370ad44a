"""Where the key that verifies a token comes from, and which sources a token may name.

Order: the ``kid`` in the issuer's configured JWK Set (file or inline JSON); else, if the
header names a ``jku`` this issuer may use, the set fetched from it (:mod:`.jku`). The
key must then fit the header's ``alg`` (:func:`.jwk.key_fits_alg`).

``jku`` URLs can be bound to an issuer (``issuer_jku``): a bound URL serves only its
issuer, and an issuer with bound URLs may use only those; the global allowlist
(``jku_allowlist``, exact match) serves the others.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from .config import AuthConfig
from .jku import JkuKeySets
from .jwk import KeySet, VerificationKey, key_fits_alg, parse_jwk_set
from .reject import Reject

if TYPE_CHECKING:
    from cds_service.state.jwks import JwksCache

logger = logging.getLogger(__name__)


class ConfiguredKeySets:
    """The JWK Sets configured per issuer, parsed on first use and kept."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self._sources = sources
        self._parsed: dict[str, KeySet] = {}

    def keys(self, iss: str) -> KeySet:
        cached = self._parsed.get(iss)
        if cached is not None:
            return cached
        source = self._sources.get(iss)
        if source is None:
            return {}
        try:
            text = source if source.lstrip().startswith("{") else Path(source).read_text("utf-8")
            keys = parse_jwk_set(json.loads(text))
        except (OSError, ValueError, RecursionError):
            # A configuration error: logged (without content) and retried on the next call.
            logger.error("configured JWK Set for a trusted issuer is unreadable or invalid")
            raise Reject("issuer JWK Set unavailable") from None
        self._parsed[iss] = keys
        return keys


class JkuPolicy:
    """Which ``jku`` URLs an issuer's tokens may name (exact string match)."""

    def __init__(self, config: AuthConfig) -> None:
        self._allowed = frozenset(config.jku_allowlist)
        self._by_issuer = {iss: frozenset(urls) for iss, urls in config.issuer_jku.items()}
        self._bound = frozenset(u for urls in config.issuer_jku.values() for u in urls)

    def allows(self, iss: str, jku: str) -> bool:
        """An issuer with bound jku URLs may use only those; any other issuer may use the
        global allowlist minus URLs bound to someone else."""
        bound = self._by_issuer.get(iss)
        if bound is not None:
            return jku in bound
        return jku in self._allowed and jku not in self._bound


class KeySources:
    """Resolves the verification key for a token's ``kid``/``jku``/``alg``."""

    def __init__(
        self,
        config: AuthConfig,
        http: httpx.AsyncClient,
        clock: Callable[[], float],
        jwks_cache: JwksCache | None = None,
    ) -> None:
        self._configured = ConfiguredKeySets(config.issuer_jwks)
        self._policy = JkuPolicy(config)
        self._remote = JkuKeySets(http, clock, config.jwks_cache_s, jwks_cache)

    async def resolve(self, iss: str, header: dict[str, Any]) -> VerificationKey:
        kid: str = header["kid"]
        alg: str = header["alg"]
        key = self._configured.keys(iss).get(kid)
        if key is None:
            jku = header.get("jku")
            if jku is None:
                raise Reject("unknown kid")
            if not isinstance(jku, str) or not self._policy.allows(iss, jku):
                raise Reject("jku not allowed")
            key = await self._remote.key(jku, kid)
        if not key_fits_alg(key, alg):
            raise Reject("key does not fit alg")
        return key
