"""The verifier the web layer calls: one instance per application (it owns the caches)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from cds_service.errors import Unauthorized
from cds_service.state.replay import DEFAULT_REPLAY_CACHE_SIZE, MemoryReplayCache, ReplayCache

from .claims import ClaimChecks, trusted_issuer, verify_signature
from .config import AuthConfig
from .key_sources import KeySources
from .reject import Reject
from .replay_guard import ReplayGuard
from .token import bearer_token, parse_unverified

if TYPE_CHECKING:
    from cds_service.state.jwks import JwksCache

logger = logging.getLogger(__name__)


def _safe_for_log(value: Any) -> str:
    """Short printable rendering of an identifier (jti) for log lines."""
    if not isinstance(value, str):
        return "-"
    text = value if len(value) <= 64 else value[:64] + "..."
    return text.encode("ascii", "backslashreplace").decode("ascii").replace("\n", "\\n")


class JwtVerifier:
    """Verifies CDS Client JWTs (see the package docstring for the order of checks)."""

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
        self._clock = clock
        self._trusted = frozenset(config.trusted_issuers)
        self._keys = KeySources(config, http, clock, jwks_cache)
        self._claims = ClaimChecks(config)
        # Shared across workers when the app passes the state layer's cache.
        self._replay = ReplayGuard(
            replay_cache or MemoryReplayCache(replay_cache_size), config.clock_skew_s
        )

    async def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """Verify the raw ``Authorization`` header for a call to ``audience`` (exact endpoint URL).

        Returns the token's claims, or raises :class:`Unauthorized` with a short reason.
        """
        iss: str | None = None
        jti: Any = None
        try:
            token = parse_unverified(bearer_token(authorization))
            iss = trusted_issuer(token.payload, self._trusted)
            jti = token.payload.get("jti")
            key = await self._keys.resolve(iss, token.header)
            claims = verify_signature(token.compact, key, token.alg)
            self._claims.check(claims, iss, audience, self._clock())
            await self._replay.claim(iss, claims, self._clock())
        except Reject as rejected:
            logger.info(
                "client JWT rejected: %s (iss=%s, jti=%s)",
                rejected.reason,
                iss or "-",
                _safe_for_log(jti) if iss else "-",
            )
            raise Unauthorized(rejected.reason) from None
        logger.debug("client JWT accepted (iss=%s, jti=%s)", iss, _safe_for_log(jti))
        return claims
