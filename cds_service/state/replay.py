"""Replay cache: a client JWT's ``jti`` is accepted once while the token could be valid.

CDS Hooks 2.0 "Trusting CDS Clients": ``jti`` is "a nonce string value that uniquely
identifies this authentication JWT"; a replayed one is refused. With several workers or
replicas the cache must be shared, so the verifier only talks to this interface:

* :class:`cds_service.state.sql.SqlReplayCache` - the shared database (the default);
* :class:`cds_service.state.redis_backend.RedisReplayCache` - Redis, ``SET NX PX``;
* :class:`MemoryReplayCache` - one process only (the verifier's default when nothing is
  shared, e.g. in unit tests).

Every backend's ``first_use`` is one atomic set-if-absent with expiry.
"""

from __future__ import annotations

import heapq
from typing import Protocol

DEFAULT_REPLAY_CACHE_SIZE = 100_000


class ReplayCacheFull(Exception):
    """The cache cannot take another entry; the caller fails closed (rejects the token)."""


class ReplayCache(Protocol):
    async def first_use(self, key: str, expires_at: float, now: float) -> bool:
        """Record ``key`` until ``expires_at`` (Unix time) and return True, unless it is
        already recorded with an expiry after ``now``: then return False (a replay)."""
        ...


def jti_key(issuer: str, jti: str) -> str:
    """The cache key of a token id: ``jti`` is unique per issuer, not globally."""
    return f"{issuer}\n{jti}"


class MemoryReplayCache:
    """A bounded per-process cache. Full means fail closed: evicting an entry early
    would make its token replayable."""

    def __init__(self, max_entries: int = DEFAULT_REPLAY_CACHE_SIZE) -> None:
        self._max = max_entries
        self._until: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    async def first_use(self, key: str, expires_at: float, now: float) -> bool:
        while self._heap and self._heap[0][0] <= now:
            _, old = heapq.heappop(self._heap)
            if old in self._until and self._until[old] <= now:
                del self._until[old]
        if self._until.get(key, -float("inf")) > now:
            return False
        if len(self._until) >= self._max:
            raise ReplayCacheFull
        self._until[key] = expires_at
        heapq.heappush(self._heap, (expires_at, key))
        return True
