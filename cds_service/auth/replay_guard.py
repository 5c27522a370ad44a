"""Each ``jti`` is accepted once while its token could still be valid.

The cache is shared by every worker and replica (``cds_service.state.replay``: the
database or Redis, one atomic set-if-absent per token); the in-process default fails
closed when full (rejects new tokens) rather than evicting entries, since eviction would
let an evicted ``jti`` be replayed. A shared store that is down also fails closed.
"""

from __future__ import annotations

import logging
from typing import Any

from cds_service.state.replay import ReplayCache, ReplayCacheFull, jti_key

from .reject import Reject

logger = logging.getLogger(__name__)


class ReplayGuard:
    def __init__(self, cache: ReplayCache, clock_skew_s: int) -> None:
        self._cache = cache
        self._skew = clock_skew_s

    async def claim(self, iss: str, claims: dict[str, Any], now: float) -> None:
        """Claim the jti until the token can no longer be valid (exp + skew): of two
        workers seeing the same token only one accepts it."""
        until = float(claims["exp"]) + self._skew
        try:
            first = await self._cache.first_use(jti_key(iss, claims["jti"]), until, now)
        except ReplayCacheFull:
            logger.warning("JWT replay cache full; rejecting new tokens")
            raise Reject("replay cache full") from None
        except Exception as exc:  # the shared store is down: fail closed
            logger.error("JWT replay cache unavailable (%s); rejecting", type(exc).__name__)
            raise Reject("replay cache unavailable") from None
        if not first:
            raise Reject("jti replayed")
