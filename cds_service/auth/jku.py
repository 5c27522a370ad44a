"""JWK Sets fetched from an allowlisted ``jku`` URL, cached per URL.

* The fetch goes through the outbound guard (``cds_service.outbound``): the address check
  after DNS, the call's deadline and byte budget, raw-byte limits. Redirects are not
  followed (a redirect would leave the allowlist) and a failed fetch is not retried: the
  refetch interval is this fetcher's retry policy.
* A set is refetched on an unknown ``kid`` at most every :data:`JKU_REFETCH_MIN_INTERVAL_S`
  whatever unknown kids arrive (anti-hammering), and when older than ``jwks_cache_s``.
* Documents are shared through the state layer's JWK Set cache, so one fetch serves every
  worker; a shared document is parsed and checked like a fetched one.

Whether a ``jku`` may be used at all is decided by :mod:`.key_sources` before this runs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from cds_service.errors import OutboundError
from cds_service.outbound import FetchLimits, parse_url
from cds_service.outbound import fetch as guarded_fetch

from .jwk import KeySet, VerificationKey, parse_jwk_set
from .reject import Reject

if TYPE_CHECKING:
    from cds_service.state.jwks import JwksCache

logger = logging.getLogger(__name__)

JKU_FETCH_TIMEOUT_S = 5.0
JKU_MAX_BYTES = 256 * 1024
# Do not refetch a jku more often than this, whatever unknown kids arrive (anti-hammering).
JKU_REFETCH_MIN_INTERVAL_S = 30.0

_LIMITS = FetchLimits(
    request_timeout_s=JKU_FETCH_TIMEOUT_S,
    max_bytes=JKU_MAX_BYTES,
    max_retries=0,
    max_redirects=0,
    default_deadline_s=JKU_FETCH_TIMEOUT_S,
)


@dataclass
class _RemoteSet:
    """Cache entry for one ``jku``."""

    keys: KeySet = field(default_factory=dict)
    fetched_at: float | None = None  # last successful fetch
    attempted_at: float = -math.inf  # last fetch attempt, successful or not
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class JkuKeySets:
    """Keys from remote JWK Sets; one instance per verifier (it owns the per-URL cache)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        clock: Callable[[], float],
        cache_s: int,
        shared: JwksCache | None = None,
    ) -> None:
        self._http = http
        self._clock = clock
        self._cache_s = cache_s
        self._shared = shared
        self._remote: dict[str, _RemoteSet] = {}

    async def key(self, jku: str, kid: str) -> VerificationKey:
        """The key ``kid`` of the set at ``jku`` (already allowed), fetching if needed."""
        entry = self._remote.setdefault(jku, _RemoteSet())
        key = self._fresh_key(entry, kid)
        if key is not None:
            return key
        async with entry.lock:
            # Another request may have refreshed the set while we waited.
            key = self._fresh_key(entry, kid)
            if key is not None:
                return key
            key = await self._shared_key(jku, entry, kid)
            if key is not None:
                return key
            if self._clock() - entry.attempted_at < JKU_REFETCH_MIN_INTERVAL_S:
                raise Reject("unknown kid")
            entry.attempted_at = self._clock()
            entry.keys, body = await self.fetch(jku)
            entry.fetched_at = self._clock()
            await self._share(jku, body, entry.fetched_at)
        key = entry.keys.get(kid)
        if key is None:
            raise Reject("unknown kid")
        return key

    def _fresh_key(self, entry: _RemoteSet, kid: str) -> VerificationKey | None:
        if entry.fetched_at is None:
            return None
        if self._clock() - entry.fetched_at >= self._cache_s:
            return None
        return entry.keys.get(kid)

    async def _shared_key(self, jku: str, entry: _RemoteSet, kid: str) -> VerificationKey | None:
        """A set another worker fetched more recently than this one, if it is fresh."""
        if self._shared is None:
            return None
        try:
            shared = await self._shared.get(jku)
        except Exception as exc:  # noqa: BLE001 - fall back to fetching it ourselves
            logger.warning("shared JWK Set cache unavailable (%s)", type(exc).__name__)
            return None
        if shared is None or shared.fetched_at <= (entry.fetched_at or -math.inf):
            return None
        if self._clock() - shared.fetched_at >= self._cache_s:
            return None
        try:
            entry.keys = parse_jwk_set(json.loads(shared.document))
        except (ValueError, RecursionError):
            return None
        entry.fetched_at = shared.fetched_at
        return entry.keys.get(kid)

    async def _share(self, jku: str, body: bytes, fetched_at: float) -> None:
        if self._shared is None:
            return
        try:
            await self._shared.put(jku, body, fetched_at)
        except Exception as exc:  # noqa: BLE001 - sharing is an optimisation
            logger.warning("shared JWK Set cache unavailable (%s)", type(exc).__name__)

    async def fetch(self, jku: str) -> tuple[KeySet, bytes]:
        """The keys of the JWK Set at ``jku``, and the document as fetched."""

        def check(url: httpx.URL) -> httpx.URL:
            return parse_url(url, require_https=False)

        try:
            result = await guarded_fetch(
                self._http,
                check(httpx.URL(jku)),
                check=check,
                headers={"Accept": "application/json, application/jwk-set+json"},
                limits=_LIMITS,
            )
            if result.status != 200:
                raise Reject("jku fetch failed")
            body = bytes(result.body)
            return parse_jwk_set(json.loads(body)), body
        except Reject:
            logger.warning("JWK Set fetch from an allowlisted jku failed")
            raise
        except (OutboundError, httpx.InvalidURL, ValueError, RecursionError) as exc:
            logger.warning(
                "JWK Set fetch from an allowlisted jku failed: %s",
                exc.message if isinstance(exc, OutboundError) else type(exc).__name__,
            )
            raise Reject("jku fetch failed") from None
